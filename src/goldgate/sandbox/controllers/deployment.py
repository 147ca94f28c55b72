"""Deployment controller: ReplicaSets per pod template, rolled by the strategy.

This follows the upstream controller (pkg/controller/deployment) step for step, so that
``kubectl rollout status|history|undo`` read the same fields with the same meaning:

- the new ReplicaSet is the one whose template equals the Deployment's (ignoring the
  ``pod-template-hash`` label); when an *old* ReplicaSet matches — ``rollout undo``
  copies its template back — it is reused and receives the next revision number;
- RollingUpdate scales the new ReplicaSet up to ``replicas + maxSurge`` total pods and
  old ones down while at least ``replicas - maxUnavailable`` pods stay available (surge
  rounds up, unavailable rounds down; both zero means maxUnavailable 1);
- Recreate scales every old ReplicaSet to 0, waits until their pods are gone, then
  scales the new one up;
- conditions Available / Progressing with upstream reasons, including
  ``ProgressDeadlineExceeded`` once no progress was seen for progressDeadlineSeconds;
- fully scaled-down old ReplicaSets beyond ``revisionHistoryLimit`` are deleted.

One deliberate difference: when ``rollout undo`` revives an old ReplicaSet, the
Progressing condition restarts (FoundNewReplicaSet), as for a new ReplicaSet, so a
rollback of a release that hit its deadline is not reported as failed by
``kubectl rollout status`` during the moment before the controller sees progress.

Defaults the API server would fill in (strategy 25 %/25 %, revisionHistoryLimit 10,
progressDeadlineSeconds 600) are applied when reading, never written into the spec.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import math
from typing import Any

from goldgate.sandbox.controllers.events import EventRecorder
from goldgate.sandbox.controllers.podutil import (
    Obj,
    condition,
    controller_uid,
    is_deleting,
    owner_ref,
    parse_time,
    set_condition,
    utcnow,
)
from goldgate.sandbox.store import AlreadyExists, NotFound, Store, StoreError, now_rfc3339

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
#: Deployment annotations never copied to its ReplicaSets (upstream skipCopyAnnotation).
_SKIP_COPY = {REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS,
              "kubectl.kubernetes.io/last-applied-configuration"}
COMPONENT = "deployment-controller"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
#: progressDeadlineSeconds meaning "no deadline" (math.MaxInt32 upstream).
_NO_DEADLINE = 2**31 - 1


# ------------------------------------------------------------------ pure helpers
def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        value = "25%"
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = float(text[:-1])
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def surge_and_unavailable(deploy: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas (ResolveFenceposts)."""
    spec = deploy.get("spec", {})
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    ru = strategy.get("rollingUpdate") or {}
    surge = scaled_value(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled_value(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(deploy: Obj) -> int:
    replicas = int(deploy.get("spec", {}).get("replicas", 1))
    if (deploy["spec"].get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate" \
            or replicas == 0:
        return 0
    return min(surge_and_unavailable(deploy)[1], replicas)


def _template_without_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def templates_equal(a: Obj, b: Obj) -> bool:
    return _template_without_hash(a) == _template_without_hash(b)


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """fnv-1a (32 bit) of the template, encoded like upstream's SafeEncodeString.

    Upstream hashes Go's printed form of the struct, which cannot be reproduced here;
    a canonical JSON form gives the same property: equal templates, equal hashes.
    """
    data = json.dumps(_template_without_hash(template), sort_keys=True, separators=(",", ":"))
    if collision_count:
        data += str(collision_count)
    h = 0x811C9DC5
    for byte in data.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_ALPHABET[ord(ch) % len(_ALPHABET)] for ch in str(h))


def revision_of(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def spec_replicas(rs: Obj) -> int:
    return int(rs.get("spec", {}).get("replicas", 1))


def _status(rs: Obj, field: str) -> int:
    return int((rs.get("status") or {}).get(field, 0))


# ------------------------------------------------------------------ controller
class DeploymentController:
    def __init__(self, store: Store, events: EventRecorder) -> None:
        self._store = store
        self._events = events

    def reconcile(self) -> None:
        deployments, _ = self._store.list("deployments")
        if not deployments:
            return
        replicasets, _ = self._store.list("replicasets")
        pods_by_rs: dict[str, int] | None = None
        for d in deployments:
            owned = [rs for rs in replicasets
                     if controller_uid(rs) == d["metadata"]["uid"] and not is_deleting(rs)]
            if (d["spec"].get("strategy") or {}).get("type") == "Recreate" and pods_by_rs is None:
                pods_by_rs = self._pods_per_rs()
            try:
                self._sync(d, owned, pods_by_rs or {})
            except (NotFound, AlreadyExists):
                continue  # deleted meanwhile, or raced ourselves: next pass fixes it

    def _pods_per_rs(self) -> dict[str, int]:
        pods, _ = self._store.list("pods")
        out: dict[str, int] = {}
        for pod in pods:
            uid = controller_uid(pod)
            if uid and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
                out[uid] = out.get(uid, 0) + 1
        return out

    # -------------------------------------------------------------- sync
    def _sync(self, d: Obj, rs_list: list[Obj], pods_by_rs: dict[str, int]) -> None:
        if is_deleting(d):
            return
        spec = d["spec"]
        if spec.get("paused"):
            self._sync_scale_only(d, rs_list)
            return
        if self._is_scaling_event(d, rs_list):
            self._sync_scale_only(d, rs_list)
            return
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self._rollout_recreate(d, rs_list, pods_by_rs)
        else:
            self._rollout_rolling(d, rs_list)

    def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new_rs, _old = self._find_new(d, rs_list)
        if new_rs is None:
            return False
        for rs in rs_list:
            if spec_replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED)
            if desired is not None and int(desired) != int(d["spec"].get("replicas", 1)):
                return True
        return False

    @staticmethod
    def _find_new(d: Obj, rs_list: list[Obj]) -> tuple[Obj | None, list[Obj]]:
        template = d["spec"].get("template") or {}
        matching = sorted((rs for rs in rs_list if templates_equal(rs["spec"].get("template"),
                                                                   template)),
                          key=lambda r: (r["metadata"].get("creationTimestamp", ""),
                                         r["metadata"]["name"]))
        new_rs = matching[0] if matching else None
        old = [rs for rs in rs_list if new_rs is None or rs["metadata"]["uid"] !=
               new_rs["metadata"]["uid"]]
        return new_rs, old

    # -------------------------------------------------------------- new RS + revisions
    def _get_all(self, d: Obj, rs_list: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        new_rs, old = self._find_new(d, rs_list)
        max_old = max((revision_of(rs) for rs in old), default=0)
        new_revision = str(max_old + 1)
        if new_rs is not None:
            new_rs = self._refresh_new_rs(d, new_rs, new_revision)
        elif create:
            new_rs = self._create_new_rs(d, rs_list, new_revision)
        if new_rs is not None:
            self._set_deployment_revision(d, (new_rs["metadata"].get("annotations") or {})
                                          .get(REVISION, new_revision))
        return new_rs, old

    def _copy_annotations(self, d: Obj, rs_ann: dict[str, str]) -> bool:
        changed = False
        for k, v in (d["metadata"].get("annotations") or {}).items():
            if k in _SKIP_COPY or rs_ann.get(k) == v:
                continue
            rs_ann[k] = v
            changed = True
        return changed

    def _refresh_new_rs(self, d: Obj, rs: Obj, new_revision: str) -> Obj:
        ann = dict(rs["metadata"].get("annotations") or {})
        changed = self._copy_annotations(d, ann)
        old_rev = ann.get(REVISION)
        if old_rev is None or int(old_rev) < int(new_revision):
            if old_rev is not None:
                history = [h for h in ann.get(REVISION_HISTORY, "").split(",") if h]
                history.append(old_rev)
                ann[REVISION_HISTORY] = ",".join(history)
            ann[REVISION] = new_revision
            changed = True
        min_ready = int(d["spec"].get("minReadySeconds", 0))
        if changed or int(rs["spec"].get("minReadySeconds", 0)) != min_ready:
            def put(obj: Obj) -> None:
                obj["metadata"]["annotations"] = ann
                obj["spec"]["minReadySeconds"] = min_ready

            rs = self._store.mutate("replicasets", rs["metadata"].get("namespace"),
                                    rs["metadata"]["name"], put)
        revived = old_rev is not None and ann[REVISION] != old_rev
        if condition(d, "Progressing") is None or revived:
            # A reused ReplicaSet (rollout undo) starts a new rollout: its progress clock
            # restarts here, so a stale ProgressDeadlineExceeded of the abandoned release
            # is not reported by `kubectl rollout status` while the rollback proceeds.
            self._write_conditions(d, [{
                "type": "Progressing", "status": "True", "reason": "FoundNewReplicaSet",
                "message": f'Found new replica set "{rs["metadata"]["name"]}"'}], reset=revived)
        return rs

    def _create_new_rs(self, d: Obj, rs_list: list[Obj], new_revision: str) -> Obj:
        spec = d["spec"]
        ns = d["metadata"].get("namespace", "default")
        collision = int((d.get("status") or {}).get("collisionCount", 0))
        template = _template_without_hash(spec.get("template") or {})
        h = template_hash(template, collision)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        labels = dict(template["metadata"]["labels"])
        surge, _ = surge_and_unavailable(d)
        replicas = int(spec.get("replicas", 1))
        ann: dict[str, str] = {}
        self._copy_annotations(d, ann)
        ann[REVISION] = new_revision
        ann[DESIRED] = str(replicas)
        ann[MAX_REPLICAS] = str(replicas + surge)
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{d['metadata']['name']}-{h}", "namespace": ns,
                         "labels": labels, "annotations": ann,
                         "ownerReferences": [owner_ref(d, "Deployment", "apps/v1")]},
            "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds", 0)),
                     "selector": selector, "template": template},
        }
        rs["spec"]["replicas"] = self._new_rs_replicas(d, rs_list, rs)
        try:
            created = self._store.create("replicasets", rs)
        except AlreadyExists:
            # Hash collision with a different template: bump collisionCount and retry later.
            def bump(obj: Obj) -> None:
                obj.setdefault("status", {})["collisionCount"] = collision + 1

            self._store.mutate("deployments", ns, d["metadata"]["name"], bump, status_only=True)
            raise
        count = created["spec"]["replicas"]
        if count > 0:
            self._events.record(d, "Deployment", "Normal", "ScalingReplicaSet",
                                f"Scaled up replica set {created['metadata']['name']} "
                                f"from 0 to {count}", COMPONENT)
        self._write_conditions(d, [{
            "type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated",
            "message": f'Created new replica set "{created["metadata"]["name"]}"'}], reset=True)
        return created

    def _set_deployment_revision(self, d: Obj, revision: str) -> None:
        ann = d["metadata"].get("annotations") or {}
        if ann.get(REVISION) == revision:
            return

        def put(obj: Obj) -> None:
            obj["metadata"].setdefault("annotations", {})[REVISION] = revision

        updated = self._store.mutate("deployments", d["metadata"].get("namespace"),
                                     d["metadata"]["name"], put)
        d["metadata"] = updated["metadata"]

    def _new_rs_replicas(self, d: Obj, rs_list: list[Obj], new_rs: Obj) -> int:
        replicas = int(d["spec"].get("replicas", 1))
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return replicas
        surge, _ = surge_and_unavailable(d)
        current = sum(spec_replicas(rs) for rs in rs_list) + (
            0 if any(rs["metadata"].get("uid") == new_rs["metadata"].get("uid")
                     for rs in rs_list) else spec_replicas(new_rs))
        max_total = replicas + surge
        if current >= max_total:
            return spec_replicas(new_rs)
        up = min(max_total - current, replicas - spec_replicas(new_rs))
        return spec_replicas(new_rs) + max(0, up)

    # -------------------------------------------------------------- scaling
    def _scale(self, d: Obj, rs: Obj, count: int) -> Obj:
        replicas = int(d["spec"].get("replicas", 1))
        surge, _ = surge_and_unavailable(d)
        before = spec_replicas(rs)
        ann_wanted = {DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)}
        ann = rs["metadata"].get("annotations") or {}
        if before == count and all(ann.get(k) == v for k, v in ann_wanted.items()):
            return rs

        def put(obj: Obj) -> None:
            obj["spec"]["replicas"] = count
            obj["metadata"].setdefault("annotations", {}).update(ann_wanted)

        updated = self._store.mutate("replicasets", rs["metadata"].get("namespace"),
                                     rs["metadata"]["name"], put)
        if before != count:
            direction = "up" if count > before else "down"
            self._events.record(d, "Deployment", "Normal", "ScalingReplicaSet",
                                f"Scaled {direction} replica set {rs['metadata']['name']} "
                                f"from {before} to {count}", COMPONENT)
        return updated

    def _sync_scale_only(self, d: Obj, rs_list: list[Obj]) -> None:
        """sync(): a scaling event or a paused Deployment — scale, never roll."""
        new_rs, old = self._get_all(d, rs_list, create=False)
        all_rs = [*old, *([new_rs] if new_rs else [])]
        self._scale_all(d, new_rs, old)
        self._sync_status(d, new_rs, self._refetch(all_rs))

    def _scale_all(self, d: Obj, new_rs: Obj | None, old: list[Obj]) -> None:
        """Upstream ``scale()``: one active RS takes it all; else proportional scaling."""
        replicas = int(d["spec"].get("replicas", 1))
        all_rs = [*old, *([new_rs] if new_rs else [])]
        active = [rs for rs in all_rs if spec_replicas(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else (new_rs or max(
                old, key=lambda r: r["metadata"].get("creationTimestamp", ""), default=None))
            if target is not None:
                self._scale(d, target, replicas)
            return
        if new_rs is not None and spec_replicas(new_rs) == replicas and \
                (new_rs["metadata"].get("annotations") or {}).get(DESIRED) == str(replicas) and \
                _status(new_rs, "availableReplicas") == replicas:
            for rs in old:
                if spec_replicas(rs) > 0:
                    self._scale(d, rs, 0)
            return
        if (d["spec"].get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            return
        surge, _ = surge_and_unavailable(d)
        allowed = replicas + surge if replicas > 0 else 0
        to_add = allowed - sum(spec_replicas(rs) for rs in active)
        # larger first; newer first on ties when growing, older first when shrinking
        active.sort(key=lambda r: (r["metadata"].get("creationTimestamp", ""),
                                   r["metadata"]["name"]), reverse=to_add > 0)
        active.sort(key=spec_replicas, reverse=True)
        sizes: dict[str, int] = {}
        added = 0
        for rs in active:
            proportion = self._proportion(d, rs, to_add, added) if to_add else 0
            sizes[rs["metadata"]["name"]] = spec_replicas(rs) + proportion
            added += proportion
        for i, rs in enumerate(active):
            name = rs["metadata"]["name"]
            if i == 0 and to_add:
                sizes[name] = max(0, sizes[name] + to_add - added)  # leftovers to the largest
            self._scale(d, rs, sizes[name])

    @staticmethod
    def _proportion(d: Obj, rs: Obj, to_add: int, added: int) -> int:
        """deploymentutil.GetProportion."""
        if spec_replicas(rs) == 0 or to_add == added:
            return 0
        replicas = int(d["spec"].get("replicas", 1))
        if replicas == 0:
            fraction = -spec_replicas(rs)
        else:
            surge, _ = surge_and_unavailable(d)
            annotated = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
            base = int(annotated) if annotated else int((d.get("status") or {}).get("replicas", 0))
            if base <= 0:
                return 0
            fraction = math.floor(spec_replicas(rs) * (replicas + surge) / base + 0.5) \
                - spec_replicas(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _refetch(self, rs_list: list[Obj]) -> list[Obj]:
        out = []
        for rs in rs_list:
            fresh = self._store.find("replicasets", rs["metadata"].get("namespace"),
                                     rs["metadata"]["name"])
            if fresh is not None:
                out.append(fresh)
        return out

    # -------------------------------------------------------------- rolling update
    def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> None:
        new_rs, old = self._get_all(d, rs_list, create=True)
        assert new_rs is not None
        all_rs = [*old, new_rs]
        replicas = int(d["spec"].get("replicas", 1))
        # reconcileNewReplicaSet
        if spec_replicas(new_rs) != replicas:
            if spec_replicas(new_rs) > replicas:
                self._scale(d, new_rs, replicas)
                return self._finish(d, all_rs, new_rs)
            count = self._new_rs_replicas(d, all_rs, new_rs)
            if count != spec_replicas(new_rs):
                self._scale(d, new_rs, count)
                return self._finish(d, all_rs, new_rs)
        # reconcileOldReplicaSets
        if self._reconcile_old(d, old, new_rs):
            return self._finish(d, all_rs, new_rs)
        self._finish(d, all_rs, new_rs, cleanup=True)
        return None

    def _reconcile_old(self, d: Obj, old: list[Obj], new_rs: Obj) -> bool:
        old_count = sum(spec_replicas(rs) for rs in old)
        if old_count == 0:
            return False
        replicas = int(d["spec"].get("replicas", 1))
        all_count = old_count + spec_replicas(new_rs)
        min_available = replicas - max_unavailable(d)
        new_unavailable = spec_replicas(new_rs) - _status(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        scaled = 0
        # cleanupUnhealthyReplicas: old pods that are not available go first.
        old_sorted = sorted(old, key=lambda r: (r["metadata"].get("creationTimestamp", ""),
                                                r["metadata"]["name"]))
        refreshed = []
        for rs in old_sorted:
            if scaled >= max_scaled_down or spec_replicas(rs) == 0 or \
                    spec_replicas(rs) == _status(rs, "availableReplicas"):
                refreshed.append(rs)
                continue
            down = min(max_scaled_down - scaled, spec_replicas(rs) - _status(rs, "availableReplicas"))
            rs = self._scale(d, rs, spec_replicas(rs) - down)
            scaled += down
            refreshed.append(rs)
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(_status(rs, "availableReplicas") for rs in [*refreshed, new_rs])
        if available > min_available:
            total = available - min_available
            done = 0
            for rs in refreshed:
                if done >= total:
                    break
                if spec_replicas(rs) == 0:
                    continue
                down = min(spec_replicas(rs), total - done)
                self._scale(d, rs, spec_replicas(rs) - down)
                done += down
            scaled += done
        return scaled > 0

    # -------------------------------------------------------------- recreate
    def _rollout_recreate(self, d: Obj, rs_list: list[Obj], pods_by_rs: dict[str, int]) -> None:
        new_rs, old = self._get_all(d, rs_list, create=False)
        scaled_down = False
        for rs in old:
            if spec_replicas(rs) > 0:
                self._scale(d, rs, 0)
                scaled_down = True
        if scaled_down:
            return self._finish(d, [*old, *([new_rs] if new_rs else [])], new_rs)
        # oldPodsRunning: wait until every old pod (even a terminating one) is gone.
        if any(pods_by_rs.get(rs["metadata"]["uid"], 0) for rs in old):
            return self._finish(d, [*old, *([new_rs] if new_rs else [])], new_rs)
        if new_rs is None:
            new_rs, old = self._get_all(d, rs_list, create=True)
        assert new_rs is not None
        replicas = int(d["spec"].get("replicas", 1))
        if spec_replicas(new_rs) != replicas:
            new_rs = self._scale(d, new_rs, replicas)
        self._finish(d, [*old, new_rs], new_rs, cleanup=True)
        return None

    # -------------------------------------------------------------- status
    def _finish(self, d: Obj, all_rs: list[Obj], new_rs: Obj | None, cleanup: bool = False) -> None:
        fresh = self._refetch(all_rs)
        new_fresh = next((rs for rs in fresh if new_rs is not None and
                          rs["metadata"]["uid"] == new_rs["metadata"]["uid"]), None)
        d = self._store.find("deployments", d["metadata"].get("namespace"),
                             d["metadata"]["name"]) or d
        if cleanup:
            status = self._calculate_status(d, fresh, new_fresh)
            if self._complete(d, status):
                self._cleanup(d, [rs for rs in fresh if rs is not new_fresh])
        self._sync_status(d, new_fresh, fresh)

    def _calculate_status(self, d: Obj, all_rs: list[Obj], new_rs: Obj | None) -> Obj:
        available = sum(_status(rs, "availableReplicas") for rs in all_rs)
        total = sum(spec_replicas(rs) for rs in all_rs)
        status = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(_status(rs, "replicas") for rs in all_rs),
            "updatedReplicas": _status(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(0, total - available),
        }
        collision = (d.get("status") or {}).get("collisionCount")
        if collision:
            status["collisionCount"] = collision
        return status

    @staticmethod
    def _complete(d: Obj, status: Obj) -> bool:
        replicas = int(d["spec"].get("replicas", 1))
        return (status["updatedReplicas"] == replicas and status["replicas"] == replicas
                and status["availableReplicas"] == replicas
                and status["observedGeneration"] >= d["metadata"].get("generation", 1))

    @staticmethod
    def _progressing(old: Obj, new: Obj) -> bool:
        return (new["updatedReplicas"] > int(old.get("updatedReplicas", 0))
                or new["replicas"] < int(old.get("replicas", 0))  # old pods went away
                or new["readyReplicas"] > int(old.get("readyReplicas", 0))
                or new["availableReplicas"] > int(old.get("availableReplicas", 0)))

    def _sync_status(self, d: Obj, new_rs: Obj | None, all_rs: list[Obj]) -> None:
        d = self._store.find("deployments", d["metadata"].get("namespace"),
                             d["metadata"]["name"]) or d
        old_status = d.get("status") or {}
        status = self._calculate_status(d, all_rs, new_rs)
        now = now_rfc3339()
        conditions = copy.deepcopy(old_status.get("conditions") or [])
        replicas = int(d["spec"].get("replicas", 1))
        if status["availableReplicas"] >= replicas - max_unavailable(d):
            avail = {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability."}
        else:
            avail = {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                     "message": "Deployment does not have minimum availability."}
        conditions = self._put(conditions, avail, now)
        deadline = d["spec"].get("progressDeadlineSeconds", 600)
        progressing = next((c for c in conditions if c["type"] == "Progressing"), None)
        if d["spec"].get("paused"):
            if not progressing or progressing.get("reason") != "DeploymentPaused":
                conditions = self._put(conditions, {
                    "type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused",
                    "message": "Deployment is paused"}, now)
        elif progressing is not None and progressing.get("reason") == "DeploymentPaused":
            conditions = self._put(conditions, {
                "type": "Progressing", "status": "Unknown", "reason": "DeploymentResumed",
                "message": "Deployment is resumed"}, now)
        elif deadline is not None and deadline != _NO_DEADLINE and new_rs is not None:
            name = new_rs["metadata"]["name"]
            complete_already = (status["replicas"] == status["updatedReplicas"] and progressing
                                is not None and progressing.get("reason") == "NewReplicaSetAvailable")
            if not complete_already:
                if self._complete(d, status):
                    conditions = self._put(conditions, {
                        "type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{name}" has successfully progressed.'}, now)
                elif self._progressing(old_status, status):
                    conditions = self._put(conditions, {
                        "type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                        "message": f'ReplicaSet "{name}" is progressing.'}, now, touch=True)
                elif self._timed_out(progressing, int(deadline)):
                    if progressing is None or progressing.get("reason") != "ProgressDeadlineExceeded":
                        self._events.record(d, "Deployment", "Warning", "ProgressDeadlineExceeded",
                                            f'ReplicaSet "{name}" has timed out progressing.',
                                            COMPONENT)
                    conditions = self._put(conditions, {
                        "type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{name}" has timed out progressing.'}, now)
        status["conditions"] = sorted(conditions, key=lambda c: c["type"] != "Available")
        status = {k: v for k, v in status.items() if v or k in ("observedGeneration", "replicas")}
        if status != old_status:
            def put(obj: Obj) -> None:
                obj["status"] = status

            with contextlib.suppress(StoreError):
                self._store.mutate("deployments", d["metadata"].get("namespace"),
                                   d["metadata"]["name"], put, status_only=True)

    @staticmethod
    def _put(conditions: list[Obj], new: Obj, now: str, touch: bool = False) -> list[Obj]:
        """SetDeploymentCondition: same status+reason keeps both times unless ``touch``."""
        old = next((c for c in conditions if c["type"] == new["type"]), None)
        if old is not None and old.get("status") == new["status"] and \
                old.get("reason") == new["reason"] and old.get("message") == new["message"] \
                and not touch:
            return conditions
        cond = dict(new)
        cond["lastUpdateTime"] = now
        out = set_condition(conditions, cond, now)
        return out

    @staticmethod
    def _timed_out(progressing: Obj | None, deadline: int) -> bool:
        if progressing is None:
            return False
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            return True
        if progressing.get("reason") == "NewReplicaSetAvailable":
            return False
        since = parse_time(progressing.get("lastUpdateTime"))
        if since is None:
            return False
        return utcnow() > since + dt.timedelta(seconds=deadline)

    def _write_conditions(self, d: Obj, conds: list[Obj], reset: bool = False) -> None:
        now = now_rfc3339()

        def put(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            conditions = status.get("conditions") or []
            for c in conds:
                conditions = self._put(conditions, c, now, touch=reset)
            status["conditions"] = conditions

        updated = self._store.mutate("deployments", d["metadata"].get("namespace"),
                                     d["metadata"]["name"], put, status_only=True)
        d["status"] = updated.get("status", {})

    def _cleanup(self, d: Obj, old: list[Obj]) -> None:
        limit = d["spec"].get("revisionHistoryLimit", 10)
        if limit is None:
            return
        candidates = [rs for rs in old if spec_replicas(rs) == 0 and _status(rs, "replicas") == 0
                      and not is_deleting(rs) and rs["metadata"].get("generation", 1)
                      <= (rs.get("status") or {}).get("observedGeneration", 0)]
        surplus = len(candidates) - int(limit)
        if surplus <= 0:
            return
        for rs in sorted(candidates, key=revision_of)[:surplus]:
            with contextlib.suppress(NotFound):
                self._store.delete("replicasets", rs["metadata"].get("namespace"),
                                   rs["metadata"]["name"])
