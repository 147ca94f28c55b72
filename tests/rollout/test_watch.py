"""``goldgate watch`` against the sandbox: clean window, breach with rollback, breach
without permission, Ctrl-C with saved state and resume; and its refusals at start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.cli import main as cli_main
from goldgate.probes.workloads import deployment_status
from goldgate.rollout.base import RolloutContext, own_pods, wait_for_pods
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy
from goldgate.watch import (
    EXIT_BREACH,
    EXIT_CLEAN,
    EXIT_INTERRUPTED,
    EXIT_SETUP,
    EXIT_UNDECIDED,
    run_watch,
)

from .conftest import PREVIOUS, RELEASE, ROOT, run_image


def _watch(ctx: RolloutContext, state: Path, lines: list[str], *, window: float = 5.0,
           safety: SafetyPolicy | None = None, sleep: Callable[[float], None] | None = None,
           baseline_p95_s: float | None = 1.0) -> int:
    """A watch with a stored baseline (the previous version's p95; generous: the sandbox's
    bot answers in milliseconds), as ``--baseline-p95-ms`` gives it."""
    return run_watch(env=ctx.env, kube=ctx.kube, safety=safety or ctx.safety, source=ctx.source, window_s=window,
                     interval_s=1.0, state_path=state, out=lines.append, sleep=sleep or time.sleep,
                     baseline_p95_s=baseline_p95_s)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.timeout(240)
class TestWatchAgainstTheSandbox:
    def test_clean_window_exits_0(self, ctx: RolloutContext, traffic: Callable[..., TrafficStream],
                                  tmp_path: Path) -> None:
        run_image(ctx, RELEASE)
        traffic()
        lines: list[str] = []
        assert _watch(ctx, tmp_path / "w.json", lines) == EXIT_CLEAN, "\n".join(lines)
        assert lines[-1].startswith("CLEAN")
        assert json.loads((tmp_path / "w.json").read_text())["status"] == "clean"

    def test_breach_rolls_back_to_the_previous_revision(self, ctx: RolloutContext,
                                                        traffic: Callable[..., TrafficStream], tmp_path: Path) -> None:
        run_image(ctx, PREVIOUS)
        _deploy_faulty(ctx)
        traffic()
        lines: list[str] = []
        assert _watch(ctx, tmp_path / "w.json", lines, window=30) == EXIT_BREACH, "\n".join(lines)
        text = "\n".join(lines)
        assert "BREACH: FAIL: error rate" in text and "vs threshold 0.01" in text
        assert "rolled back: rollout undo" in text and "previous revision Ready" in text
        state = json.loads((tmp_path / "w.json").read_text())
        assert state["status"] == "breach" and state["rollback"] == "done"
        assert deployment_status(ctx.kube, ctx.namespace, ctx.deployment).images == (PREVIOUS,)

    def test_without_a_baseline_the_window_is_undecided_not_clean(
            self, ctx: RolloutContext, traffic: Callable[..., TrafficStream], tmp_path: Path) -> None:
        """No lost trigger: the p95-vs-baseline rule not evaluated is not a pass."""
        traffic()
        lines: list[str] = []
        assert _watch(ctx, tmp_path / "w.json", lines, baseline_p95_s=None) == EXIT_UNDECIDED, "\n".join(lines)
        text = "\n".join(lines)
        assert "p95 vs baseline INCONCLUSIVE" in text and "no baseline" in text

    def test_breach_without_permission_reports_and_leaves_the_release(
            self, ctx: RolloutContext, traffic: Callable[..., TrafficStream], tmp_path: Path) -> None:
        _deploy_faulty(ctx)
        traffic()
        lines: list[str] = []
        read_only = SafetyPolicy("local", production=False, allow_mutations=False)
        try:
            assert _watch(ctx, tmp_path / "w.json", lines, window=30, safety=read_only) == EXIT_BREACH
            assert "pass --allow-mutations to roll back" in "\n".join(lines)
            assert deployment_status(ctx.kube, ctx.namespace, ctx.deployment).images[0].endswith("-errors")
        finally:
            run_image(ctx, PREVIOUS)

    def test_interrupt_saves_state_and_a_second_run_resumes(
            self, ctx: RolloutContext, traffic: Callable[..., TrafficStream], tmp_path: Path) -> None:
        traffic()
        calls = {"n": 0}

        def interrupting_sleep(seconds: float) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            time.sleep(seconds)

        state = tmp_path / "w.json"
        lines: list[str] = []
        assert _watch(ctx, state, lines, window=6, sleep=interrupting_sleep) == EXIT_INTERRUPTED
        saved = json.loads(state.read_text())
        assert saved["status"] == "interrupted" and 1.5 < saved["elapsed_s"] < 6
        assert saved["error_rate"]["requests"] > 0
        lines2: list[str] = []
        assert _watch(ctx, state, lines2, window=6) == EXIT_CLEAN, "\n".join(lines2)
        assert "resumed at" in lines2[0]
        assert json.loads(state.read_text())["evaluations"] > saved["evaluations"]


    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
    def test_the_command_stops_cleanly_on_a_signal(self, private_sandbox: Any, tmp_path: Path,
                                                   sig: signal.Signals) -> None:
        state = tmp_path / "w.json"
        env = {**os.environ, "GOLDGATE_SANDBOX_DIR": str(private_sandbox.state_dir)}
        proc = subprocess.Popen([sys.executable, "-m", "goldgate.cli", "watch", "--env", "local",
                                 "--kubeconfig", str(private_sandbox.kubeconfig), "--window", "120",
                                 "--interval", "1", "--state", str(state)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                # started as from nohup or a shell's &: SIGINT inherited as ignored
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (state.exists() and json.loads(state.read_text())["evaluations"]):
                time.sleep(0.2)
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == EXIT_INTERRUPTED, out
        assert "interrupted at" in out
        assert json.loads(state.read_text())["status"] == "interrupted"


def _deploy_faulty(ctx: RolloutContext) -> None:
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, ctx.env.kubernetes.container,
                    image=RELEASE + "-errors")
    assert wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas, deadline_s=60,
                         complete=True).ok


# ----------------------------------------------------------------------------- no cluster needed
def test_unknown_environment_is_a_setup_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["watch", "--env", "nope"]) == EXIT_SETUP
    assert "unknown environment 'nope'" in capsys.readouterr().err


def test_rolling_back_production_needs_a_change_ticket(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "prod.yaml").write_text(
        "name: prod\nproduction: true\nkubernetes: {kubeconfig: /nonexistent}\nrelease: {version: v1.2.0}\n")
    code = cli_main(["watch", "--env", "prod", "--environments-dir", str(tmp_path), "--allow-mutations"])
    assert code == EXIT_SETUP
    assert "--change=TICKET" in capsys.readouterr().err


def test_window_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["watch", "--env", "local", "--window", "0"]) == EXIT_SETUP
    assert "must be positive" in capsys.readouterr().err
