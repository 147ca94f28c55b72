"""Deployment / ReplicaSet / GC semantics, driven through the store with process-less pods."""

from __future__ import annotations

import asyncio
import copy
import pathlib
from functools import partial
from typing import Any

import pytest
import yaml

from goldgate.sandbox.controllers import FAULTS, FaultContext, list_faults
from goldgate.sandbox.controllers import deployment as dc
from goldgate.sandbox.controllers.faults import apply_faults
from goldgate.sandbox.controllers.images import ImagePullError, resolve_image
from goldgate.sandbox.controllers.manifests import load
from goldgate.sandbox.controllers.timing import Timing
from goldgate.sandbox.store import Store
from tests.sandbox.test_controllers_harness import (
    NS,
    REAL_MANIFESTS,
    ClusterHarness,
    condition,
    deployment,
    is_ready,
    run_scenario,
)

pytestmark = pytest.mark.sandbox


run = partial(run_scenario, timeout_s=60)


# --------------------------------------------------------------------------- pure parts
@pytest.mark.parametrize(("value", "total", "up", "expected"), [
    (1, 3, True, 1), ("25%", 3, True, 1), ("25%", 3, False, 0), ("50%", 3, True, 2),
    ("50%", 3, False, 1), ("0%", 10, True, 0), ("33%", 10, False, 3), ("33%", 10, True, 4),
])
def test_int_or_percent_rounds_like_upstream(value: Any, total: int, up: bool, expected: int) -> None:
    assert dc.scaled_value(value, total, up) == expected


def test_both_fenceposts_zero_means_one_unavailable() -> None:
    d = deployment(replicas=3, surge=0, unavailable=0)
    assert dc.surge_and_unavailable(d) == (0, 1)


def test_template_hash_ignores_hash_label_and_changes_with_template() -> None:
    t = deployment()["spec"]["template"]
    labelled = copy.deepcopy(t)
    labelled["metadata"]["labels"]["pod-template-hash"] = "abc"
    assert dc.template_hash(t) == dc.template_hash(labelled)
    other = copy.deepcopy(t)
    other["spec"]["containers"][0]["image"] = "sandbox/pause:2"
    assert dc.template_hash(t) != dc.template_hash(other)
    assert set(dc.template_hash(t)) <= set("bcdfghjklmnpqrstvwxz2456789")


@pytest.mark.parametrize(("image", "kind", "tag", "env"), [
    ("trading-bot:v1.2.0", "bot", "v1.2.0", {}),
    ("registry.io/trading-bot:v1.3.0", "bot", "v1.3.0", {}),
    ("registry.io/team/trading-bot:v1.3.0-slow", "bot", "v1.3.0-slow",
     {"FAULT_SLOWDOWN_FACTOR": "3"}),
    ("trading-bot:v1.3.0-errors", "bot", "v1.3.0-errors", {"FAULT_ERROR_RATE": "0.03"}),
    ("trading-bot:v1.3.0-broken", "bot", "v1.3.0-broken", {"FAULT_NEVER_READY": "true"}),
    # The previous release is its own build (16 ms inference); "-fast" overrides it (1 ms).
    ("trading-bot:v1.1.0", "bot", "v1.1.0", {"BOT_SIGNAL_BASE_MS": "16"}),
    ("trading-bot:v1.1.0-fast", "bot", "v1.1.0-fast", {"BOT_SIGNAL_BASE_MS": "1"}),
    ("trading-bot:v1.1.0-errors", "bot", "v1.1.0-errors", {"BOT_SIGNAL_BASE_MS": "16", "FAULT_ERROR_RATE": "0.03"}),
    ("localhost:5000/trading-bot", "bot", "latest", {}),
    ("sandbox/pause", "pause", "latest", {}),
    ("registry.k8s.io/pause:3.9", "pause", "3.9", {}),
    ("sandbox/exec", "exec", "latest", {}),
])
def test_image_catalog(image: str, kind: str, tag: str, env: dict[str, str]) -> None:
    spec = resolve_image(image)
    assert (spec.kind, spec.tag) == (kind, tag)
    if kind == "bot":
        assert spec.env == {"BOT_VERSION": tag, **env}


