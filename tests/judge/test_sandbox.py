"""The judge watching the sandbox: real pods, real metrics, the controllers' own payloads.

The judge's sandbox and environment are tests/judge/conftest.py's (shared with the trading
rehearsals of test_trading.py); the judge runs in-process over the real Kubernetes client
and scrape source.

Payloads: Flagger's webhook body (https://docs.flagger.app/usage/webhooks), Argo Rollouts'
web provider jsonBody with the template's Authorization header
(https://argoproj.github.io/argo-rollouts/analysis/web/).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment, Metrics
from goldgate.probes.kubernetes import KubeClients
from goldgate.probes.workloads import deployment_status
from tests.judge.conftest import (
    AUTH,
    MUTATE,
    ROOT,
    TOKEN,
    current_hash,
    environments,
    judge_cmd,
    make_client,
    poll,
    traffic,
    wait_ready,
)

pytestmark = pytest.mark.sandbox  # each test here judges the sandbox's live pods


def test_no_traffic_is_inconclusive(env: Environment, kube: KubeClients, tmp_path: Path) -> None:
    body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
    flagger = {"name": "trading-bot", "namespace": "trading", "phase": "Progressing", "checksum": "5c7d9b-quiet",
               "metadata": {"token": TOKEN}}
    with make_client(env, kube, tmp_path / "s.sqlite3") as c:
        pre = c.post("/v1/flagger/pre-rollout", json=flagger)  # the fast gate: pods Ready, no restarts
        time.sleep(3)
        r = poll(c, "/v1/argo", body, until=("PASS", "FAIL", "ROLLBACK", "ERROR", "INCONCLUSIVE"), deadline_s=15,
                 evaluated=2)
        held = poll(c, "/v1/flagger/confirm-promotion", flagger, until=("PASS", "FAIL", "ROLLBACK", "ERROR"),
                    deadline_s=2)
    assert (pre.status_code, pre.json()["verdict"]) == (200, "PASS"), pre.json()
    assert (r.status_code, r.json()["verdict"]) == (200, "INCONCLUSIVE"), r.json()
    assert "request" in r.json()["reason"]
    assert (held.status_code, held.json()["verdict"]) == (409, "INCONCLUSIVE"), held.json()


def _opened_answer(client: Any, body: dict[str, Any], seconds: float = 20.0) -> dict[str, Any]:
    """The restarted judge's first answer from its opened run.

    Opening a run reads Kubernetes and the store; on a busy machine that can outlast the
    judge's open budget, and the call is then answered "opening the run" (nothing evaluated,
    nothing restored yet) while the run goes on opening for the next call."""
    end = time.monotonic() + seconds
    while True:
        answer = client.post("/v1/argo", json=body, headers=AUTH).json()
        if "restored" in answer["evidence"] or time.monotonic() > end:
            return answer
        time.sleep(0.2)


def test_healthy_revision_passes_and_a_restart_keeps_its_evidence(env: Environment, kube: KubeClients,
                                                                  tmp_path: Path) -> None:
    body = {"namespace": "trading", "workload": "trading-bot", "revision": current_hash(kube, env)}
    stream = traffic(kube, env)
    try:
        with make_client(env, kube, tmp_path / "s.sqlite3") as c:
            first = poll(c, "/v1/argo", body, until=("FAIL", "ROLLBACK", "ERROR"), deadline_s=4).json()
        with make_client(env, kube, tmp_path / "s.sqlite3") as c:  # the judge restarted mid-run
            resumed = _opened_answer(c, body)
            end = time.monotonic() + 45
            while True:  # a verdict of this process (not the stored answer it started with)
                r = poll(c, "/v1/argo", body, until=("PASS", "FAIL", "ROLLBACK", "ERROR"))
                if r.json()["evidence"]["evaluations"] > resumed["evidence"]["evaluations"] or \
                        time.monotonic() > end:
                    break
                time.sleep(1)
    finally:
        stream.stop()
    assert resumed["evidence"].get("restored"), resumed
    assert resumed["evidence"]["requests"] >= first["evidence"]["requests"]
    assert (r.status_code, r.json()["verdict"]) == (200, "PASS"), r.json()
    assert r.json()["evidence"]["evaluations"] > resumed["evidence"]["evaluations"]
    assert r.json()["evidence"]["requests"] > first["evidence"]["requests"]


def test_faulty_build_is_rolled_back_with_the_reason_in_the_body(env: Environment, kube: KubeClients,
                                                                  tmp_path: Path) -> None:
    ns, name, container = env.kubernetes.namespace, env.kubernetes.deployment, env.kubernetes.container
    safety = MUTATE
    previous = deployment_status(kube, ns, name).images[0]
    actions.release(kube, safety, ns, name, container, image="trading-bot:v1.2.0-errors")
    stream = None
    try:
        wait_ready(env, kube)
        stream = traffic(kube, env)
        payload = {"name": name, "namespace": ns, "phase": "Progressing", "checksum": "7d9f6c5b8-errors",
                   "metadata": {"token": TOKEN}}
        with make_client(env, kube, tmp_path / "f.sqlite3") as c:
            # the window-wide test is judged afresh on every poll: a 3 % build is caught as evidence grows.
            # A FAIL alone is an alert, not the answer awaited: on a loaded CI machine the pods' CPU
            # crossed the §8.3 alert (0.705 of the limit vs 0.7) before the error rate was decided.
            r = poll(c, "/v1/flagger/rollout", payload, until=("ROLLBACK",), deadline_s=60)
            hook = c.post("/v1/flagger/rollback", json=payload)
    finally:
        if stream is not None:
            stream.stop()
        actions.release(kube, safety, ns, name, container, image=previous)
        wait_ready(env, kube)
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


# ----------------------------------------------------------------------------- the commands
def test_judge_command_exit_codes(env: Environment, kube: KubeClients, sandbox: Any, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from goldgate.cli import main

    folder = environments(tmp_path)
    revision = current_hash(kube, env)
    assert main(judge_cmd(folder, sandbox, tmp_path, revision, "3s")) == 3  # no traffic: INCONCLUSIVE
    assert json.loads(capsys.readouterr().out)["verdict"] == "INCONCLUSIVE"
    assert main(judge_cmd(folder, sandbox, tmp_path, "0000000000", "1s")) == 2  # no such revision
    assert "--revision" in capsys.readouterr().err
    stream = traffic(kube, env)
    try:  # the same store: the job continues the run's evidence
        code = main(judge_cmd(folder, sandbox, tmp_path, revision, "60s"))
    finally:
        stream.stop()
    out = json.loads(capsys.readouterr().out)
    assert (code, out["verdict"]) == (0, "PASS"), out
    dead = environments(tmp_path / "dead", metrics="{source: prometheus, prometheus_url: 'http://127.0.0.1:9'}")
    assert main(judge_cmd(dead, sandbox, tmp_path / "dead", revision, "2s")) == 5  # ERROR


def test_serve_command_answers_over_http(sandbox: Any, kube: KubeClients, env: Environment, tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = environments(tmp_path)
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
