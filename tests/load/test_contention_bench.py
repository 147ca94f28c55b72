"""``bench/latency_contention.py``: its arguments, and one quiet run whose decisions are known."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "latency_contention.py"


def _bench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.parametrize("args", [("--busy", "a,b"), ("--busy", "-1"), ("--busy", "65"), ("--seconds", "0"),
                                  ("--rate", "-4")])
def test_bad_arguments_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    out = _bench(*args, timeout=60)
    assert out.returncode == 2 and "latency_contention:" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_quiet_run_fails_both_breaches_and_passes_the_healthy_pair() -> None:
    out = _bench("--busy", "0", "--seconds", "4", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    decided = {r["pair"]: r["criterion"] for r in result["rows"]}
    assert decided == {"slow": "FAIL", "near": "FAIL", "healthy": "PASS"}, result["rows"]
    assert result["breach_passed"] == 0 and result["healthy_failed"] == 0
    assert all(r["queueing_ms"] is not None and r["queueing_ms"] >= 0 for r in result["rows"])
