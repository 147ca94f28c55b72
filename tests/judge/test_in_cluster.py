"""The judge as a pod in the sandbox, deployed with the real kubectl from deploy/judge/.

What the cluster's operator does: create the judge's token Secret and the environments
ConfigMap (deploy/ci/kubernetes/40-environment.yaml's shape; here local.yaml seen from
inside the cluster: ``kubeconfig: in-cluster``), then ``kubectl apply -f deploy/judge/``.
The sandbox runs ``registry.io/goldgate`` as ``goldgate serve`` with the pod's account
folder, its ConfigMap volume and its PVC; the test calls the judge only through its
Service, as Flagger and Argo Rollouts do, and checks that the judge's account reads what
it judges from and is refused (403) what it was not granted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.sandbox.conftest import Sandbox
from tests.sandbox.conftest import sandbox as sandbox

pytestmark = pytest.mark.sandbox  # each test here talks to the judge inside the sandbox

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "in-cluster-judge-token-7"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VERDICTS = {"PASS", "FAIL", "ROLLBACK", "INCONCLUSIVE", "ERROR"}


def _operator_objects() -> str:
    """The Secret and ConfigMap the judge's Deployment expects, as YAML for kubectl."""
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env.update(name="production", description="the sandbox seen from the judge's pod")
    env["kubernetes"]["kubeconfig"] = "in-cluster"
    env.pop("rehearsals", None)  # fault rehearsals are for goldgate's own runs, never a cluster's judge
    env["strategy"].update(evaluation_interval_s=1, baseline="none")
    env["strategy"].pop("router", None)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "goldgate-judge", "namespace": "trading"}, "stringData": {"token": TOKEN}}
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "goldgate-environments", "namespace": "trading"},
              "data": {"production.yaml": yaml.safe_dump(env, sort_keys=False)}}
    return yaml.safe_dump_all([secret, config])


def _kubectl_stdin(sb: Sandbox, text: str, *args: str) -> None:
    import subprocess

    from tests.sandbox.conftest import KUBECTL

    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(sb.kubeconfig), *args], input=text,
                          capture_output=True, text=True, timeout=60, env=sb.env())
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def judge_url(sandbox: Sandbox) -> Iterator[str]:
    _kubectl_stdin(sandbox, _operator_objects(), "apply", "-f", "-")
    sandbox.kubectl("apply", "-f", str(ROOT / "deploy" / "judge"))
    rollout = sandbox.kubectl("rollout", "status", "deployment/goldgate-judge", "-n", "trading",
                              "--timeout=120s", check=False, timeout=150)
    if rollout.returncode != 0:
        pods = sandbox.kubectl("get", "pods", "-n", "trading", "-o", "wide", check=False).stdout
        logs = sandbox.kubectl("logs", "deployment/goldgate-judge", "-n", "trading", check=False)
        pytest.fail(f"the judge did not become ready: {rollout.stderr}\n{pods}\n{logs.stdout}{logs.stderr}")
    deadline = time.monotonic() + 30
    while True:
        svc = json.loads(sandbox.kubectl("get", "svc", "goldgate-judge", "-n", "trading", "-o", "json").stdout)
        ingress = (svc.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
        if ingress:
            yield f"http://{ingress[0]['ip']}:{ingress[0]['ports'][0]['port']}"
            return
        assert time.monotonic() < deadline, svc
        time.sleep(0.3)


def _current_hash(sb: Sandbox) -> str:
    deploy = json.loads(sb.kubectl("get", "deployment", "trading-bot", "-n", "trading", "-o", "json").stdout)
    revision = deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    sets = json.loads(sb.kubectl("get", "rs", "-n", "trading", "-l", "app=trading-bot", "-o", "json").stdout)
    for rs in sets["items"]:
        if rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision") == revision:
            return str(rs["metadata"]["labels"]["pod-template-hash"])
    raise AssertionError(f"no ReplicaSet of revision {revision}")


def test_the_judge_answers_through_its_service(sandbox: Sandbox, judge_url: str) -> None:
    health = requests.get(judge_url + "/health", timeout=5)
    assert health.status_code == 200
    body = {"namespace": "trading", "workload": "trading-bot", "revision": _current_hash(sandbox)}
    assert requests.post(judge_url + "/v1/argo", json=body, timeout=5).status_code == 401  # no token, no verdict
    deadline = time.monotonic() + 30
    while True:  # the run's first evaluation reads pods and metrics with the pod's own account
        r = requests.post(judge_url + "/v1/argo", json=body, headers=AUTH, timeout=10)
        answer: dict[str, Any] = r.json()
        if answer.get("evidence", {}).get("evaluations") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 200, answer  # an ERROR (503) would mean the account could not read
    assert answer["verdict"] in VERDICTS - {"ERROR"}, answer
    assert answer["run"] and answer["checks"] and answer["evidence"]["evaluations"] >= 1
    event = {"name": "trading-bot", "namespace": "trading", "phase": "Progressing", "checksum": "in-cluster-1",
             "metadata": {"token": TOKEN, "eventMessage": "Starting canary analysis", "eventType": "Normal"}}
    assert requests.post(judge_url + "/v1/flagger/event", json=event, timeout=10).status_code == 200
    phase = sandbox.kubectl("get", "pvc", "goldgate-judge-state", "-n", "trading", "-o", "jsonpath={.status.phase}")
    assert phase.stdout == "Bound"
    claim = Path(sandbox.info.state_dir) / "pvc" / "trading" / "goldgate-judge-state"  # the PVC's folder
    assert (claim / "judge.sqlite3").is_file() and "in-cluster-1" in (claim / "audit.jsonl").read_text()
    pod = json.loads(sandbox.kubectl("get", "pods", "-n", "trading", "-l", "app.kubernetes.io/component=judge",
                                     "-o", "json").stdout)["items"][0]
    assert pod["spec"]["serviceAccountName"] == "goldgate-judge"
    previous = sandbox.kubectl("logs", pod["metadata"]["name"], "-n", "trading", "--previous", check=False)
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0, (pod["status"], previous.stdout[-3000:])


def test_the_judges_account_is_least_privilege(sandbox: Sandbox, judge_url: str) -> None:
    token = sandbox.kubectl("create", "token", "goldgate-judge", "-n", "trading").stdout.strip()
    me = "system:serviceaccount:trading:goldgate-judge"

    def as_judge(*args: str) -> Any:
        return sandbox.kubectl("--token", token, *args, "-n", "trading", check=False)

    for what in ("pods", "deployments", "replicasets", "services", "endpoints", "events"):
        assert as_judge("get", what).returncode == 0, what
    assert as_judge("get", "pods", "--watch", "--request-timeout=1s").stderr.count("forbidden") == 0
    refused = {
        "patch": ["patch", "deployment", "trading-bot", "-p", '{"spec":{"replicas":0}}'],
        "delete": ["delete", "service", "trading-bot", "--wait=false"],
        "get": ["get", "secret", "goldgate-judge"],  # its own token Secret: injected, never read
        "list": ["get", "secrets"],
    }
    for verb, args in refused.items():
        proc = as_judge(*args)
        assert proc.returncode != 0 and f'User "{me}" cannot {verb} resource' in proc.stderr, (args, proc.stderr)
    assert sandbox.kubectl("get", "deployment", "trading-bot", "-n", "trading").returncode == 0  # untouched
