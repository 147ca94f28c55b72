"""The request-log reader: the exact durations the bucketed quantiles are held against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.requestlog import server_durations_ms


def _log(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_only_requests_in_the_window_and_under_the_route_count(tmp_path: Path) -> None:
    log = _log(tmp_path / "requests.jsonl",
               {"ts": 10.0, "route": "/api/v1/signal", "duration_ms": 30},
               {"ts": 9.9, "route": "/api/v1/signal", "duration_ms": 999},  # before the window
               {"ts": 11.0, "route": "/metrics", "duration_ms": 500},  # not a signal request
               {"ts": 12.0, "route": "/api/v1/signal", "duration_ms": 20.5})
    assert server_durations_ms(log, since=10.0, route_prefix="/api/") == [20.5, 30.0]
    assert server_durations_ms(log) == [20.5, 30.0, 500.0, 999.0]


def test_unreadable_log_is_unavailable_naming_path_and_line(tmp_path: Path) -> None:
    log = _log(tmp_path / "requests.jsonl", {"ts": 1, "route": "/api/v1/signal", "duration_ms": 3})
    with log.open("a", encoding="utf-8") as f:
        f.write('{"ts": 2, "route": "/api/v1/signal"}\n')
    with pytest.raises(ArtifactUnavailable, match=r"requests\.jsonl: line 2: not a request record"):
        server_durations_ms(log)
    with pytest.raises(ArtifactUnavailable, match=r"absent\.jsonl: request log not found"):
        server_durations_ms(tmp_path / "absent.jsonl")
