"""kubectl 1.37 against the in-process API server (no controllers, no pod processes).

These pin the wire details kubectl depends on: discovery fallback, Table printing,
client-side apply (create, then "unchanged"), strategic merge from ``set image`` /
``set env``, the scale subresource, field validation, exec exit codes, logs and top.
"""

from __future__ import annotations

import json
import pathlib
import time

import pytest
from kubernetes import client

from tests.sandbox.conftest import ApiHarness, make_pod

MANIFESTS = pathlib.Path(__file__).parent / "data" / "k8s"


def test_get_pods_table_and_wide(api: ApiHarness) -> None:
    api.create("pods", make_pod("p1"))
    out = api.kubectl("get", "pods", "-l", "app=trading-bot", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert out[1].split()[:4] == ["p1", "1/1", "Running", "0"]
    wide = api.kubectl("get", "pods", "-o", "wide", check=True).stdout
    assert "NODE" in wide and "sandbox" in wide
    assert "No resources found" in api.kubectl("get", "pods", "-l", "app=none", check=True).stderr
    described = api.kubectl("describe", "pod", "p1", check=True).stdout
    assert "Name:         p1" in described


def test_apply_set_image_set_env_scale(api: ApiHarness) -> None:
    first = api.kubectl("apply", "-f", str(MANIFESTS), check=True).stdout
    assert "deployment.apps/trading-bot created" in first
    apps = client.AppsV1Api(api.client())
    generation = apps.read_namespaced_deployment("trading-bot", "trading").metadata.generation
    second = api.kubectl("apply", "-f", str(MANIFESTS), check=True).stdout
    assert "configmap/trading-bot-config unchanged" in second and "created" not in second
    # "1000m" vs the canonical "1" makes kubectl send a patch (as on a real cluster),
    # but the stored object does not change.
    assert apps.read_namespaced_deployment("trading-bot", "trading").metadata.generation == generation
    out = api.kubectl("get", "deploy,rs,svc", check=True).stdout
    assert "deployment.apps/trading-bot" in out and "service/trading-bot" in out and "CLUSTER-IP" in out

    api.kubectl("set", "image", "deployment/trading-bot", "trading-bot=trading-bot:v1.3.0", check=True)
    api.kubectl("set", "env", "deployment/trading-bot", "FAULT_ERROR_RATE=0.03", check=True)
    api.kubectl("scale", "deployment/trading-bot", "--replicas=4", check=True)
    dep = apps.read_namespaced_deployment("trading-bot", "trading")
    container = dep.spec.template.spec.containers[0]
    assert container.image == "trading-bot:v1.3.0"
    assert [(e.name, e.value) for e in container.env] == [("LOG_LEVEL", "info"), ("FAULT_ERROR_RATE", "0.03")]
    assert dep.spec.replicas == 4
    assert container.resources.limits == {"cpu": "1", "memory": "1Gi"}  # stored canonically
    assert container.readiness_probe.http_get.path == "/ready"  # untouched by the patches


def test_apply_rejects_unknown_fields_and_invalid_objects(api: ApiHarness, tmp_path: pathlib.Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndatum:\n  a: b\n")
    proc = api.kubectl("apply", "-f", str(typo))
    assert proc.returncode != 0 and "datum" in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  selector:\n    matchLabels: {app: a}\n"
        "  template:\n    metadata:\n      labels: {app: b}\n    spec:\n      containers: [{name: c, image: i}]\n"
    )
    proc = api.kubectl("apply", "-f", str(bad))
    assert proc.returncode != 0 and "is invalid" in proc.stderr and "selector" in proc.stderr
    assert api.http("GET", "/readyz").status_code == 200


def test_exec_exit_codes_stdin_and_errors(api: ApiHarness) -> None:
    api.create("pods", make_pod("e"))
    api.cluster.log_file("trading", "e", "app")
    assert api.kubectl("exec", "e", "--", "/bin/sh", "-c", "echo hi").stdout == "hi\n"
    failed = api.kubectl("exec", "e", "--", "/bin/sh", "-c", "echo bad >&2; exit 3")
    assert failed.returncode == 3 and "bad" in failed.stderr
    assert api.kubectl("exec", "-i", "e", "--", "cat", stdin="abc\n").stdout == "abc\n"
    missing = api.kubectl("exec", "e", "--", "no-such-binary")
    assert missing.returncode != 0 and "no-such-binary" in missing.stderr
    api.create("pods", make_pod("stopped"))
    proc = api.kubectl("exec", "stopped", "--", "true")
    assert proc.returncode != 0 and "not found in pod" in proc.stderr


def test_logs_and_top(api: ApiHarness) -> None:
    for name in ("a", "b"):
        api.create("pods", make_pod(name))
        api.cluster.log_file("trading", name, "app").write_text("".join(f"{name} {i}\n" for i in range(150)))
    out = api.kubectl("logs", "-l", "app=trading-bot", "--tail=100", check=True).stdout.splitlines()
    # Pods are read concurrently, so their blocks may come in either order.
    assert len(out) == 200 and {"a 50", "a 149", "b 50", "b 149"} <= set(out) and "a 49" not in out
    top = api.kubectl("top", "pods", check=True).stdout.splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"] and top[1].split() == ["a", "12m", "48Mi"]


def test_rollout_history_and_undo_with_replicasets(api: ApiHarness) -> None:
    """The controllers' side is simulated: two ReplicaSets with revision annotations."""
    api.kubectl("apply", "-f", str(MANIFESTS), check=True)
    apps = client.AppsV1Api(api.client())
    dep = apps.read_namespaced_deployment("trading-bot", "trading")
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "trading-bot", "uid": dep.metadata.uid, "controller": True}
    template = api.client().sanitize_for_serialization(dep.spec.template)
    for revision, image in ((1, "trading-bot:v1.2.0"), (2, "trading-bot:v1.3.0")):
        tpl = json.loads(json.dumps(template))
        tpl["metadata"]["labels"]["pod-template-hash"] = f"h{revision}"
        tpl["spec"]["containers"][0]["image"] = image
        api.create("replicasets", {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"trading-bot-h{revision}", "namespace": "trading",
                         "labels": tpl["metadata"]["labels"], "ownerReferences": [owner],
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "trading-bot", "pod-template-hash": f"h{revision}"}}, "template": tpl},
        })
    history = api.kubectl("rollout", "history", "deployment/trading-bot", check=True).stdout
    assert [line.split()[0] for line in history.splitlines() if line[:1].isdigit()] == ["1", "2"]
    api.kubectl("rollout", "undo", "deployment/trading-bot", "--to-revision=2", check=True)
    assert apps.read_namespaced_deployment("trading-bot", "trading").spec.template.spec.containers[0].image == "trading-bot:v1.3.0"


