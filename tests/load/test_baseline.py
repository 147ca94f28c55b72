"""Where the baseline comes from: a stored file under the same load, or a stable bot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from goldgate.criteria.load import LoadMeasurement, RouteSpread, p95_within_baseline
from goldgate.load import baseline
from goldgate.load.limits import DEFAULTS as LIMITS
from goldgate.load.plan import LoadPlan
from goldgate.load.records import RequestRecord
from goldgate.load.runner import LoadResult
from goldgate.probes.server_timings import ServerTimings
from goldgate.verdict import Status


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


def test_stored_baseline_keeps_server_p95_and_client_floor(tmp_path: Path) -> None:
    server = ServerTimings(0.0214, 395, "histogram of the stable bot", "/api/.*")
    path = baseline.save(tmp_path / "b.json", _result(tmp_path), server=server)
    data = json.loads(path.read_text())
    assert data["server"]["p95_ms"] == 21.4 and data["client"]["cheapest_route"] == "GET /api/v1/signal"
    m = baseline.load(path, LoadPlan("http://127.0.0.1:2", rate_rps=40, duration_s=8))
    assert m.server is not None and m.server.usable and abs(m.server.p95_s - 0.0214) < 1e-12
    assert m.server.requests == 395 and str(path) in m.server.source
    assert m.client is not None and m.client.p95_ms == 29 and m.client.cheapest_min_ms == 20
    # every route's spread travels with it: the stored run's queueing
    assert m.client.spreads == (RouteSpread("GET /api/v1/signal", 400, 29.0, 20.0),)
    for junk in ([{"route": "GET /health", "answers": -3, "p95_ms": 3, "fastest_ms": 1}], [{"answers": True}],
                 [{"route": "x", "answers": 30, "p95_ms": "slow", "fastest_ms": 1}], ["junk"], "junk"):
        data["client"]["spreads"] = junk
        (tmp_path / "junk.json").write_text(json.dumps(data))
        c = baseline.load(tmp_path / "junk.json", LoadPlan("http://127.0.0.1:2", rate_rps=40, duration_s=8)).client
        assert c is not None and c.spreads == ()
    # a refused server reading is not stored as a number
    unusable = ServerTimings(None, 0, "x", error="the process changed between the scrapes")
    assert "server" not in json.loads(baseline.save(tmp_path / "c.json", _result(tmp_path), unusable).read_text())


def test_a_stored_baseline_from_before_server_timings_loads_and_is_inconclusive(tmp_path: Path) -> None:
    old = {"label": "stable", "model": "open", "rate_rps": 40, "requests": 400, "errors": 0, "p95_ms": 29.0}
    (tmp_path / "old.json").write_text(json.dumps(old))
    m = baseline.load(tmp_path / "old.json", LoadPlan("http://127.0.0.1:2", rate_rps=40))
    assert m.server is None and m.client is None and m.p95_ms == 29.0
    release = LoadMeasurement("release", "open", 400, 0, 40.0, planned=400, generator_cpu=10.0,
                              send_lag_p95_ms=1.0)
    v = p95_within_baseline(release, m, 2, min_requests=50, limits=LIMITS,
                            release_server=ServerTimings(0.035, 380, "pods"))
    assert v.status is Status.INCONCLUSIVE and "without a measured overhead floor" in v.reason
    # a broken server entry is named, and does not make the old client p95 a pass
    (tmp_path / "broken.json").write_text(json.dumps({**old, "server": {"p95_ms": "fast"}}))
    broken = baseline.load(tmp_path / "broken.json", LoadPlan("http://127.0.0.1:2", rate_rps=40))
    assert broken.server is not None and "not usable" in broken.server.error
    v = p95_within_baseline(release, broken, 2, min_requests=50, limits=LIMITS)
    assert v.status is Status.INCONCLUSIVE and "not usable" in v.reason


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
