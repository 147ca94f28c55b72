"""Guide §11.2: a mutating production run needs --change and two independent approvals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from goldgate.probes.artifacts.manifest import read_manifest
from goldgate.report import audit
from goldgate.report.change import change_problems
from tests.report.conftest import read_json

Project = Callable[..., pytest.Pytester]

PRODUCTION = """\
name: production
production: true
kubernetes: {{kubeconfig: /nonexistent/kubeconfig, context: production}}
http: {{base_url: "http://127.0.0.1:9"}}
release: {{version: v1.2.0, manifest: {manifest}}}
"""

MANIFEST = """\
version: v1.2.0
author: alice
change_ticket: CHG-123
deployment_window: {{start: "2000-01-01T00:00:00Z", end: "2999-01-01T00:00:00Z"}}
on_call: [carol]
approvals:
{approvals}
"""


def _manifest(path: Path, *names: str, **fields: str) -> Path:
    approvals = "\n".join(f"  - {{name: {n}, approved_at: '2026-11-25T10:00:00Z'}}" for n in names) or "  []"
    text = MANIFEST.format(approvals=approvals)
    for key, value in fields.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines())
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def production(gg_project: Project) -> Callable[..., pytest.Pytester]:
    def _make(*approvers: str, **fields: str) -> pytest.Pytester:
        p = gg_project("passing")
        manifest = _manifest(p.path / "release.yaml", *approvers, **fields)
        (p.path / "environments" / "production.yaml").write_text(PRODUCTION.format(manifest=manifest), encoding="utf-8")
        return p

    return _make


def test_mutating_production_run_without_change_or_approvals_is_refused(production: Callable[..., pytest.Pytester]) -> None:
    p = production("alice")  # the author approving her own release does not count
    result = p.runpytest("--env=production", "--allow-mutations")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "refusing a mutating run" in err
    assert "pass --change=TICKET" in err
    assert "0 independent approval(s) [none], need 2 (the author's own approval does not count)" in err
    result.stdout.no_fnmatch_line("*passed*")  # nothing ran
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO" and doc["refused"] is True
    [rec] = audit.read_records(p.path / "reports" / "audit.jsonl")
    assert rec["status"]["decision"] == "NO-GO" and rec["status"]["reasons"][0].startswith("refused:")
    assert rec["where"]["production"] is True


def test_change_ticket_alone_is_not_enough(production: Callable[..., pytest.Pytester]) -> None:
    p = production("alice", "bob")
    result = p.runpytest("--env=production", "--allow-mutations", "--change=CHG-123")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "1 independent approval(s) [bob], need 2" in result.stderr.str()


def test_ticket_must_match_the_manifest(production: Callable[..., pytest.Pytester]) -> None:
    p = production("bob", "dave")
    result = p.runpytest("--env=production", "--allow-mutations", "--change=CHG-999")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--change=CHG-999 does not match the manifest's change_ticket CHG-123" in result.stderr.str()


def test_approved_change_may_run_and_is_audited(production: Callable[..., pytest.Pytester]) -> None:
    p = production("bob", "dave", "Bob")
    result = p.runpytest("--env=production", "--allow-mutations", "--change=CHG-123")
    assert result.ret == 0, result.stderr.str()
    [rec] = audit.read_records(p.path / "reports" / "audit.jsonl")
    assert rec["why"]["change"] == "CHG-123"
    assert rec["why"]["approvals"]["approvers"] == ["bob", "dave"]
    assert rec["where"]["kube_context"] == "production"


def test_read_only_production_run_needs_no_approval(production: Callable[..., pytest.Pytester]) -> None:
    p = production()
    assert p.runpytest("--env=production").ret == 0


def test_manifest_for_another_version_is_refused(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "m.yaml", "bob", "dave", version="v1.3.0")
    problems, _ = change_problems(path, version="v1.2.0", change="CHG-123")
    assert problems == [f"release manifest {path}: approves version v1.3.0, but the version under test is v1.2.0"]


def test_closed_deployment_window_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: v1\nauthor: a\napprovals: [b, c]\ndeployment_window: 2026-01-01T00:00Z/2026-01-01T02:00Z\n")
    now = dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)
    problems, manifest = change_problems(path, version="v1", change="CHG-1", now=now)
    assert manifest is not None and manifest.independent_approvers() == ["b", "c"]
    assert len(problems) == 1 and problems[0].startswith("outside the deployment window")
    assert change_problems(path, version="v1", change="CHG-1", now=now - dt.timedelta(hours=2))[0] == []


def test_missing_or_broken_manifest_is_a_reason(tmp_path: Path) -> None:
    problems, _ = change_problems(tmp_path / "absent.yaml", version="v1", change="CHG-1")
    assert "cannot read" in problems[0]
    (tmp_path / "bad.yaml").write_text("approvals: [\n")
    assert "YAML syntax error" in change_problems(tmp_path / "bad.yaml", version="v1", change="CHG-1")[0][0]
    assert "no release manifest" in change_problems(None, version="v1", change="CHG-1")[0][0]


def test_unreadable_approval_entries_do_not_count(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("author: a\napprovals: [{approved_at: '2026-01-01'}, 42, {name: ''}, {name: b}]\n")
    assert read_manifest(path).independent_approvers() == ["b"]


def _approved_by(tmp_path: Path, author: str, *names: str) -> Path:
    path = tmp_path / "release.yaml"
    listed = "".join(f"\n  - {n}" for n in names) if names else " []"
    path.write_text(f"version: v1.2.0\nauthor: {author}\napprovals:{listed}\n")
    return path


def test_the_number_of_approvals_is_the_environments(tmp_path: Path) -> None:
    path = _approved_by(tmp_path, "alice", "bob", "dave")
    assert change_problems(path, version="v1.2.0", change=None)[0] == []
    problems, _ = change_problems(path, version="v1.2.0", change=None, min_approvals=3)
    assert problems and "2 independent approval(s) [bob, dave], need 3" in problems[0]


def test_change_management_and_the_checklist_apply_one_approval_rule(tmp_path: Path) -> None:
    from goldgate.criteria.operational import approvals

    for author, names in (("alice", ("alice", "bob")), ("", ("bob", "dave")), ("alice", ("bob", "dave"))):
        path = _approved_by(tmp_path, author or "''", *names)
        verdict = approvals(read_manifest(path), 2)
        problems, _ = change_problems(path, version="v1.2.0", change=None)
        assert (problems == []) is verdict.ok, (author, names, problems, verdict.message())
        if problems:
            assert verdict.reason in problems[0]