def test_unknown_image_is_a_pull_error_naming_the_image() -> None:
    with pytest.raises(ImagePullError, match=r"nginx:1\.27"):
        resolve_image("nginx:1.27")


def test_backoff_doubles_from_base_to_cap() -> None:
    t = Timing(scale=0.1, backoff_s=10, backoff_cap_s=300)
    assert [t.backoff(n) for n in range(7)] == [0, 10, 20, 40, 80, 160, 300]
    assert t.probe(30) == pytest.approx(3.0)


# --------------------------------------------------------------------------- manifests, faults
def test_manifests_are_valid_for_kubernetes_1_37() -> None:
    import kubernetes_validate

    for path in sorted(REAL_MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["apiVersion"].startswith("gateway.networking.k8s.io/"):
                continue  # CRD kinds have no built-in schema: tests/gateway/test_manifest.py checks them
            kubernetes_validate.validate(doc, "1.37", strict=True)


def test_deployment_manifest_is_the_guides() -> None:
    docs = {d["kind"]: d for d in load(REAL_MANIFESTS)}
    d = docs["Deployment"]
    assert d["metadata"]["namespace"] == "trading"
    assert d["spec"]["replicas"] == 3
    assert d["spec"]["strategy"] == {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "trading-bot:v1.2.0"
    assert c["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"},
                              "limits": {"cpu": "1000m", "memory": "1Gi"}}
    assert c["livenessProbe"] == {"httpGet": {"path": "/health", "port": 8080},
                                  "initialDelaySeconds": 30, "periodSeconds": 10}
    assert c["readinessProbe"] == {"httpGet": {"path": "/ready", "port": 8080},
                                   "initialDelaySeconds": 10, "periodSeconds": 5}
    assert d["spec"]["template"]["metadata"]["labels"] == {"app": "trading-bot"}
    svc = next(x for x in load(REAL_MANIFESTS) if x["kind"] == "Service" and x["metadata"]["name"] == "trading-bot")
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == 8080
    assert docs["NetworkPolicy"]["spec"]["podSelector"] == {"matchLabels": {"app": "trading-bot"}}
    assert {"Namespace", "ConfigMap"} <= set(docs)


REQUIRED_FAULTS = {
    "error-rate": {"FAULT_ERROR_RATE": "0.03"},
    "latency": {"FAULT_LATENCY_MS": "600"},
    "never-ready": {"FAULT_NEVER_READY": "true"},
    "crash-loop": {"FAULT_CRASH_AT_START": "true"},
    "memory-leak": {"FAULT_MEMORY_GROWTH_MB_PER_S": "20"},
    "disk-pressure": {"FAULT_DISK_FREE_PERCENT": "5"},
    "stall": {"FAULT_STALL_EVERY_S": "20", "FAULT_STALL_S": "5"},
    "network-io": {"FAULT_RESPONSE_PADDING_BYTES": "20000"},
}


@pytest.mark.parametrize("name", sorted(REQUIRED_FAULTS))
def test_fault_sets_the_bot_knobs_in_the_deployment(name: str, tmp_path: pathlib.Path) -> None:
    docs = load(REAL_MANIFESTS)
    apply_faults([name], FaultContext(docs, Store(), tmp_path))
    d = next(x for x in docs if x["kind"] == "Deployment")
    c = d["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in c.get("env", [])}
    assert env == REQUIRED_FAULTS[name]
    if name == "memory-leak":
        assert c["resources"]["limits"]["memory"] == "256Mi"
    assert name in dict(list_faults())


def test_unknown_fault_is_refused_with_the_known_names(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match=r"unknown sandbox fault.*error-rate"):
        apply_faults(["no-such-fault"], FaultContext([], Store(), tmp_path))
    assert set(REQUIRED_FAULTS) <= set(FAULTS)


# --------------------------------------------------------------------------- deployment
def test_deployment_creates_replicaset_and_pods_with_upstream_metadata(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3))
            await h.wait_for(h.rollout_complete, what="rollout")
            [rs] = h.replicasets()
            d = h.deploy()
            phash = rs["metadata"]["labels"]["pod-template-hash"]
            assert rs["metadata"]["name"] == f"web-{phash}"
            assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": phash}
            ann = rs["metadata"]["annotations"]
            assert ann[dc.REVISION] == "1" and ann[dc.DESIRED] == "3" and ann[dc.MAX_REPLICAS] == "4"
            ref = rs["metadata"]["ownerReferences"][0]
            assert (ref["kind"], ref["uid"], ref["controller"]) == ("Deployment", d["metadata"]["uid"], True)
            assert d["metadata"]["annotations"][dc.REVISION] == "1"
            pods = h.pods("app=web")
            assert len(pods) == 3
            for pod in pods:
                assert pod["metadata"]["name"].startswith(f"web-{phash}-")
                assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
                assert pod["metadata"]["labels"]["pod-template-hash"] == phash
                assert pod["status"]["phase"] == "Running" and is_ready(pod)
                assert pod["spec"]["nodeName"] == "sandbox-node"
            st = d["status"]
            assert st["observedGeneration"] == d["metadata"]["generation"]
            assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"],
                    st["availableReplicas"]) == (3, 3, 3, 3)
            assert "unavailableReplicas" not in st
            assert condition(d, "Available")["reason"] == "MinimumReplicasAvailable"
            assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
            rs = h.replicasets()[0]
            assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
                                    "availableReplicas": 3, "observedGeneration": 1}
            assert h.events("ScalingReplicaSet")[0]["message"] == \
                f"Scaled up replica set web-{phash} from 0 to 3"
            assert h.events("SuccessfulCreate")
    run(scenario())


