"""The smoke checks and the first feature against a real bot: healthy passes, knobs fail.

Runs the suite's own `smoke/` and `features/monitoring/` in a child pytest, pointed at a
reference bot started on a loopback port, exactly as an SRE would run `-m smoke`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_env

pytestmark = pytest.mark.sandbox


def _run_smoke(tmp_path: Path, url: str, *targets: str, version: str = "v1.2.0") -> tuple[subprocess.CompletedProcess[str], dict]:
    envdir = write_env(tmp_path / "envs", "direct", f"""
name: direct
http:
  base_url: {url}
timeouts: {{connect_s: 1, read_s: 3, retries: 0}}
release:
  version: {version}
""")
    verdict = tmp_path / "verdict.json"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), *(targets or (str(ROOT / "smoke"),)),
         "--env=direct", f"--environments-dir={envdir}", f"--verdict-file={verdict}"],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )
    doc = json.loads(verdict.read_text()) if verdict.exists() else {}
    return result, doc


def _outcomes(doc: dict) -> dict[str, str]:
    return {t["nodeid"].split("::")[-1]: t["outcome"] for t in doc["tests"]}


def test_healthy_bot_passes_smoke_and_feature(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(BOT_VERSION="v1.2.0")
    result, doc = _run_smoke(tmp_path, url, str(ROOT / "smoke"), str(ROOT / "features" / "monitoring"), "-m", "smoke")
    assert result.returncode == 0, result.stdout[-3000:]
    assert doc["decision"] == "GO"
    assert set(_outcomes(doc).values()) == {"passed"}
    assert len(doc["tests"]) >= 10


def test_error_knob_fails_the_signal_check_with_status_and_expectation(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(BOT_VERSION="v1.2.0", FAULT_ERROR_RATE="1.0")
    result, doc = _run_smoke(tmp_path, url)
    assert result.returncode == 1
    outcomes = _outcomes(doc)
    assert outcomes["test_signal_round_trip"] == "failed"
    assert outcomes["test_liveness_answers"] == "passed"
    msg = next(t["message"] for t in doc["tests"] if t["nodeid"].endswith("test_signal_round_trip"))
    assert "FAIL: signal round trip" in msg and "answered 500, expected 200" in msg
    assert doc["decision"] == "NO-GO"


def test_latency_knob_fails_the_signal_budget_with_measured_value(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(BOT_VERSION="v1.2.0", FAULT_LATENCY_MS="600")
    result, doc = _run_smoke(tmp_path, url)
    assert result.returncode == 1
    signal = next(t for t in doc["tests"] if t["nodeid"].endswith("test_signal_round_trip"))
    assert signal["outcome"] == "failed"
    crit = signal["criteria"][0]
    assert crit["status"] == "FAIL" and crit["threshold"] == 500.0 and crit["observed"] >= 600
    assert "above the budget of 500 ms" in signal["message"]


def test_stale_version_fails_the_version_check(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(BOT_VERSION="v1.1.0")
    result, doc = _run_smoke(tmp_path, url)
    assert _outcomes(doc)["test_running_version_is_the_release"] == "failed"
    assert "'v1.1.0', expected 'v1.2.0'" in result.stdout


def test_never_ready_fails_readiness(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(wait_ready=False, BOT_VERSION="v1.2.0", FAULT_NEVER_READY="true")
    _, doc = _run_smoke(tmp_path, url)
    assert _outcomes(doc)["test_readiness_answers"] == "failed"


def test_unreachable_bot_is_error_not_failure(tmp_path: Path) -> None:
    from tests.conftest import free_port

    result, doc = _run_smoke(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert set(_outcomes(doc).values()) == {"error"}
    assert "connection refused" in result.stdout
    assert doc["decision"] == "NO-GO"
