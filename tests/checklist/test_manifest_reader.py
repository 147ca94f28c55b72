"""One release-manifest reader for the checklist and change management: tolerant of layout,
strict about meaning."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from goldgate.criteria import operational
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.manifest import read_manifest
from goldgate.report.change import change_problems
from goldgate.verdict import Status

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _write(tmp_path: Path, doc: dict[str, object]) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_unreadable_or_repeated_approvals_do_not_count(tmp_path: Path) -> None:
    path = _write(tmp_path, {"version": "v1.2.0", "author": "alice", "approvals": [
        "bob", {"name": "Bob"}, 42, {"name": ""}, {"approved_at": "2026-11-25T10:00:00Z"}, "alice", {"approver": "chen"}]})
    m = read_manifest(path)
    assert m.independent_approvers() == ["bob", "chen"]
    assert operational.approvals(m, 2).status is Status.PASS
    short = operational.approvals(m, 3)
    assert short.status is Status.FAIL and (short.observed, short.threshold) == (2, 3)
    assert "2 independent approval(s) [bob, chen], need 3" in short.reason


def test_window_as_one_string_and_fields_under_release(tmp_path: Path) -> None:
    path = _write(tmp_path, {"release": {"version": "v1.2.0", "author": {"name": "alice"}, "change": "CHG-2026-1",
                                         "deployment_window": "2026-11-26T11:00:00Z/2026-11-26T13:00:00Z"}})
    m = read_manifest(path)
    assert (m.author, m.change_ticket) == ("alice", "CHG-2026-1")
    assert operational.inside_window(m, T0).status is Status.PASS
    late = operational.inside_window(m, T0 + dt.timedelta(hours=2))
    assert late.status is Status.FAIL and "closed" in late.reason


@pytest.mark.parametrize(("window", "cause"), [
    ({"start": "2026-11-26T11:00:00", "end": "2026-11-26T13:00:00Z"}, "deployment_window.start: '2026-11-26T11:00:00' has no time zone"),
    ("tomorrow/after", "deployment_window.start: not an ISO-8601 time: 'tomorrow'"),
    ("all day", "deployment_window: expected {start, end} or 'START/END', got 'all day'"),
])
def test_a_window_that_cannot_be_read_is_an_error_and_refuses_the_change(tmp_path: Path, window: object, cause: str) -> None:
    path = _write(tmp_path, {"version": "v1", "author": "a", "approvals": ["b", "c"], "deployment_window": window})
    with pytest.raises(ArtifactUnavailable, match=re.escape(cause)):
        read_manifest(path)
    problems, read = change_problems(path, version="v1", change="CHG-1", now=T0)
    assert read is None and problems == [f"cannot read the release manifest: {path}: {cause}"]


def test_on_call_as_a_list_assigns_no_role(tmp_path: Path) -> None:
    m = read_manifest(_write(tmp_path, {"version": "v1", "author": "a", "on_call": ["carol"]}))
    verdict = operational.on_call(m, ["primary"])
    assert verdict.status is Status.FAIL and "on_call.primary not assigned" in verdict.reason