@pytest.mark.parametrize(("replicas", "surge", "unavailable", "max_surge", "max_unav"), [
    (3, 1, 0, 1, 0),
    (3, 0, 1, 0, 1),
    (4, "25%", "25%", 1, 1),
    (3, "50%", "50%", 2, 1),
    (5, 2, 2, 2, 2),
])
def test_rolling_update_honours_surge_and_unavailable_at_every_step(
        tmp_path: pathlib.Path, replicas: int, surge: Any, unavailable: Any,
        max_surge: int, max_unav: int) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=replicas, surge=surge,
                                               unavailable=unavailable))
            await h.wait_for(h.rollout_complete, what="first rollout")
            observed_total: list[int] = []
            observed_ready: list[int] = []

            def check(event: Any) -> None:
                if event.resource != "pods":
                    return
                pods = h.pods("app=web")
                observed_total.append(len(pods))
                observed_ready.append(sum(1 for p in pods if is_ready(p)))

            unsubscribe = h.store.subscribe(check)
            h.set_image("sandbox/pause:2")
            await h.wait_for(lambda: h.rollout_complete() and
                             len(h.pods("app=web", include_terminating=True)) == replicas,
                             what="second rollout")
            unsubscribe()
            assert max(observed_total) <= replicas + max_surge
            assert min(observed_ready) >= replicas - max_unav
            if max_surge:
                assert max(observed_total) == replicas + max_surge
            images = {p["spec"]["containers"][0]["image"] for p in h.pods("app=web")}
            assert images == {"sandbox/pause:2"}
            assert len(h.replicasets()) == 2
    run(scenario())


def test_recreate_removes_every_old_pod_before_creating_new_ones(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3, strategy="Recreate"))
            await h.wait_for(h.rollout_complete)
            old_hash = h.replicasets()[0]["metadata"]["labels"]["pod-template-hash"]
            violations: list[int] = []

            def check(event: Any) -> None:
                if event.resource == "pods" and event.type == "ADDED":
                    old = [p for p in h.pods("app=web", include_terminating=True)
                           if p["metadata"]["labels"]["pod-template-hash"] == old_hash]
                    if old:
                        violations.append(len(old))

            h.store.subscribe(check)
            h.set_image("sandbox/pause:2")
            await h.wait_for(lambda: h.rollout_complete() and len(h.replicasets()) == 2)
            assert not violations, f"new pods created while {violations} old pods existed"
            assert condition(h.deploy(), "Progressing")["reason"] == "NewReplicaSetAvailable"
    run(scenario())


