"""API semantics through the official Python client and raw HTTP (in-process server)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.sandbox.conftest import ApiHarness, make_pod

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "trading-bot", "labels": {"app": "trading-bot"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "trading-bot"}},
        "template": {
            "metadata": {"labels": {"app": "trading-bot"}},
            "spec": {"containers": [{"name": "trading-bot", "image": "trading-bot:v1.2.0"}]},
        },
    },
}


def _status(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_discovery_version_and_health(api: ApiHarness) -> None:
    assert api.http("GET", "/version").json()["minor"] == "37"
    for path in ("/healthz", "/readyz", "/livez"):
        assert api.http("GET", path).text == "ok"
    groups = {g["name"] for g in api.http("GET", "/apis").json()["groups"]}
    assert {"apps", "networking.k8s.io", "metrics.k8s.io", "discovery.k8s.io"} <= groups
    core = {r["name"] for r in api.http("GET", "/api/v1").json()["resources"]}
    assert {"pods", "pods/log", "pods/exec", "services", "endpoints", "events", "configmaps", "secrets", "namespaces", "nodes"} <= core
    apps = {r["name"]: r for r in api.http("GET", "/apis/apps/v1").json()["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale" and apps["deployments/scale"]["group"] == "autoscaling"
    index = api.http("GET", "/openapi/v3").json()["paths"]
    doc = api.http("GET", index["apis/apps/v1"]["serverRelativeURL"]).json()
    patch_params = [p["name"] for path in doc["paths"].values() for p in path["patch"]["parameters"]]
    assert "fieldValidation" in patch_params


def test_requires_bearer_token(api: ApiHarness) -> None:
    resp = api.http("GET", "/api/v1/namespaces/trading/pods", headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401 and resp.json()["kind"] == "Status"


def test_crud_conflict_and_errors(api: ApiHarness) -> None:
    apps = client.AppsV1Api(api.client())
    created = apps.create_namespaced_deployment("trading", DEPLOYMENT)
    assert created.metadata.uid and created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted

    with pytest.raises(ApiException) as exc:
        apps.create_namespaced_deployment("trading", DEPLOYMENT)
    assert exc.value.status == 409 and _status(exc.value)["reason"] == "AlreadyExists"

    stale = apps.read_namespaced_deployment("trading-bot", "trading")
    fresh = apps.read_namespaced_deployment("trading-bot", "trading")
    fresh.spec.replicas = 5
    apps.replace_namespaced_deployment("trading-bot", "trading", fresh)
    stale.spec.replicas = 6
    with pytest.raises(ApiException) as exc:
        apps.replace_namespaced_deployment("trading-bot", "trading", stale)
    assert exc.value.status == 409 and _status(exc.value)["reason"] == "Conflict"
    assert apps.read_namespaced_deployment("trading-bot", "trading").metadata.generation == 2

    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_deployment("nope", "trading")
    body = _status(exc.value)
    assert exc.value.status == 404 and body["kind"] == "Status" and body["message"] == 'deployments.apps "nope" not found'

    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(api.client()).create_namespaced_config_map("missing-ns", {"metadata": {"name": "c"}})
    assert exc.value.status == 404

    apps.delete_namespaced_deployment("trading-bot", "trading")
    with pytest.raises(ApiException):
        apps.read_namespaced_deployment("trading-bot", "trading")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["spec"]["template"]["metadata"].update(labels={"app": "other"}), "spec.template.metadata.labels"),
        (lambda d: d["metadata"].update(name="Bad_Name"), "metadata.name"),
        (lambda d: d["spec"].pop("selector"), "spec.selector"),
        (lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("image"), "spec.template.spec.containers[0].image"),
        (lambda d: d["spec"].update(replicas=-1), "spec.replicas"),
    ],
)
def test_invalid_deployments_get_422(api: ApiHarness, mutate: Any, field: str) -> None:
    body = json.loads(json.dumps(DEPLOYMENT))
    mutate(body)
    resp = api.http("POST", "/apis/apps/v1/namespaces/trading/deployments", json=body)
    assert resp.status_code == 422
    status = resp.json()
    assert status["reason"] == "Invalid" and status["code"] == 422
    assert field in [c["field"] for c in status["details"]["causes"]]


def test_malformed_input_is_400_never_a_crash(api: ApiHarness) -> None:
    base = "/apis/apps/v1/namespaces/trading/deployments"
    resp = api.http("POST", base, data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"
    api.http("POST", base, json=DEPLOYMENT).raise_for_status()
    for ctype, data in [
        ("application/json-patch+json", b'{"op": "add"}'),
        ("application/json-patch+json", b'[{"op": "frobnicate", "path": "/x"}]'),
        ("application/merge-patch+json", b"[1,2"),
        ("application/strategic-merge-patch+json", b'{"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}'),
    ]:
        resp = api.http("PATCH", f"{base}/trading-bot", data=data, headers={"Content-Type": ctype})
        assert resp.status_code == 400, (ctype, data, resp.text)
        assert resp.json()["kind"] == "Status"
    resp = api.http("PATCH", f"{base}/trading-bot", data=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    resp = api.http("PATCH", f"{base}/trading-bot", json=[{"op": "test", "path": "/spec/replicas", "value": 9}], headers={"Content-Type": "application/json-patch+json"})
    assert resp.status_code == 422
    resp = api.http("GET", "/api/v1/namespaces/trading/pods?labelSelector=a%20in%20(")
    assert resp.status_code == 400
    assert api.http("GET", "/api/v1/namespaces/trading/widgets").status_code == 404
    assert api.http("GET", "/readyz").status_code == 200


def test_selectors_limit_and_continue(api: ApiHarness) -> None:
    for n in range(5):
        api.create("pods", make_pod(f"bot-{n}", labels={"app": "trading-bot", "n": str(n)}))
    api.create("pods", make_pod("other", labels={"app": "db"}))
    core = client.CoreV1Api(api.client())
    assert len(core.list_namespaced_pod("trading", label_selector="app=trading-bot").items) == 5
    assert len(core.list_namespaced_pod("trading", label_selector="app!=trading-bot").items) == 1
    assert len(core.list_namespaced_pod("trading", label_selector="n in (1,2)").items) == 2
    assert [p.metadata.name for p in core.list_namespaced_pod("trading", field_selector="metadata.name=bot-3").items] == ["bot-3"]
    assert len(core.list_pod_for_all_namespaces().items) == 6
    page = core.list_namespaced_pod("trading", limit=4)
    assert len(page.items) == 4 and page.metadata._continue
    rest = core.list_namespaced_pod("trading", limit=4, _continue=page.metadata._continue)
    assert len(rest.items) == 2 and not rest.metadata._continue


def test_watch_stream_resume_and_gone(api: ApiHarness) -> None:
    core = client.CoreV1Api(api.client())
    api.create("pods", make_pod("w-0"))
    seen: list[tuple[str, str]] = []

    def produce() -> None:
        time.sleep(1.0)
        api.create("pods", make_pod("w-1"))
        api.call(api.store.mutate, "pods", "trading", "w-1", lambda p: p["metadata"].setdefault("annotations", {}).update(x="1"))
        api.call(api.store.delete, "pods", "trading", "w-1")

    threading.Thread(target=produce, daemon=True).start()
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, "trading", timeout_seconds=5, allow_watch_bookmarks=True):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    assert seen[0] == ("ADDED", "w-0")
    assert seen[1:] == [("ADDED", "w-1"), ("MODIFIED", "w-1"), ("DELETED", "w-1")]

    # Resuming from a resourceVersion replays only what came after it.
    rv = core.list_namespaced_pod("trading").metadata.resource_version
    api.create("pods", make_pod("w-2"))
    resp = api.http("GET", f"/api/v1/namespaces/trading/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1", stream=True)
    events = [json.loads(line) for line in resp.iter_lines() if line]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w-2")]

    # A resourceVersion that fell out of the history is 410 Gone, as an ERROR event.
    store = api.store
    store._history.clear()  # simulate compaction
    api.create("pods", make_pod("w-3"))
    resp = api.http("GET", "/api/v1/namespaces/trading/pods?watch=1&resourceVersion=1&timeoutSeconds=1", stream=True)
    events = [json.loads(line) for line in resp.iter_lines() if line]
    assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410


def test_watch_list_initial_events_end_with_bookmark(api: ApiHarness) -> None:
    api.create("pods", make_pod("a"))
    resp = api.http(
        "GET",
        "/api/v1/namespaces/trading/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1",
        stream=True,
    )
    events = [json.loads(line) for line in resp.iter_lines() if line]
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"


def test_pod_graceful_delete_and_force(api: ApiHarness) -> None:
    core = client.CoreV1Api(api.client())
    api.create("pods", make_pod("g"))
    core.delete_namespaced_pod("g", "trading")
    pod = core.read_namespaced_pod("g", "trading")
    assert pod.metadata.deletion_timestamp is not None and pod.metadata.deletion_grace_period_seconds == 30
    core.delete_namespaced_pod("g", "trading", grace_period_seconds=0)
    with pytest.raises(ApiException):
        core.read_namespaced_pod("g", "trading")
    api.create("pods", make_pod("unscheduled", node=None))
    core.delete_namespaced_pod("unscheduled", "trading")
    with pytest.raises(ApiException):
        core.read_namespaced_pod("unscheduled", "trading")


def test_status_and_scale_subresources(api: ApiHarness) -> None:
    apps = client.AppsV1Api(api.client())
    apps.create_namespaced_deployment("trading", DEPLOYMENT)
    apps.patch_namespaced_deployment_status("trading-bot", "trading", {"status": {"readyReplicas": 2, "replicas": 3}})
    dep = apps.read_namespaced_deployment("trading-bot", "trading")
    assert dep.status.ready_replicas == 2 and dep.metadata.generation == 1
    scale = apps.read_namespaced_deployment_scale("trading-bot", "trading")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=trading-bot"
    apps.patch_namespaced_deployment_scale("trading-bot", "trading", {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("trading-bot", "trading").spec.replicas == 4
    resp = api.http(
        "PATCH", "/apis/apps/v1/namespaces/trading/deployments/trading-bot/scale",
        json={"spec": {"replicas": -2}}, headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 422


def test_server_side_apply_creates_then_merges(api: ApiHarness) -> None:
    path = "/api/v1/namespaces/trading/configmaps/ssa?fieldManager=test"
    headers = {"Content-Type": "application/apply-patch+yaml"}
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n"
    assert api.http("PATCH", path, data=body, headers=headers).status_code == 201
    resp = api.http("PATCH", path, data=body.replace("a: '1'", "b: '2'"), headers=headers)
    assert resp.status_code == 200 and resp.json()["data"] == {"a": "1", "b": "2"}


def test_logs_tail_and_follow_ends_when_pod_goes(api: ApiHarness) -> None:
    core = client.CoreV1Api(api.client())
    api.create("pods", make_pod("l"))
    log = api.cluster.log_file("trading", "l", "app")
    log.write_text("".join(f"line {i}\n" for i in range(10)))
    assert core.read_namespaced_pod_log("l", "trading", tail_lines=2) == "line 8\nline 9\n"

    def later() -> None:
        time.sleep(1.0)
        with log.open("a") as fh:
            fh.write("late line\n")
        time.sleep(0.3)
        api.call(api.store.delete, "pods", "trading", "l")

    threading.Thread(target=later, daemon=True).start()
    started = time.monotonic()
    resp = api.http("GET", "/api/v1/namespaces/trading/pods/l/log?follow=true&tailLines=1", stream=True)
    text = b"".join(resp.iter_content(None)).decode()
    assert text == "line 9\nlate line\n"
    assert time.monotonic() - started < 5
    api.create("pods", make_pod("never-started"))
    resp = api.http("GET", "/api/v1/namespaces/trading/pods/never-started/log")
    assert resp.status_code == 400 and "waiting to start" in resp.json()["message"]


def test_exec_over_websocket_with_python_client(api: ApiHarness) -> None:
    from kubernetes.stream import stream

    api.create("pods", make_pod("e"))
    api.cluster.log_file("trading", "e", "app")
    core = client.CoreV1Api(api.client())
    out = stream(
        core.connect_get_namespaced_pod_exec, "e", "trading",
        command=["/bin/sh", "-c", "echo $POD_NAME"], stderr=True, stdin=False, stdout=True, tty=False,
    )
    assert out.strip() == "e"
    resp = stream(
        core.connect_get_namespaced_pod_exec, "e", "trading",
        command=["/bin/sh", "-c", "exit 5"], stderr=True, stdin=False, stdout=True, tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=10)
    assert resp.returncode == 5


def test_spdy_exec_is_refused_with_a_clear_status(api: ApiHarness) -> None:
    api.create("pods", make_pod("s"))
    api.cluster.log_file("trading", "s", "app")
    resp = api.http(
        "POST", "/api/v1/namespaces/trading/pods/s/exec?command=ls&stdout=true",
        headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "v4.channel.k8s.io"},
    )
    assert resp.status_code == 400 and "SPDY is not supported" in resp.json()["message"]


def test_metrics_api(api: ApiHarness) -> None:
    api.create("pods", make_pod("m"))
    api.create("nodes", {"metadata": {"name": "sandbox"}})
    api.cluster.log_file("trading", "m", "app")
    body = api.http("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/trading/pods").json()
    assert body["items"][0]["containers"][0]["usage"] == {"cpu": "12m", "memory": "48Mi"}
    node = api.http("GET", "/apis/metrics.k8s.io/v1beta1/nodes/sandbox").json()
    assert node["usage"]["cpu"] == "12m"


def test_table_output(api: ApiHarness) -> None:
    api.create("pods", make_pod("t"))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = api.http("GET", "/api/v1/namespaces/trading/pods", headers={"Accept": accept}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:4] == ["t", "1/1", "Running", "0"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_namespace_delete_removes_content(api: ApiHarness) -> None:
    core = client.CoreV1Api(api.client())
    core.create_namespace({"metadata": {"name": "scratch"}})
    core.create_namespaced_config_map("scratch", {"metadata": {"name": "c"}, "data": {"a": "b"}})
    core.delete_namespace("scratch")
    assert core.list_namespaced_config_map("scratch").items == []


BAD_BODIES: list[Any] = [
    [], "text", 42, None, {"metadata": "x"}, {"metadata": {"name": 5}}, {"metadata": {"name": "ok", "labels": ["a"]}},
    {"metadata": {"name": "ok", "labels": {"a": 1}}}, {"metadata": {"name": "ok", "annotations": {"a": 1}}},
    {"metadata": {"name": "ok"}, "spec": "x"}, {"metadata": {"name": "ok"}, "spec": {"containers": "x"}},
    {"metadata": {"name": "ok"}, "spec": {"containers": [5]}}, {"metadata": {"name": "ok"}, "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": "x"}]}]}},
    {"metadata": {"name": "ok"}, "spec": {"selector": "x", "template": 3}},
    {"metadata": {"name": "ok"}, "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "template": {}}},
    {"metadata": {"name": "ok"}, "spec": {"ports": [{"port": 0}]}}, {"metadata": {"name": "ok"}, "data": {"a": 1}},
    {"kind": "Pod", "metadata": {"name": "ok"}}, {"metadata": {"name": "x" * 300}},
]


@pytest.mark.parametrize("path", [
    "/api/v1/namespaces/trading/pods", "/apis/apps/v1/namespaces/trading/deployments",
    "/api/v1/namespaces/trading/services", "/api/v1/namespaces/trading/configmaps", "/api/v1/namespaces",
])
def test_garbage_never_causes_a_server_error(api: ApiHarness, path: str) -> None:
    for body in BAD_BODIES:
        resp = api.http("POST", path, data=json.dumps(body), headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, (body, resp.text)
        assert resp.status_code in (201, 400, 404, 409, 422), (body, resp.status_code)
        assert resp.json()["kind"] != "Status" or resp.json()["status"] == "Failure"
    for body in BAD_BODIES:
        for ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json"):
            resp = api.http("PATCH", f"{path}/ok", data=json.dumps(body), headers={"Content-Type": ctype})
            assert resp.status_code < 500, (body, ctype, resp.text)
        resp = api.http("PUT", f"{path}/ok", data=json.dumps(body), headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, (body, resp.text)


def test_garbage_on_subresources_and_query_parameters(api: ApiHarness) -> None:
    api.create("pods", make_pod("q"))
    base = "/api/v1/namespaces/trading/pods"
    for query in ("watch=1&timeoutSeconds=abc", "watch=1&resourceVersion=abc", "limit=abc", "continue=%%%", "labelSelector=(((", "fieldSelector=nonsense"):
        resp = api.http("GET", f"{base}?{query}")
        assert resp.status_code == 400, (query, resp.text)
    for path, ctype, body in [
        (f"{base}/q/status", "application/merge-patch+json", b'{"status": "x"}'),
        (f"{base}/q/log?tailLines=abc", None, None),
        (f"{base}/q/exec", None, None),
        ("/apis/apps/v1/namespaces/trading/deployments/none/scale", "application/merge-patch+json", b"{}"),
    ]:
        method = "PATCH" if body is not None else "GET"
        resp = api.http(method, path, data=body, headers={"Content-Type": ctype} if ctype else {})
        assert 400 <= resp.status_code < 500, (path, resp.text)
    resp = api.http("PUT", f"{base}/q/status", json={"metadata": {"name": "q"}, "status": []})
    assert resp.status_code == 400


def test_orphan_deletion_strips_owner_references(api: ApiHarness) -> None:
    apps = client.AppsV1Api(api.client())
    owner = apps.create_namespaced_deployment("trading", DEPLOYMENT)
    pod = make_pod("child")
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "trading-bot", "uid": owner.metadata.uid}]
    api.create("pods", pod)
    apps.delete_namespaced_deployment("trading-bot", "trading", propagation_policy="Orphan")
    child = client.CoreV1Api(api.client()).read_namespaced_pod("child", "trading")
    assert not child.metadata.owner_references


def test_selector_watch_reports_objects_leaving_and_entering_the_selection(api: ApiHarness) -> None:
    api.create("pods", make_pod("sel", labels={"app": "trading-bot"}))

    def relabel(value: str) -> None:
        api.call(api.store.mutate, "pods", "trading", "sel", lambda p: p["metadata"]["labels"].update(app=value))

    def produce() -> None:
        time.sleep(1.0)
        relabel("other")  # leaves the selection -> DELETED
        relabel("other2")  # still outside -> nothing
        relabel("trading-bot")  # back in -> ADDED

    threading.Thread(target=produce, daemon=True).start()
    resp = api.http("GET", "/api/v1/namespaces/trading/pods?watch=1&labelSelector=app%3Dtrading-bot&timeoutSeconds=3", stream=True)
    events = [json.loads(line)["type"] for line in resp.iter_lines() if line]
    assert events == ["ADDED", "DELETED", "ADDED"]
