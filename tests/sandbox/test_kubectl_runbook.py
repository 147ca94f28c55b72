"""The guide's runbook commands with kubectl 1.37 against a real sandbox daemon.

One sandbox serves the whole module; the runbook test is a single ordered scenario
(deploy → update → history → undo → scale → logs → exec) because each step depends
on the state the previous one left, as it does for an operator.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client, watch

from tests.sandbox.conftest import KUBECTL, Sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

APP = "app=trading-bot"


def _image(sb: Sandbox) -> str:
    return sb.kubectl("get", "deploy", "trading-bot", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout


def _env(sb: Sandbox) -> list[dict[str, str]]:
    out = sb.kubectl("get", "deploy", "trading-bot", "-o", "jsonpath={.spec.template.spec.containers[0].env}").stdout
    return json.loads(out or "[]")


def _running_pods(sb: Sandbox) -> list[str]:
    out = sb.kubectl("get", "pods", "-l", APP, "-o", "json").stdout
    return [
        p["metadata"]["name"] for p in json.loads(out)["items"]
        if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") == "Running"
    ]


def test_get_pods_prints_a_real_table(sandbox: Sandbox) -> None:
    out = sandbox.kubectl("get", "pods", "-l", APP).stdout
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(rows) == 3
    assert all(re.match(r"^trading-bot-\S+\s+1/1\s+Running\s+0\s+\S+$", r) for r in rows), rows
    out = sandbox.kubectl("get", "deploy,rs,svc").stdout
    assert "deployment.apps/trading-bot   3/3" in out
    assert "service/trading-bot" in out and "replicaset.apps/trading-bot-" in out
    pod = rows[0].split()[0]
    described = sandbox.kubectl("describe", "pod", pod).stdout
    assert "Events:" in described and "trading-bot" in described


def test_runbook_rollout_history_undo_scale(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=60s")
    original = _image(sb)
    new_image = re.sub(r":[^:/]+$", ":v1.3.0", original)
    sb.kubectl("set", "image", "deployment/trading-bot", f"trading-bot={new_image}")
    status = sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s").stdout
    assert 'deployment "trading-bot" successfully rolled out' in status
    assert _image(sb) == new_image

    sb.kubectl("set", "env", "deployment/trading-bot", "FAULT_ERROR_RATE=0.03")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    assert {"name": "FAULT_ERROR_RATE", "value": "0.03"} in _env(sb)

    history = sb.kubectl("rollout", "history", "deployment/trading-bot").stdout
    revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
    assert revisions == ["1", "2", "3"], history

    sb.kubectl("rollout", "undo", "deployment/trading-bot")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    assert {"name": "FAULT_ERROR_RATE", "value": "0.03"} not in _env(sb)
    assert _image(sb) == new_image
    history = sb.kubectl("rollout", "history", "deployment/trading-bot").stdout
    # Revision 2 was rolled back to: it becomes revision 4 (as upstream renumbers).
    assert [line.split()[0] for line in history.splitlines() if line[:1].isdigit()] == ["1", "3", "4"], history

    sb.kubectl("rollout", "undo", "deployment/trading-bot", "--to-revision=1")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    assert _image(sb) == original

    sb.kubectl("scale", "deployment/trading-bot", "--replicas=4")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    deadline = time.monotonic() + 30
    while len(_running_pods(sb)) != 4 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(_running_pods(sb)) == 4
    sb.kubectl("scale", "deployment/trading-bot", "--replicas=3")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")


def test_logs_exec_top(sandbox: Sandbox) -> None:
    sb = sandbox
    out = sb.kubectl("logs", "-l", APP, "--tail=100").stdout
    assert out.strip(), "no log lines"
    pod = _running_pods(sb)[0]
    assert sb.kubectl("logs", pod, "--tail=1").stdout.count("\n") == 1
    done = sb.kubectl("exec", pod, "--", "/bin/sh", "-c", "echo hi").stdout
    assert done == "hi\n"
    failed = sb.kubectl("exec", pod, "--", "/bin/sh", "-c", "echo oops >&2; exit 7", check=False)
    assert failed.returncode == 7 and "oops" in failed.stderr
    piped = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(sb.kubeconfig), "exec", "-i", pod, "--", "cat"],
        input="through stdin\n", capture_output=True, text=True, timeout=30, env=sb.env(),
    )
    assert piped.stdout == "through stdin\n"
    deadline = time.monotonic() + 20
    top = sb.kubectl("top", "pods", check=False)
    while top.returncode != 0 and time.monotonic() < deadline:
        time.sleep(1)
        top = sb.kubectl("top", "pods", check=False)
    assert top.returncode == 0, top.stderr
    assert top.stdout.split()[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]


def test_exec_sees_the_pod_environment_and_its_data_folder(sandbox: Sandbox) -> None:
    sb = sandbox
    pod = _running_pods(sb)[0]
    image = sb.kubectl("get", "pod", pod, "-o", "jsonpath={.spec.containers[0].image}").stdout
    assert sb.kubectl("exec", pod, "--", "printenv", "BOT_VERSION").stdout.strip() == image.rsplit(":", 1)[1]
    assert sb.kubectl("exec", pod, "--", "printenv", "TRADING_SYMBOL").stdout.strip() == "XAUUSD"
    out = sb.kubectl("exec", pod, "--", "sh", "-c", "ls data && pwd").stdout
    assert str(sb.info.state_dir) in out


def test_events_and_describe_deployment(sandbox: Sandbox) -> None:
    out = sandbox.kubectl("get", "events", "--field-selector", "reason=ScalingReplicaSet").stdout
    assert "Scaled" in out
    out = sandbox.kubectl("describe", "deployment", "trading-bot").stdout
    assert "RollingUpdateStrategy:  0 max unavailable, 1 max surge" in out


def test_logs_follow_ends_when_pod_goes(sandbox: Sandbox) -> None:
    sb = sandbox
    pod = _running_pods(sb)[0]
    follow = subprocess.Popen(
        [str(KUBECTL), "--kubeconfig", str(sb.kubeconfig), "logs", "-f", pod],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sb.env(),
    )
    try:
        time.sleep(1)
        assert follow.poll() is None
        sb.kubectl("delete", "pod", pod, "--wait=false")
        assert follow.wait(timeout=60) == 0
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")


def test_apply_manifests_client_side(sandbox: Sandbox) -> None:
    from goldgate.sandbox.controllers import manifests

    out = sandbox.kubectl("apply", "-f", str(manifests.default_manifests_dir())).stdout
    assert "deployment.apps/trading-bot" in out


def test_python_client_watch(sandbox: Sandbox) -> None:
    core = client.CoreV1Api(sandbox.client())
    seen = []
    for event in watch.Watch().stream(core.list_namespaced_pod, "trading", label_selector=APP, timeout_seconds=2):
        seen.append(event["type"])
    assert seen.count("ADDED") >= 3


def test_testinfra_kubectl_backend(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import testinfra

    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    pod = _running_pods(sandbox)[0]
    host = testinfra.get_host(
        f"kubectl://{pod}?namespace=trading&container=trading-bot&kubeconfig={sandbox.kubeconfig}"
    )
    assert host.run("echo ok").stdout == "ok\n"
    assert host.run("exit 3").rc == 3
    assert host.file("/etc/hostname").exists or host.file("/etc/passwd").exists


def _get_json(sb: Sandbox, path: str) -> Any:
    from goldgate.sandbox import lifecycle

    code, body = lifecycle._api_get(sb.info, path)
    assert code == 200, (path, code, body[:300])
    return json.loads(body)


def _all_objects(sb: Sandbox) -> list[dict[str, Any]]:
    paths = [
        "/api/v1/namespaces", "/api/v1/nodes", "/api/v1/pods", "/api/v1/services", "/api/v1/endpoints",
        "/api/v1/events", "/api/v1/configmaps", "/api/v1/secrets", "/api/v1/serviceaccounts",
        "/apis/apps/v1/deployments", "/apis/apps/v1/replicasets",
        "/apis/networking.k8s.io/v1/networkpolicies", "/apis/discovery.k8s.io/v1/endpointslices",
    ]
    objects = [obj for path in paths for obj in _get_json(sb, path)["items"]]
    objects.append(_get_json(sb, "/apis/apps/v1/namespaces/trading/deployments/trading-bot/scale"))
    return objects


def test_every_served_object_validates_against_the_1_37_schema(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.kubectl("set", "image", "deployment/trading-bot", f"trading-bot={re.sub(r':[^:/]+$', ':v1.3.1', _image(sb))}")
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    objects = _all_objects(sb)
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "Node", "Pod", "Service", "Endpoints", "Event", "ConfigMap", "Deployment", "ReplicaSet", "NetworkPolicy", "Scale"} <= kinds
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, "1.37", strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata'].get('name')}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors[:20])


def test_broken_release_exceeds_deadline_and_rollout_undo_recovers(sandbox: Sandbox) -> None:
    """Guide §6.2 end to end: a release that never gets Ready, detected and rolled back."""
    sb = sandbox
    sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=90s")
    sb.kubectl("patch", "deployment/trading-bot", "-p", '{"spec":{"progressDeadlineSeconds":3}}')
    broken = re.sub(r":[^:/]+$", ":v1.4.0-broken", _image(sb))
    sb.kubectl("set", "image", "deployment/trading-bot", f"trading-bot={broken}")
    status = sb.kubectl("rollout", "status", "deployment/trading-bot", "--timeout=60s", timeout=70, check=False)
    assert status.returncode != 0
    assert 'deployment "trading-bot" exceeded its progress deadline' in status.stderr
    pods = json.loads(sb.kubectl("get", "pods", "-l", APP, "-o", "json").stdout)["items"]
    ready_old = [p for p in pods if not p["metadata"].get("deletionTimestamp")
                 and p["spec"]["containers"][0]["image"] != broken
                 and all(c.get("ready") for c in p["status"].get("containerStatuses", []))]
    assert len(ready_old) == 3, "the old pods keep serving while the rollout is stuck"
    sb.kubectl("rollout", "undo", "deployment/trading-bot")
    assert "successfully rolled out" in sb.kubectl("rollout", "status", "deployment/trading-bot",
                                                    "--timeout=90s", timeout=100).stdout
    assert _image(sb) != broken