def test_rollback_by_template_reuses_the_old_replicaset_with_a_new_revision(
        tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=2))
            await h.wait_for(h.rollout_complete)
            first = h.replicasets()[0]
            original_template = copy.deepcopy(h.deploy()["spec"]["template"])

            def cause(text: str) -> Any:
                def put(d: dict[str, Any]) -> None:
                    d["metadata"].setdefault("annotations", {})[dc.CHANGE_CAUSE] = text
                return put

            h.mutate_deploy(cause("kubectl set image web=sandbox/pause:2"))
            h.set_image("sandbox/pause:2")
            await h.wait_for(lambda: h.rollout_complete() and len(h.replicasets()) == 2)
            second = next(rs for rs in h.replicasets()
                          if rs["metadata"]["uid"] != first["metadata"]["uid"])
            assert second["metadata"]["annotations"][dc.REVISION] == "2"
            assert second["metadata"]["annotations"][dc.CHANGE_CAUSE] == \
                "kubectl set image web=sandbox/pause:2"

            def undo(d: dict[str, Any]) -> None:  # what kubectl rollout undo sends
                d["spec"]["template"] = original_template
            h.mutate_deploy(undo)
            await h.wait_for(lambda: h.rollout_complete() and
                             h.deploy()["metadata"]["annotations"][dc.REVISION] == "3")
            rss = {rs["metadata"]["name"]: rs for rs in h.replicasets()}
            assert len(rss) == 2, "rollback must reuse the old ReplicaSet, not create one"
            reused = rss[first["metadata"]["name"]]
            assert reused["metadata"]["annotations"][dc.REVISION] == "3"
            assert reused["metadata"]["annotations"][dc.REVISION_HISTORY] == "1"
            assert reused["spec"]["replicas"] == 2
            assert rss[second["metadata"]["name"]]["spec"]["replicas"] == 0
            images = {p["spec"]["containers"][0]["image"] for p in h.pods("app=web")}
            assert images == {"sandbox/pause"}
    run(scenario())


def test_revision_history_limit_prunes_oldest_scaled_down_replicasets(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=1, revisionHistoryLimit=1))
            for tag in ("2", "3", "4"):
                await h.wait_for(h.rollout_complete)
                h.set_image(f"sandbox/pause:{tag}")
            await h.wait_for(lambda: h.rollout_complete() and len(h.replicasets()) == 2,
                             what="pruning to 1 old ReplicaSet")
            revisions = sorted(int(rs["metadata"]["annotations"][dc.REVISION])
                               for rs in h.replicasets())
            assert revisions == [3, 4]
    run(scenario())


def test_progress_deadline_exceeded_when_new_pods_never_become_available(
        tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3, progressDeadlineSeconds=2))
            await h.wait_for(h.rollout_complete)
            h.set_image("registry.io/no-such-image:1.0")
            await h.wait_for(lambda: condition(h.deploy(), "Progressing").get("reason")
                             == "ProgressDeadlineExceeded", timeout=15, what="deadline")
            d = h.deploy()
            prog = condition(d, "Progressing")
            assert prog["status"] == "False"
            assert "has timed out progressing" in prog["message"]
            assert condition(d, "Available")["status"] == "True"
            st = d["status"]
            assert (st["replicas"], st["updatedReplicas"], st["availableReplicas"],
                    st["unavailableReplicas"]) == (4, 1, 3, 1)
            old = [p for p in h.pods("app=web") if p["spec"]["containers"][0]["image"]
                   == "sandbox/pause"]
            assert len(old) == 3 and all(is_ready(p) for p in old)
            [new] = [p for p in h.pods("app=web") if p not in old]
            waiting = new["status"]["containerStatuses"][0]["state"]["waiting"]
            assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
            assert "registry.io/no-such-image:1.0" in waiting["message"]
            assert h.events("ProgressDeadlineExceeded")
    run(scenario())


