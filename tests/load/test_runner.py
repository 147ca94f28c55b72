"""The runner against a real bot: bounds, both traffic models, distributed mode, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadRunError, LoadRunner

from .conftest import locust_processes_for

pytestmark = pytest.mark.sandbox


def test_open_model_sends_the_timetable_and_records_every_request(start_bot, run_load) -> None:
    url = start_bot()
    result = run_load(LoadPlan(url, rate_rps=40, duration_s=3, timeout_s=3))
    s = result.stats
    assert result.stop_reason == "timetable complete"
    assert s.requests == 120 and s.failures == 0
    assert {row.name for row in s.rows} >= {"GET /api/v1/signal", "POST /api/v1/orders"}
    assert all(r.lag is not None for r in result.records)
    assert result.html_report is not None and "locust" in result.html_report.read_text().lower()
    assert result.generator_cpu() is not None


def test_hard_request_cap_stops_a_long_closed_run(start_bot, run_load) -> None:
    url = start_bot()
    t0 = time.monotonic()
    result = run_load(LoadPlan(url, model="closed", users=5, spawn_rate=50, duration_s=60, max_requests=60,
                               think_time_s=(0.01, 0.02)))
    assert time.monotonic() - t0 < 20
    assert result.stats.requests == 60
    assert result.stop_reason == "request cap of 60 reached"


def test_closed_model_stops_at_its_duration(start_bot, run_load) -> None:
    url = start_bot()
    t0 = time.monotonic()
    result = run_load(LoadPlan(url, model="closed", users=3, spawn_rate=10, duration_s=3))
    assert time.monotonic() - t0 < 3 + 10
    assert result.stop_reason == "duration elapsed"
    assert result.stats.requests > 20


def test_distributed_master_and_workers_give_the_same_result_shape(start_bot, run_load) -> None:
    url = start_bot()
    result = run_load(LoadPlan(url, rate_rps=40, duration_s=4, workers=2, timeout_s=3))
    assert result.stats.requests == 160 and result.stats.failures == 0
    assert len(list(result.results_dir.glob("requests-*.jsonl"))) == 2  # one file per worker
    assert len(result.exit_codes) == 3
    assert result.html_report is not None


def test_unreachable_target_fails_every_request_not_the_runner(run_load) -> None:
    result = run_load(LoadPlan("http://127.0.0.1:9", rate_rps=20, duration_s=2, timeout_s=1))
    assert result.stats.failures == result.stats.requests == 40
    assert result.stats.failures_by_cause[0][2] > 0


def test_a_generator_that_cannot_start_is_a_load_run_error(tmp_path: Path) -> None:
    bad = tmp_path / "locustfile.py"
    bad.write_text("raise SystemExit('broken locustfile')\n")
    with pytest.raises(LoadRunError, match="no request"):
        LoadRunner(LoadPlan("http://127.0.0.1:9", duration_s=1), results_dir=tmp_path / "r", locustfile=bad).run()
    assert locust_processes_for(tmp_path / "r") == []


def test_ctrl_c_stops_the_run_and_leaves_no_process(start_bot, tmp_path: Path) -> None:
    url = start_bot()
    results = tmp_path / "interrupted"
    script = textwrap.dedent(f"""
        from goldgate.load.plan import LoadPlan
        from goldgate.load.runner import LoadRunner
        try:
            LoadRunner(LoadPlan({url!r}, rate_rps=20, duration_s=60, workers=1), results_dir={str(results)!r}).run()
        except KeyboardInterrupt:
            raise SystemExit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not list(results.glob("requests-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    assert len(locust_processes_for(results)) == 2  # master and worker are running
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=20) == 130
    assert locust_processes_for(results) == []


def test_hard_deadline_kills_a_generator_that_ignores_its_run_time(tmp_path: Path, monkeypatch) -> None:
    import goldgate.load.runner as runner_mod

    monkeypatch.setattr(runner_mod, "STARTUP_GRACE_S", 1.0)
    monkeypatch.setattr(runner_mod, "STOP_GRACE_S", 1.0)
    stubborn = tmp_path / "stubborn.sh"
    stubborn.write_text("#!/bin/sh\ntrap '' INT TERM\nsleep 300 &\nwait\nwait\n")
    stubborn.chmod(0o755)
    runner = LoadRunner(LoadPlan("http://127.0.0.1:9", duration_s=1, timeout_s=1), results_dir=tmp_path / "r",
                        python=str(stubborn))
    t0 = time.monotonic()
    with pytest.raises(LoadRunError, match="hard duration limit reached"):
        runner.run()
    assert time.monotonic() - t0 < 10
    pgid = runner._procs[0].pid
    time.sleep(0.5)  # let the orphaned child's new parent reap it

    def alive_in_group() -> list[int]:
        out = []
        for proc in psutil.process_iter(["status"]):
            try:
                if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    out.append(proc.pid)
            except (ProcessLookupError, psutil.Error):
                continue
        return out

    assert alive_in_group() == []  # the whole group, the backgrounded sleep included, is gone


def test_a_starved_generator_is_inconclusive_not_a_pass(start_bot, run_load) -> None:
    from goldgate.criteria.load import p95_latency_below
    from goldgate.load.limits import DEFAULTS as LIMITS
    from goldgate.load.measure import measurement
    from goldgate.verdict import Status

    url = start_bot()
    # Far beyond what one gevent process (and this bot) can do on a shared machine.
    result = run_load(LoadPlan(url, rate_rps=6000, duration_s=2, timeout_s=2, max_in_flight=100,
                               weights={"health": 1}))
    v = p95_latency_below(measurement(result), 500, min_requests=50, limits=LIMITS)
    assert v.status is Status.INCONCLUSIVE, v.message()
    assert "load generator saturated" in v.reason


def test_secret_headers_reach_the_target_but_no_file_of_the_run(tmp_path: Path, run_load) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.headers.get("X-Api-Key"))
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "canary-secret-7f3a9c"
    try:
        result = run_load(LoadPlan(f"http://127.0.0.1:{server.server_port}", rate_rps=20, duration_s=1, timeout_s=2),
                          headers={"X-Api-Key": secret})
    finally:
        server.shutdown()
    assert result.stats.requests == 20 and seen and all(v == secret for v in seen)
    for path in result.results_dir.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
