"""ReplicaSet controller: keep ``spec.replicas`` active pods, report what exists.

Upstream behaviour kept: pods are named ``<rs>-<random>`` through generateName and
carry a controller ownerReference; surplus pods are chosen for deletion in the
upstream order (unscheduled, pending, not ready, ready for less time, more restarts,
newest first); ``status.replicas`` counts only active pods (terminating pods are not
counted, so a rollout can finish while old pods still drain).
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from typing import Any

from goldgate.sandbox.controllers.events import EventRecorder
from goldgate.sandbox.controllers.podutil import (
    Obj,
    condition,
    controller_uid,
    is_active,
    is_available,
    is_deleting,
    is_ready,
    owner_ref,
    utcnow,
)
from goldgate.sandbox.selectors import compile_label_selector, matches
from goldgate.sandbox.store import AlreadyExists, NotFound, Store

#: Pods created per ReplicaSet per pass (upstream creates in slow-start batches too).
BURST = 500
COMPONENT = "replicaset-controller"


def _deletion_rank(pod: Obj) -> tuple[Any, ...]:
    """Smaller sorts first = deleted first (upstream ActivePodsWithRanks, simplified)."""
    status = pod.get("status", {})
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", ""), 0)
    ready_since = (condition(pod, "Ready") or {}).get("lastTransitionTime", "")
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    created = pod["metadata"].get("creationTimestamp", "")
    return (
        1 if pod.get("spec", {}).get("nodeName") else 0,
        phase_rank,
        1 if is_ready(pod) else 0,
        # ready for a shorter time first: later transition → delete first
        _neg(ready_since) if is_ready(pod) else "",
        -restarts,
        _neg(created),
    )


def _neg(text: str) -> str:
    """Invert a timestamp string's order (newer first) for sorting."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


def pod_from_template(rs: Obj) -> Obj:
    template = copy.deepcopy(rs["spec"].get("template") or {})
    tmeta = template.get("metadata") or {}
    meta = {
        "generateName": rs["metadata"]["name"] + "-",
        "namespace": rs["metadata"].get("namespace", "default"),
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_ref(rs, "ReplicaSet", "apps/v1")],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": template.get("spec") or {}, "status": {"phase": "Pending"}}


class ReplicaSetController:
    def __init__(self, store: Store, events: EventRecorder) -> None:
        self._store = store
        self._events = events

    def reconcile(self, pods: list[Obj]) -> None:
        by_owner: dict[str, list[Obj]] = defaultdict(list)
        for pod in pods:
            uid = controller_uid(pod)
            if uid:
                by_owner[uid].append(pod)
        replicasets, _ = self._store.list("replicasets")
        for rs in replicasets:
            self._sync(rs, by_owner.get(rs["metadata"]["uid"], []))

    def _sync(self, rs: Obj, owned: list[Obj]) -> None:
        meta = rs["metadata"]
        ns = meta.get("namespace", "default")
        spec = rs.get("spec", {})
        active = [p for p in owned if is_active(p)]
        if not is_deleting(rs):
            desired = int(spec.get("replicas", 1))
            diff = len(active) - desired
            if diff < 0:
                for _ in range(min(-diff, BURST)):
                    pod = self._create_pod(rs)
                    if pod is None:
                        continue
                    active.append(pod)
                    self._events.record(rs, "ReplicaSet", "Normal", "SuccessfulCreate",
                                        f"Created pod: {pod['metadata']['name']}", COMPONENT)
            elif diff > 0:
                victims = sorted(active, key=_deletion_rank)[:diff]
                for pod in victims:
                    grace = int(pod.get("spec", {}).get("terminationGracePeriodSeconds", 30))
                    with contextlib.suppress(NotFound):
                        self._store.mark_deleting("pods", ns, pod["metadata"]["name"], grace)
                    active.remove(pod)
                    self._events.record(rs, "ReplicaSet", "Normal", "SuccessfulDelete",
                                        f"Deleted pod: {pod['metadata']['name']}", COMPONENT)
        self._update_status(rs, active)

    def _create_pod(self, rs: Obj) -> Obj | None:
        """Create one pod; a generateName collision is retried, as upstream clients do."""
        for _attempt in range(5):
            try:
                return self._store.create("pods", pod_from_template(rs))
            except AlreadyExists:
                continue
        return None

    def _update_status(self, rs: Obj, active: list[Obj]) -> None:
        spec = rs.get("spec", {})
        min_ready = int(spec.get("minReadySeconds", 0))
        tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        treqs = compile_label_selector({"matchLabels": tlabels})
        now = utcnow()
        status: Obj = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1 for p in active if matches(treqs, p["metadata"].get("labels"))),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "availableReplicas": sum(1 for p in active if is_available(p, min_ready, now)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        # The API server omits zero counts; keep "replicas" always (it is required).
        status = {k: v for k, v in status.items() if v or k == "replicas"}
        if rs.get("status") != status:
            def put(obj: Obj) -> None:
                obj["status"] = status

            with contextlib.suppress(NotFound):
                self._store.mutate("replicasets", rs["metadata"].get("namespace"),
                                   rs["metadata"]["name"], put, status_only=True)
