"""The judge watching the sandbox: real pods, real metrics, the controllers' own payloads.

One private sandbox for the module (as tests/rollout/conftest.py does); the judge runs
in-process (Starlette's test client) over the real Kubernetes client and scrape source.
The environment is local.yaml with a 1 s evaluation interval, the error-rate test truncated
at 150 requests and ``strategy.baseline: none`` (no stable version runs beside the
judged revision here; the waiver is visible in the checks).

Payloads: Flagger's webhook body (https://docs.flagger.app/usage/webhooks), Argo Rollouts'
web provider jsonBody with the template's Authorization header
(https://argoproj.github.io/argo-rollouts/analysis/web/).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment, Metrics, load_environment
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


@pytest.fixture(scope="module")
def env() -> Environment:
    env = load_environment("local", ROOT / "environments")
    strategy = env.strategy.model_copy(update={"evaluation_interval_s": 1.0, "baseline": "none", "router": None})
    test = env.error_rate_test.model_copy(update={"max_requests": 150})
    return env.model_copy(update={"strategy": strategy, "error_rate_test": test})


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from own_sandbox(tmp_path_factory, "judge-sandbox")


@pytest.fixture(scope="module")
def kube(sandbox: Any, env: Environment) -> Iterator[KubeClients]:
    yield from sandbox_clients(sandbox, env)


def current_hash(kube: KubeClients, env: Environment) -> str:
    st = deployment_status(kube, env.kubernetes.namespace, env.kubernetes.deployment)
    return replicaset_hashes(kube, env.kubernetes.namespace, own_pods(st.selector))[st.revision]


def make_client(env: Environment, kube: KubeClients, state: Path) -> TestClient:
    judge = Judge(env, kube, metric_source(env, kube), RunStore(state))
    return TestClient(create_app(judge, token=TOKEN))


def poll(client: TestClient, url: str, body: dict, until: tuple[str, ...], deadline_s: float = 45.0) -> Any:
    end = time.monotonic() + deadline_s
    while True:
        t0 = time.monotonic()
        r = client.post(url, json=body, headers=AUTH)
        assert time.monotonic() - t0 < 2.0, "a call must answer in under 2 s"
        if r.json().get("verdict") in until or time.monotonic() > end:
            return r
        time.sleep(0.5)


def traffic(kube: KubeClients, env: Environment) -> TrafficStream:
    url = service_url(kube, env.kubernetes.namespace, env.kubernetes.service)
    return TrafficStream(url, rate_rps=50.0, max_duration_s=90).start()


def test_no_traffic_is_inconclusive(env: Environment, kube: KubeClients, tmp_path: Path) -> None:
    body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
    flagger = {"name": "trading-bot", "namespace": "trading", "phase": "Progressing", "checksum": "5c7d9b-quiet",
               "metadata": {"token": TOKEN}}
    with make_client(env, kube, tmp_path / "s.sqlite3") as c:
        pre = c.post("/v1/flagger/pre-rollout", json=flagger)  # the fast gate: pods Ready, no restarts
        time.sleep(3)
        r = poll(c, "/v1/argo", body, until=("PASS", "FAIL", "ROLLBACK", "ERROR"), deadline_s=3)
        held = poll(c, "/v1/flagger/confirm-promotion", flagger, until=("PASS", "FAIL", "ROLLBACK", "ERROR"),
                    deadline_s=2)
    assert (pre.status_code, pre.json()["verdict"]) == (200, "PASS"), pre.json()
    assert (r.status_code, r.json()["verdict"]) == (200, "INCONCLUSIVE"), r.json()
    assert "request" in r.json()["reason"]
    assert (held.status_code, held.json()["verdict"]) == (409, "INCONCLUSIVE"), held.json()


def test_healthy_revision_passes_and_a_restart_keeps_its_evidence(env: Environment, kube: KubeClients,
                                                                  tmp_path: Path) -> None:
    body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
    stream = traffic(kube, env)
    try:
        with make_client(env, kube, tmp_path / "s.sqlite3") as c:
            first = poll(c, "/v1/argo", body, until=("FAIL", "ROLLBACK", "ERROR"), deadline_s=4).json()
        with make_client(env, kube, tmp_path / "s.sqlite3") as c:  # the judge restarted mid-run
            resumed = c.post("/v1/argo", json=body, headers=AUTH).json()
            end = time.monotonic() + 45
            while True:  # a verdict of this process (not the stored answer it started with)
                r = poll(c, "/v1/argo", body, until=("PASS", "FAIL", "ROLLBACK", "ERROR"))
                if r.json()["evidence"]["evaluations"] > resumed["evidence"]["evaluations"] or \
                        time.monotonic() > end:
                    break
                time.sleep(1)
    finally:
        stream.stop()
    assert resumed["evidence"]["restored"] and resumed["evidence"]["requests"] >= first["evidence"]["requests"]
    assert (r.status_code, r.json()["verdict"]) == (200, "PASS"), r.json()
    assert r.json()["evidence"]["evaluations"] > resumed["evidence"]["evaluations"]
    assert r.json()["evidence"]["requests"] > first["evidence"]["requests"]


def test_faulty_build_is_rolled_back_with_the_reason_in_the_body(env: Environment, kube: KubeClients,
                                                                  tmp_path: Path) -> None:
    ns, name, container = env.kubernetes.namespace, env.kubernetes.deployment, env.kubernetes.container
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    previous = deployment_status(kube, ns, name).images[0]
    actions.release(kube, safety, ns, name, container, image="trading-bot:v1.2.0-errors")
    stream = None
    try:
        _wait_ready(env, kube)
        stream = traffic(kube, env)
        payload = {"name": name, "namespace": ns, "phase": "Progressing", "checksum": "7d9f6c5b8-errors",
                   "metadata": {"token": TOKEN}}
        with make_client(env, kube, tmp_path / "f.sqlite3") as c:
            # the window-wide test is judged afresh on every poll: a 3 % build is caught as evidence grows
            r = poll(c, "/v1/flagger/rollout", payload, until=("ROLLBACK", "FAIL"), deadline_s=60)
            hook = c.post("/v1/flagger/rollback", json=payload)
    finally:
        if stream is not None:
            stream.stop()
        actions.release(kube, safety, ns, name, container, image=previous)
        _wait_ready(env, kube)
    assert (r.status_code, r.json()["verdict"]) == (422, "ROLLBACK"), r.json()
    assert "error rate" in r.json()["reason"]
    assert hook.status_code == 200 and hook.json()["verdict"] == "ROLLBACK"


def test_dead_metric_source_is_an_error_503_on_argo(env: Environment, kube: KubeClients, tmp_path: Path) -> None:
    dead = env.model_copy(update={"metrics": Metrics(source="prometheus", prometheus_url="http://127.0.0.1:9")})
    body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
    with make_client(dead, kube, tmp_path / "d.sqlite3") as c:
        r = poll(c, "/v1/argo", body, until=("ERROR",), deadline_s=15)
        for _ in range(5):  # a first call may answer "still opening" when the API is slow
            unknown = c.post("/v1/argo", json={**body, "revision": "0000000000"}, headers=AUTH)
            if unknown.status_code != 200:
                break
            time.sleep(0.5)
        hook = poll(c, "/v1/flagger/rollout", {"name": "trading-bot", "namespace": "trading", "phase": "Progressing",
                                               "checksum": "5c7d9b-dead", "metadata": {"token": TOKEN}},
                    until=("ERROR",), deadline_s=15)
    assert (r.status_code, r.json()["verdict"]) == (503, "ERROR"), r.json()
    assert (hook.status_code, hook.json()["verdict"]) == (424, "ERROR"), hook.json()
    assert "127.0.0.1:9" in r.json()["reason"]
    assert unknown.status_code == 404 and unknown.json()["field"] == "revision"


def _wait_ready(env: Environment, kube: KubeClients) -> None:
    from goldgate.rollout.base import RolloutContext

    ctx = RolloutContext(env, kube, SafetyPolicy("local", production=False, allow_mutations=True), None,
                         log=lambda line: None)
    st = deployment_status(kube, env.kubernetes.namespace, env.kubernetes.deployment)
    waited = wait_for_pods(ctx, env.kubernetes.deployment, own_pods(st.selector), st.replicas, deadline_s=60,
                           complete=True, fail_fast=False)
    assert waited.ok, waited.reason


# ----------------------------------------------------------------------------- the commands
def _environments(tmp_path: Path, **extra: str) -> Path:
    """local.yaml with this module's timings (and ``extra`` top-level YAML blocks)."""
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


