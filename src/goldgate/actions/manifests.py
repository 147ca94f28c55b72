"""Pure manifest arithmetic behind the actions: no I/O, so every rule here is unit-tested.

* :func:`previous_revision` is what ``kubectl rollout undo`` computes: the ReplicaSet
  with the highest revision below the Deployment's current one (or a named revision),
  whose pod template goes back into the Deployment.
* :func:`companion_deployment` derives the green (blue-green) or canary Deployment from
  the production one: same pod template, one extra label that tells it apart.
* :func:`canary_split` turns a traffic weight into replica counts when the traffic is
  split by replica ratio behind one Service (no mesh, no ingress weights).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CHANGE_CAUSE",
    "HASH_LABEL",
    "REVISION",
    "CanarySplit",
    "RevisionNotFound",
    "canary_split",
    "companion_deployment",
    "container_patch",
    "preview_service",
    "previous_revision",
    "revision_of",
]

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
CHANGE_CAUSE = "kubernetes.io/change-cause"

Obj = dict[str, Any]


class RevisionNotFound(Exception):  # noqa: N818 - reads as the condition
    """There is no revision to go back to; the message says which were found."""


def revision_of(obj: Mapping[str, Any]) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation as a number (0 when absent)."""
    notes = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        return int(notes.get(REVISION, "0"))
    except ValueError:
        return 0


def _owned_by(rs: Mapping[str, Any], deploy: Mapping[str, Any]) -> bool:
    uid = (deploy.get("metadata") or {}).get("uid")
    refs = (rs.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("controller") and (uid is None or r.get("uid") == uid) and r.get("kind") == "Deployment"
               and r.get("name") == deploy["metadata"]["name"] for r in refs)


def previous_revision(deploy: Mapping[str, Any], replicasets: Sequence[Mapping[str, Any]],
                      to_revision: int | None = None) -> tuple[int, Obj]:
    """(revision, pod template) a rollback restores, as ``kubectl rollout undo`` picks it.

    Without ``to_revision`` that is the highest revision below the current one. The
    template comes without the ``pod-template-hash`` label, which the controller adds.
    """
    owned = [rs for rs in replicasets if _owned_by(rs, deploy)]
    current = revision_of(deploy) or max((revision_of(rs) for rs in owned), default=0)
    known = sorted({revision_of(rs) for rs in owned})
    if to_revision is not None:
        chosen = [rs for rs in owned if revision_of(rs) == to_revision]
    else:
        older = [rs for rs in owned if 0 < revision_of(rs) < current]
        chosen = [max(older, key=revision_of)] if older else []
    if not chosen:
        want = f"revision {to_revision}" if to_revision is not None else f"a revision before {current}"
        raise RevisionNotFound(
            f"deployment {deploy['metadata']['name']}: no {want} (revisions on record: {known or 'none'})")
    rs = chosen[0]
    template = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return revision_of(rs), template


def container_patch(container: str, *, image: str | None = None, env: Mapping[str, str] | None = None,
                    memory_limit: str | None = None) -> Obj:
    """Strategic-merge patch of one container (as ``kubectl set image|env|resources`` send)."""
    spec: Obj = {"name": container}
    if image is not None:
        spec["image"] = image
    if env:
        spec["env"] = [{"name": k, "value": str(v)} for k, v in env.items()]
    if memory_limit is not None:
        spec["resources"] = {"limits": {"memory": memory_limit}}
    return {"spec": {"template": {"spec": {"containers": [spec]}}}}


def companion_deployment(deploy: Mapping[str, Any], name: str, label: tuple[str, str], *,
                         replicas: int, image: str | None = None, container: str | None = None,
                         env: Mapping[str, str] | None = None) -> Obj:
    """A Deployment beside ``deploy``: same pod template plus one distinguishing label.

    The pod keeps every label of production (so a Service selecting ``app=trading-bot``
    can reach it when wanted) and adds ``label`` (``slot=green``, ``track=canary``), which
    is also the new Deployment's selector, so the two never claim each other's pods.
    """
    key, value = label
    template = copy.deepcopy(deploy["spec"]["template"])
    meta = template.setdefault("metadata", {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    labels[key] = value
    meta["labels"] = labels
    match = {k: v for k, v in ((deploy["spec"].get("selector") or {}).get("matchLabels") or {}).items()}
    match[key] = value
    containers = template["spec"]["containers"]
    target = next((c for c in containers if c["name"] == container), containers[0])
    if image is not None:
        target["image"] = image
    if env:
        current = [e for e in target.get("env") or [] if e.get("name") not in env]
        target["env"] = current + [{"name": k, "value": str(v)} for k, v in env.items()]
    spec = {k: copy.deepcopy(v) for k, v in deploy["spec"].items()
            if k in ("strategy", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit")}
    src_meta = deploy.get("metadata") or {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": src_meta.get("namespace"),
            "labels": {**(src_meta.get("labels") or {}), key: value},
        },
        "spec": {**spec, "replicas": replicas, "selector": {"matchLabels": match}, "template": template},
    }


@dataclass(frozen=True)
class CanarySplit:
    """Replica counts for a traffic weight, and the weight they really give."""

    weight: int
    stable: int
    canary: int

    @property
    def effective_weight(self) -> float:
        """Percent of requests the canary gets from a round-robin Service over Ready pods."""
        total = self.stable + self.canary
        return 100.0 * self.canary / total if total else 0.0


def canary_split(replicas: int, weight: int) -> CanarySplit:
    """Replicas that put about ``weight`` % of traffic on the canary behind one Service.

    The stable version keeps its ``replicas`` (capacity never drops during the canary)
    and the canary gets ``replicas * w / (100 - w)`` pods, rounded, at least one; at
    100 % the canary takes every replica and the stable version none. With few replicas
    the real share is coarse (10 % of 3 replicas is 1 canary pod = 25 %); the split
    states its :attr:`~CanarySplit.effective_weight` so reports show the real number.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    if not 0 < weight <= 100:
        raise ValueError(f"weight must be in 1..100, got {weight}")
    if weight == 100:
        return CanarySplit(weight, 0, replicas)
    canary = max(1, math.floor(replicas * weight / (100 - weight) + 0.5))
    return CanarySplit(weight, replicas, canary)


def preview_service(service: Mapping[str, Any], name: str, selector: Mapping[str, str]) -> Obj:
    """A Service like ``service`` (same ports) selecting only ``selector``: the green's own door.

    Blue-green smoke checks must reach green *only*, before any user does; the preview
    Service gives green an address of its own, as Argo Rollouts' ``previewService`` does.
    """
    spec = service.get("spec") or {}
    ports = [{k: v for k, v in p.items() if k in ("name", "port", "targetPort", "protocol")}
             for p in spec.get("ports") or []]
    meta = service.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": meta.get("namespace"),
                     "labels": {**(meta.get("labels") or {}), "role": "preview"}},
        "spec": {"type": spec.get("type", "ClusterIP"), "selector": dict(selector), "ports": ports},
    }