@pytest.mark.slow
def test_listing_2000_pods_with_the_python_client_is_fast(api: ApiHarness) -> None:
    def fill() -> None:
        for n in range(2000):
            api.store.create("pods", make_pod(f"load-{n:04d}", labels={"app": "load"}))

    api.call(fill)
    core = client.CoreV1Api(api.client())
    started = time.monotonic()
    pods = core.list_namespaced_pod("trading", label_selector="app=load")
    elapsed = time.monotonic() - started
    assert len(pods.items) == 2000
    assert elapsed < 5, f"listing 2000 pods took {elapsed:.2f}s"
    started = time.monotonic()
    raw = api.http("GET", "/api/v1/namespaces/trading/pods")
    assert raw.status_code == 200 and time.monotonic() - started < 2


def test_kubectl_create_generators_send_protobuf(api: ApiHarness) -> None:
    api.kubectl("create", "configmap", "c1", "--from-literal=a=b", check=True)
    api.kubectl("create", "secret", "generic", "s1", "--from-literal=token=abc", check=True)
    api.kubectl("create", "namespace", "scratch", check=True)
    core = client.CoreV1Api(api.client())
    assert core.read_namespaced_config_map("c1", "trading").data == {"a": "b"}
    assert core.read_namespaced_secret("s1", "trading").data == {"token": "YWJj"}
    assert core.read_namespace("scratch").status.phase == "Active"
    proc = api.kubectl("create", "deployment", "web", "--image=nginx:1.27")
    assert proc.returncode != 0 and "kubectl apply -f" in proc.stderr