def _judge_cmd(folder: Path, sandbox: Any, tmp_path: Path, revision: str, wait: str) -> list[str]:
    return ["judge", "--env", "local", "--environments-dir", str(folder), "--kubeconfig", str(sandbox.kubeconfig),
            "--state", str(tmp_path / "job.sqlite3"), "--namespace", "trading", "--workload", "trading-bot",
            "--revision", revision, "--wait", wait]


def test_judge_command_exit_codes(env: Environment, kube: KubeClients, sandbox: Any, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from goldgate.cli import main

    folder = _environments(tmp_path)
    revision = current_hash(kube, env)
    assert main(_judge_cmd(folder, sandbox, tmp_path, revision, "3s")) == 3  # no traffic: INCONCLUSIVE
    assert json.loads(capsys.readouterr().out)["verdict"] == "INCONCLUSIVE"
    assert main(_judge_cmd(folder, sandbox, tmp_path, "0000000000", "1s")) == 2  # no such revision
    assert "--revision" in capsys.readouterr().err
    stream = traffic(kube, env)
    try:  # the same store: the job continues the run's evidence
        code = main(_judge_cmd(folder, sandbox, tmp_path, revision, "60s"))
    finally:
        stream.stop()
    out = json.loads(capsys.readouterr().out)
    assert (code, out["verdict"]) == (0, "PASS"), out
    dead = _environments(tmp_path / "dead", metrics="{source: prometheus, prometheus_url: 'http://127.0.0.1:9'}")
    assert main(_judge_cmd(dead, sandbox, tmp_path / "dead", revision, "2s")) == 5  # ERROR


def test_serve_command_answers_over_http(sandbox: Any, kube: KubeClients, env: Environment, tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = _environments(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldgate.cli", "serve", "--env", "local", "--environments-dir", str(folder),
         "--kubeconfig", str(sandbox.kubeconfig), "--state", str(tmp_path / "serve.sqlite3"), "--port", str(port),
         "--audit-log", str(tmp_path / "audit.jsonl")],
        env={**os.environ, "GOLDGATE_JUDGE_TOKEN": TOKEN}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
        r = httpx.post(f"{base}/v1/argo", json=body, headers=AUTH, timeout=5)
        denied = httpx.post(f"{base}/v1/argo", json=body, timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert r.status_code == 200 and r.json()["verdict"] == "INCONCLUSIVE", r.text
    assert denied.status_code == 401