def test_paused_deployment_does_not_roll_until_resumed(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=2))
            await h.wait_for(h.rollout_complete)

            def pause(d: dict[str, Any]) -> None:
                d["spec"]["paused"] = True
                d["spec"]["template"]["spec"]["containers"][0]["image"] = "sandbox/pause:2"
            h.mutate_deploy(pause)
            await h.wait_for(lambda: condition(h.deploy(), "Progressing").get("reason")
                             == "DeploymentPaused")
            await asyncio.sleep(0.3)
            assert len(h.replicasets()) == 1

            def resume(d: dict[str, Any]) -> None:
                d["spec"]["paused"] = False
            h.mutate_deploy(resume)
            await h.wait_for(lambda: h.rollout_complete() and len(h.replicasets()) == 2)
    run(scenario())


def test_scaling_up_and_down(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=2))
            await h.wait_for(h.rollout_complete)
            for n in (5, 1, 0, 3):
                def scale(d: dict[str, Any], n: int = n) -> None:
                    d["spec"]["replicas"] = n
                h.mutate_deploy(scale)
                await h.wait_for(lambda n=n: h.rollout_complete() and
                                 len(h.pods("app=web", include_terminating=True)) == n,
                                 what=f"{n} replicas")
                rs = h.replicasets()[0]
                assert rs["metadata"]["annotations"][dc.DESIRED] == str(n)
            assert len(h.replicasets()) == 1
    run(scenario())


def test_min_ready_seconds_delays_availability(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=1, minReadySeconds=2))
            await h.wait_for(lambda: h.deploy().get("status", {}).get("readyReplicas") == 1)
            st = h.deploy()["status"]
            assert st.get("availableReplicas", 0) == 0 and st["unavailableReplicas"] == 1
            await h.wait_for(h.rollout_complete, timeout=10)
    run(scenario())


def test_garbage_collector_cascades_deployment_deletion(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3))
            await h.wait_for(h.rollout_complete)
            h.store.delete("deployments", NS, "web")
            await h.wait_for(lambda: not h.replicasets() and
                             not h.pods("app=web", include_terminating=True),
                             what="cascade to ReplicaSets and Pods")
            # an orphan whose owner never existed is collected too
            h.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": "orphan", "namespace": NS, "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": "gone",
                    "uid": "00000000-0000-0000-0000-000000000000", "controller": True}]}})
            await h.wait_for(lambda: h.store.find("configmaps", NS, "orphan") is None)
    run(scenario())


def test_replicaset_replaces_a_deleted_pod(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=2))
            await h.wait_for(h.rollout_complete)
            victim = h.pods("app=web")[0]["metadata"]["name"]
            h.store.mark_deleting("pods", NS, victim, 0)
            await h.wait_for(lambda: len(h.pods("app=web")) == 2 and victim not in
                             {p["metadata"]["name"] for p in h.pods("app=web",
                                                                     include_terminating=True)})
            assert h.events("SuccessfulCreate")[0]["count"] >= 1
    run(scenario())


def test_node_and_manifests_are_applied_at_start(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path, manifests=REAL_MANIFESTS) as h:
            node = h.store.get("nodes", None, "sandbox-node")
            assert node["status"]["capacity"]["cpu"] == "2"
            assert node["status"]["capacity"]["memory"].endswith("Ki")
            assert condition(node, "Ready")["status"] == "True"
            for resource, name in (("deployments", "trading-bot"), ("services", "trading-bot"),
                                   ("configmaps", "trading-bot-config"),
                                   ("networkpolicies", "trading-bot")):
                assert h.store.find(resource, NS, name) is not None
            assert h.store.find("namespaces", None, "trading") is not None
    run(scenario())


