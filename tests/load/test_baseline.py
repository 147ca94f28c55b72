"""Where the baseline comes from: a stored file under the same load, or a stable bot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from goldgate.load import baseline
from goldgate.load.plan import LoadPlan
from goldgate.load.records import RequestRecord
from goldgate.load.runner import LoadResult


def _result(tmp_path: Path) -> LoadResult:
    recs = [RequestRecord(t=1000 + i / 40, name="GET /api/v1/signal", ms=20 + i % 10, ok=True, status=200)
            for i in range(400)]
    return LoadResult(plan=LoadPlan("http://127.0.0.1:1", rate_rps=40, duration_s=10, label="stable"),
                      records=recs, started=1000, elapsed_s=10, stop_reason="timetable complete", aborted=None,
                      cpu_percent={}, summaries=[], results_dir=tmp_path, html_report=None)


def test_stored_baseline_round_trip(tmp_path: Path) -> None:
    path = baseline.save(tmp_path / "baselines" / "local.json", _result(tmp_path))
    m = baseline.load(path, LoadPlan("http://127.0.0.1:2", rate_rps=40, duration_s=8))
    assert m.p95_ms == 29 and m.requests == 400 and "stored baseline" in m.label
    assert m.evidence[0].query == str(path)


def test_stored_baseline_under_another_load_is_refused(tmp_path: Path) -> None:
    path = baseline.save(tmp_path / "b.json", _result(tmp_path))
    with pytest.raises(baseline.BaselineError, match="not the same load"):
        baseline.load(path, LoadPlan("http://127.0.0.1:2", rate_rps=80))
    with pytest.raises(baseline.BaselineError, match="not the same load"):
        baseline.load(path, LoadPlan("http://127.0.0.1:2", model="closed"))


def test_missing_or_broken_baseline_file_says_why(tmp_path: Path) -> None:
    with pytest.raises(baseline.BaselineError, match="cannot read"):
        baseline.load(tmp_path / "none.json", LoadPlan("http://127.0.0.1:2"))
    (tmp_path / "bad.json").write_text(json.dumps({"model": "open"}))
    with pytest.raises(baseline.BaselineError, match="not usable"):
        baseline.load(tmp_path / "bad.json", LoadPlan("http://127.0.0.1:2"))


@pytest.mark.sandbox
def test_stable_sandbox_bot_runs_the_previous_version_without_faults_and_stops(monkeypatch) -> None:
    monkeypatch.setenv("FAULT_LATENCY_MS", "900")  # a fault of the release must not leak into the baseline
    from goldgate.sandbox.stable_bot import stable_bot

    with stable_bot("v1.1.0") as url:
        assert requests.get(url + "/version", timeout=5).json()["version"] == "v1.1.0"
        r = requests.get(url + "/api/v1/signal", params={"symbol": "XAUUSD"}, timeout=5)
        assert r.status_code == 200 and r.elapsed.total_seconds() < 0.5
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/health", timeout=2)
