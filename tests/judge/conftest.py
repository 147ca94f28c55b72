"""The judge's sandbox: one private sandbox for every test module of the judge that needs one.

The judge runs in-process (Starlette's test client) over the real Kubernetes client and
scrape source. The environment is local.yaml with a 1 s evaluation interval, the error-rate
test truncated at 150 requests and ``strategy.baseline: none`` (no stable version runs
beside a judged revision unless a test starts one; the waiver is visible in the checks).
The sandbox is package-scoped so that the §6.1 rehearsals (test_sandbox.py) and the trading
rehearsals (test_trading.py) share it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldgate.config import Environment, load_environment
from goldgate.judge.app import create_app
from goldgate.judge.engine import Judge
from goldgate.judge.store import RunStore
from goldgate.probes.kubernetes import KubeClients, service_url
from goldgate.probes.workloads import deployment_status, replicaset_hashes
from goldgate.rollout.base import own_pods, wait_for_pods
from goldgate.rollout.sources import metric_source
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy
from tests.sandboxes import own_sandbox, sandbox_clients

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sandbox-judge-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
MUTATE = SafetyPolicy("local", production=False, allow_mutations=True)


@pytest.fixture(scope="package")
def env() -> Environment:
    env = load_environment("local", ROOT / "environments")
    strategy = env.strategy.model_copy(update={"evaluation_interval_s": 1.0, "baseline": "none", "router": None})
    test = env.error_rate_test.model_copy(update={"max_requests": 150})
    return env.model_copy(update={"strategy": strategy, "error_rate_test": test})


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from own_sandbox(tmp_path_factory, "judge-sandbox")


@pytest.fixture(scope="package")
def kube(sandbox: Any, env: Environment) -> Iterator[KubeClients]:
    yield from sandbox_clients(sandbox, env)


def current_hash(kube: KubeClients, env: Environment, workload: str | None = None) -> str:
    """The pod-template hash of a workload's current revision (Argo's run key)."""
    name = workload or env.kubernetes.deployment
    st = deployment_status(kube, env.kubernetes.namespace, name)
    return replicaset_hashes(kube, env.kubernetes.namespace, own_pods(st.selector))[st.revision]


def make_client(env: Environment, kube: KubeClients, state: Path) -> TestClient:
    judge = Judge(env, kube, metric_source(env, kube), RunStore(state))
    return TestClient(create_app(judge, token=TOKEN))


def poll(client: TestClient, url: str, body: dict, until: tuple[str, ...], deadline_s: float = 45.0, *,
         evaluated: int = 0) -> Any:
    """Call as a controller does until the verdict is one of ``until`` (or the deadline) and the run has
    had at least ``evaluated`` evaluations (a loaded machine may take a while for the first). How fast a
    call answers is measured by bench/judge_load.py, not asserted here (a shared CI machine's load decides it)."""
    end = time.monotonic() + deadline_s
    while True:
        r = client.post(url, json=body, headers=AUTH)
        answer = r.json()
        settled = (answer.get("evidence") or {}).get("evaluations", 0) >= evaluated
        if (answer.get("verdict") in until and settled) or time.monotonic() > end:
            return r
        time.sleep(0.5)


def traffic(kube: KubeClients, env: Environment) -> TrafficStream:
    url = service_url(kube, env.kubernetes.namespace, env.kubernetes.service)
    return TrafficStream(url, rate_rps=50.0, max_duration_s=90).start()


def wait_ready(env: Environment, kube: KubeClients, workload: str | None = None) -> None:
    from goldgate.rollout.base import RolloutContext

    name = workload or env.kubernetes.deployment
    ctx = RolloutContext(env, kube, MUTATE, None, log=lambda line: None)
    st = deployment_status(kube, env.kubernetes.namespace, name)
    waited = wait_for_pods(ctx, name, own_pods(st.selector), st.replicas, deadline_s=60,
                           complete=True, fail_fast=False)
    assert waited.ok, waited.reason


def environments(tmp_path: Path, **extra: str) -> Path:
    """local.yaml with these tests' timings (and ``extra`` top-level YAML blocks), for the commands."""
    import yaml

    raw = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    raw["strategy"].update(evaluation_interval_s=1, baseline="none")
    raw["strategy"].pop("router", None)
    raw["error_rate_test"]["max_requests"] = 150
    for key, value in extra.items():
        raw[key] = yaml.safe_load(value)
    folder = tmp_path / "environments"
    folder.mkdir(parents=True)
    (folder / "local.yaml").write_text(yaml.safe_dump(raw))
    return folder


def judge_cmd(folder: Path, sandbox: Any, tmp_path: Path, revision: str, wait: str,
              workload: str = "trading-bot") -> list[str]:
    """``goldgate judge`` as Argo's job provider runs it, on this sandbox."""
    return ["judge", "--env", "local", "--environments-dir", str(folder), "--kubeconfig", str(sandbox.kubeconfig),
            "--state", str(tmp_path / "job.sqlite3"), "--namespace", "trading", "--workload", workload,
            "--revision", revision, "--wait", wait]