def test_undo_after_deadline_never_reports_the_stale_deadline(tmp_path: pathlib.Path) -> None:
    """What `kubectl rollout status` polls right after `rollout undo` of a stuck release."""
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3, progressDeadlineSeconds=1))
            await h.wait_for(h.rollout_complete)
            good = copy.deepcopy(h.deploy()["spec"]["template"])
            h.set_image("registry.io/no-such-image:2.0")
            await h.wait_for(lambda: condition(h.deploy(), "Progressing").get("reason")
                             == "ProgressDeadlineExceeded", timeout=15)
            stale: list[str] = []

            def watch(event: Any) -> None:
                if event.resource == "deployments":
                    d = event.obj
                    if d.get("status", {}).get("observedGeneration", 0) >= \
                            d["metadata"]["generation"] and condition(d, "Progressing").get(
                                "reason") == "ProgressDeadlineExceeded":
                        stale.append(d["metadata"]["resourceVersion"])

            h.store.subscribe(watch)

            def undo(d: dict[str, Any]) -> None:
                d["spec"]["template"] = good
            h.mutate_deploy(undo)
            await h.wait_for(lambda: h.rollout_complete() and
                             len(h.pods("app=web", include_terminating=True)) == 3)
            assert not stale, f"rollout status would have failed at resourceVersion {stale}"
            assert condition(h.deploy(), "Progressing")["reason"] == "NewReplicaSetAvailable"
    run(scenario())


def test_events_aggregate_repeats_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    from goldgate.sandbox.controllers import events as ev

    store = Store()
    pod = store.create("pods", {"apiVersion": "v1", "kind": "Pod",
                                "metadata": {"name": "p", "namespace": NS}, "spec": {}})
    rec = ev.EventRecorder(store)
    for _ in range(3):
        rec.record(pod, "Pod", "Warning", "Unhealthy", "Readiness probe failed: x", "kubelet")
    rec.record(pod, "Pod", "Normal", "Started", "Started container c", "kubelet")
    items = {e["reason"]: e for e in store.list("events", NS)[0]}
    assert items["Unhealthy"]["count"] == 3 and items["Started"]["count"] == 1
    e = items["Unhealthy"]
    assert e["involvedObject"] == {"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": NS,
                                   "uid": pod["metadata"]["uid"],
                                   "resourceVersion": pod["metadata"]["resourceVersion"]}
    assert e["type"] == "Warning" and e["source"] == {"component": "kubelet", "host": "sandbox-node"}
    assert e["firstTimestamp"] <= e["lastTimestamp"]
    monkeypatch.setattr(ev, "EVENT_TTL_S", -1.0)
    rec.record(pod, "Pod", "Normal", "Killing", "Stopping container c", "kubelet")
    assert [e["reason"] for e in store.list("events", NS)[0]] == ["Killing"]


def test_scaling_during_a_stuck_rollout_is_proportional(tmp_path: pathlib.Path) -> None:
    """Upstream proportional scaling: 3 old + 1 new (maxSurge 1) scaled to 6 → 5 + 2."""
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3))
            await h.wait_for(h.rollout_complete)
            h.set_image("registry.io/no-such-image:3.0")
            await h.wait_for(lambda: sorted(rs["spec"]["replicas"] for rs in h.replicasets())
                             == [1, 3])

            def scale(d: dict[str, Any]) -> None:
                d["spec"]["replicas"] = 6
            h.mutate_deploy(scale)
            await h.wait_for(lambda: sorted(rs["spec"]["replicas"] for rs in h.replicasets())
                             == [2, 5], what="old 5 + new 2")
            by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]:
                        rs["spec"]["replicas"] for rs in h.replicasets()}
            assert by_image == {"sandbox/pause": 5, "registry.io/no-such-image:3.0": 2}
            for rs in h.replicasets():
                ann = rs["metadata"]["annotations"]
                assert (ann[dc.DESIRED], ann[dc.MAX_REPLICAS]) == ("6", "7")
    run(scenario())
