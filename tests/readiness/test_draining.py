"""§7.3's measurement on a pod that does not drain: a reference bot killed (SIGKILL, no
grace period) while slow requests are in flight. The client-side counts see the lost
requests and the criterion FAILs with the count; the healthy case — a pod deleted behind
the sandbox Service, which drains — is the live scenario in features/strategies/draining.feature."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from goldgate.criteria.post_deploy import drained_while_terminating
from goldgate.rollout.traffic import TrafficStream
from goldgate.verdict import Status
from tests.conftest import free_port


def _slow_bot(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_DATA_DIR": str(tmp_path),
           "BOT_WARMUP_S": "0", "FAULT_LATENCY_MS": "600"}
    proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the reference bot did not become ready")


def test_a_pod_killed_without_draining_loses_its_in_flight_requests(tmp_path: Path) -> None:
    proc, url = _slow_bot(tmp_path)
    try:
        stream = TrafficStream(url, rate_rps=20, max_duration_s=3, workers=16, timeout=(1, 3)).start()
        time.sleep(1.0)
        proc.kill()
        stream.stop()
        while stream.running:
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    st = stream.stats
    lost = st.failures + st.server_errors
    assert lost > 0, st.to_dict()
    v = drained_while_terminating(st.sent, lost, pods_deleted=1, min_requests=10)
    assert v.status is Status.FAIL
    assert f"observed {lost} failed requests vs threshold 0 failed requests" in v.message()
