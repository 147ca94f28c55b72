"""The load features end to end: pytest on features/load against real bots on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, write_env


def _env(tmp_path: Path, url: str, standby: str | None = None, *, production: bool = False,
         extra: str = "", thresholds: str = "") -> Path:
    kube = "kubernetes:\n  kubeconfig: /nonexistent/kubeconfig\n" if production else ""
    baseline_line = f"  baseline_url: {standby}\n" if standby else ""
    return write_env(tmp_path / "envs", "loadcheck", (
        f"name: loadcheck\nproduction: {str(production).lower()}\n{kube}"
        f"http:\n  base_url: {url}\n"
        "release:\n  version: v1.2.0\n  previous_version: v1.1.0\n"
        f"thresholds:\n  min_requests: 50\n{thresholds}"
        f"load:\n  users: 10\n  rate_rps: 40\n  duration_s: 10\n  max_requests: 5000\n{baseline_line}{extra}"
    ))


def _pytest(envs: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "features/load", "--env=loadcheck", f"--environments-dir={envs}",
           "-p", "no:cacheprovider", "--verdict-file=", "--audit-log=", "-q", "-rA", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.sandbox
@pytest.mark.slow
def test_healthy_release_turns_every_load_scenario_green(start_bot, tmp_path: Path) -> None:
    envs = _env(tmp_path, start_bot(), standby=start_bot())
    out = _pytest(envs, "-m", "load")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "4 passed" in out.stdout


@pytest.mark.sandbox
@pytest.mark.slow
def test_error_knob_turns_the_error_rate_scenario_red_with_numbers(start_bot, tmp_path: Path) -> None:
    envs = _env(tmp_path, start_bot(FAULT_ERROR_RATE="0.03", FAULT_SEED="3"))
    out = _pytest(envs, "-k", "error_rate_stays")
    assert out.returncode == 1, out.stdout[-3000:]
    assert "FAIL: error rate under load (release) below 1.00%" in out.stdout
    assert "errors in" in out.stdout and "threshold 0.01" in out.stdout


@pytest.mark.sandbox
@pytest.mark.slow
def test_early_abort_holds_the_sentences_limit_not_the_environments(start_bot, tmp_path: Path) -> None:
    # The environment tolerates 20 % errors; the scenario says "below 1 %": the run stops on 1 %.
    envs = _env(tmp_path, start_bot(FAULT_ERROR_RATE="0.05", FAULT_SEED="3"), thresholds="  error_rate: 0.2\n",
                extra="error_rate_test:\n  healthy_rate: 0.1\n  breached_rate: 0.3\n")
    out = _pytest(envs, "-k", "error_rate_stays")
    assert out.returncode == 1, out.stdout[-3000:]
    assert "FAIL: error rate under load (release) below 1.00%" in out.stdout
    assert "run stopped early: error rate" in out.stdout and "not below 1.00%" in out.stdout


def test_load_against_production_is_refused_without_flags_and_rate_cap(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from goldgate.config import Environment
    from goldgate.load.plan import LoadPlan
    from goldgate.safety import SafetyPolicy
    from goldgate.verdict import ProbeError
    from steps.load import _run

    env = Environment.model_validate({"name": "production", "production": True,
                                      "kubernetes": {"kubeconfig": "/etc/kube/config"},
                                      "release": {"version": "v1"}, "load": {"max_rate_rps": 100}})
    plan = LoadPlan("http://127.0.0.1:9", rate_rps=40, duration_s=10)
    for safety in (SafetyPolicy("production", production=True, allow_mutations=False, change="CHG-1"),
                   SafetyPolicy("production", production=True, allow_mutations=True, change="CHG-1")):
        limited = env if safety.allow_mutations is False else env.model_copy(
            update={"load": env.load.model_copy(update={"max_rate_rps": 10})})
        with pytest.raises(ProbeError, match="refused to send load") as info:
            _run([plan], limited, safety, tmp_path_factory, ROOT)
        assert ("--allow-mutations" if not safety.allow_mutations else "above load.max_rate_rps") in str(info.value)
        assert not list(tmp_path_factory.getbasetemp().glob("load-*"))  # refused before locust started


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_baseline_build_much_faster_on_the_measured_routes_fails_the_2x_scenario(start_bot, tmp_path: Path) -> None:
    """The guide's "p95 above 2x the baseline" rehearsed with a genuinely faster previous build: the
    release's signal model takes 150 ms, the baseline's 1 ms, so the signal route (not the order
    route, which both builds share) decides p95 and the release is far more than 2x slower.

    The release side has no server timings here: the environment's pods are the shared
    sandbox's, not this bot, and once the sandbox's pods served some API requests in the
    window their fast p95 was taken for the release's and the scenario passed (a fresh-clone
    CI run). Timings that count far fewer requests than the load sent are no longer used, so
    both sides are read on the load client's clock. A busy CI machine queues every request: with
    a 60 ms model the ratio read 16x on a quiet host and under 2x on the busiest run, which the
    criterion now refuses to pass (queueing_doubt); 150 ms keeps the breach measurable there
    (5.5x with twelve busy loops beside it)."""
    envs = _env(tmp_path, start_bot(BOT_SIGNAL_BASE_MS="150"), standby=start_bot(BOT_SIGNAL_BASE_MS="1"))
    out = _pytest(envs, "-k", "stable_version")
    assert out.returncode == 1, out.stdout[-3000:]
    assert "FAIL: p95 latency under load at most 2x the baseline — observed" in out.stdout
    found = re.search(r"vs threshold ([0-9.]+) ms — p95 [0-9.]+ ms is ([0-9.]+)x the baseline [0-9.]+ ms \(limit 2x = ",
                      out.stdout)
    assert found is not None, out.stdout[-3000:]
    assert float(found.group(2)) > 2 and float(found.group(1)) > 0
