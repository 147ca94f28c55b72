"""Kubernetes workload facts a rollout is judged on: Deployment progress and pod health.

Read-only. Each function returns plain facts (dataclasses of numbers, names and
reasons) that the rollout monitors and the criteria of :mod:`goldgate.criteria.health`
and :mod:`goldgate.criteria.resources` decide on; nothing here says pass or fail.

Examples::

    status = deployment_status(kube, "trading", "trading-bot")
    status.ready_replicas, status.revision, status.stalled
    pods = pod_facts(kube, "trading", "app=trading-bot,track=canary")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from goldgate.probes.kubernetes import KubeClients, call

__all__ = [
    "DeploymentStatus",
    "PodFact",
    "PodUsage",
    "deployment_status",
    "pod_facts",
    "pod_usage",
    "replicaset_hashes",
]


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class DeploymentStatus:
    """What ``kubectl rollout status`` looks at, plus the revision and the strategy."""

    name: str
    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    total_replicas: int
    revision: int
    observed: bool
    max_surge: int
    max_unavailable: int
    progress_deadline_s: int | None
    conditions: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    selector: Mapping[str, str] = field(default_factory=dict)
    # condition type -> its lastTransitionTime (epoch seconds): how long a stall has stood
    condition_since: Mapping[str, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """The rollout finished: every replica updated and available, no old pods left."""
        return (self.observed and self.updated_replicas == self.replicas
                and self.available_replicas == self.replicas and self.total_replicas == self.replicas)

    @property
    def stalled(self) -> bool:
        """The controller gave up waiting: Progressing=False, ProgressDeadlineExceeded."""
        cond = self.conditions.get("Progressing")
        return cond is not None and cond[1] == "ProgressDeadlineExceeded"

    @property
    def quorum(self) -> int:
        """Ready pods the strategy promises at all times: replicas - maxUnavailable."""
        return max(0, self.replicas - self.max_unavailable)


def _scaled(value: Any, total: int, round_up: bool, default: str) -> int:
    import math

    if value is None:
        value = default
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        exact = float(text[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def deployment_status(kube: KubeClients, namespace: str, name: str) -> DeploymentStatus:
    d = call(kube, f"read deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace)
    spec, st, meta = d.spec, d.status, d.metadata
    replicas = spec.replicas if spec.replicas is not None else 1
    ru = spec.strategy.rolling_update if spec.strategy and spec.strategy.rolling_update else None
    rolling = not spec.strategy or spec.strategy.type in (None, "RollingUpdate")
    surge = _scaled(ru.max_surge if ru else None, replicas, True, "25%") if rolling else 0
    unavailable = _scaled(ru.max_unavailable if ru else None, replicas, False, "25%") if rolling else replicas
    if rolling and surge == 0 and unavailable == 0:
        unavailable = 1
    conds = {c.type: (c.status, c.reason or "", c.message or "") for c in (st.conditions or [])} if st else {}
    return DeploymentStatus(
        name=name,
        replicas=replicas,
        updated_replicas=(st.updated_replicas or 0) if st else 0,
        ready_replicas=(st.ready_replicas or 0) if st else 0,
        available_replicas=(st.available_replicas or 0) if st else 0,
        total_replicas=(st.replicas or 0) if st else 0,
        revision=int((meta.annotations or {}).get("deployment.kubernetes.io/revision", "0") or 0),
        observed=bool(st and (st.observed_generation or 0) >= (meta.generation or 0)),
        max_surge=surge,
        max_unavailable=unavailable,
        progress_deadline_s=spec.progress_deadline_seconds,
        conditions=conds,
        images=tuple(c.image for c in spec.template.spec.containers),
        selector=dict(spec.selector.match_labels or {}),
        condition_since={c.type: t for c in (st.conditions or []) if (t := _epoch(
            getattr(c, "last_transition_time", None) or getattr(c, "last_update_time", None))) is not None}
        if st else {},
    )


@dataclass(frozen=True)
class PodFact:
    """One pod as the kubelet reports it; ``restarts`` summed over its containers."""

    name: str
    labels: Mapping[str, str]
    phase: str
    ready: bool
    deleting: bool
    created: float | None
    restarts: int
    waiting_reason: str = ""
    last_termination_reason: str = ""
    last_termination_at: float | None = None
    images: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    #: container name -> the ``imageID`` the kubelet reports (the digest it pulled)
    image_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def template_hash(self) -> str:
        return self.labels.get("pod-template-hash", "")


def _pod_fact(pod: Any) -> PodFact:
    st = pod.status
    conds = {c.type: c.status for c in (st.conditions or [])} if st else {}
    restarts = 0
    waiting = term_reason = ""
    term_at: float | None = None
    for cs in (st.container_statuses or []) if st else []:
        restarts += cs.restart_count or 0
        if cs.state and cs.state.waiting and cs.state.waiting.reason:
            waiting = waiting or cs.state.waiting.reason
        last = cs.last_state.terminated if cs.last_state and cs.last_state.terminated else None
        current = cs.state.terminated if cs.state and cs.state.terminated else None
        for t in (last, current):
            if t is not None:
                at = _epoch(t.finished_at)
                if term_at is None or (at is not None and at > term_at):
                    term_at, term_reason = at, t.reason or ""
    env = {e.name: e.value or "" for c in pod.spec.containers for e in (c.env or [])}
    return PodFact(
        name=pod.metadata.name,
        labels=dict(pod.metadata.labels or {}),
        phase=(st.phase or "") if st else "",
        ready=conds.get("Ready") == "True",
        deleting=pod.metadata.deletion_timestamp is not None,
        created=_epoch(pod.metadata.creation_timestamp),
        restarts=restarts,
        waiting_reason=waiting,
        last_termination_reason=term_reason,
        last_termination_at=term_at,
        images=tuple(c.image for c in pod.spec.containers),
        env=env,
        image_ids={cs.name: cs.image_id or "" for cs in (st.container_statuses or [])} if st else {},
    )


def pod_facts(kube: KubeClients, namespace: str, label_selector: str) -> list[PodFact]:
    """Every pod the selector names, sorted by name."""
    pods = call(kube, f"list pods {namespace} {label_selector}", kube.core.list_namespaced_pod,
                namespace, label_selector=label_selector)
    return sorted((_pod_fact(p) for p in pods.items), key=lambda p: p.name)


def replicaset_hashes(kube: KubeClients, namespace: str, label_selector: str) -> dict[int, str]:
    """revision -> pod-template-hash of the ReplicaSets behind a Deployment's selector."""
    rs_list = call(kube, f"list replicasets {namespace} {label_selector}",
                   kube.apps.list_namespaced_replica_set, namespace, label_selector=label_selector)
    out = {}
    for rs in rs_list.items:
        rev = int((rs.metadata.annotations or {}).get("deployment.kubernetes.io/revision", "0") or 0)
        out[rev] = (rs.metadata.labels or {}).get("pod-template-hash", "")
    return out


@dataclass(frozen=True)
class PodUsage:
    """CPU (cores) and memory (bytes) use of a pod with its limits (metrics.k8s.io + spec)."""

    pod: str
    cpu_cores: float | None = None
    cpu_limit_cores: float | None = None
    memory_bytes: float | None = None
    memory_limit_bytes: float | None = None


def pod_usage(kube: KubeClients, namespace: str, label_selector: str) -> list[PodUsage]:
    """CPU (cores) and memory (bytes) in use per pod (``metrics.k8s.io``, as ``kubectl top``
    reads it) beside the pod's limits (summed over its containers)."""
    from kubernetes.utils.quantity import parse_quantity

    pods = call(kube, f"list pods {namespace} {label_selector}", kube.core.list_namespaced_pod,
                namespace, label_selector=label_selector)
    usage = call(kube, f"list metrics.k8s.io pods {namespace} {label_selector}",
                 kube.custom.list_namespaced_custom_object, "metrics.k8s.io", "v1beta1", namespace, "pods",
                 label_selector=label_selector)
    used = {}
    for item in usage.get("items", []):
        cpu = sum(float(parse_quantity(c["usage"].get("cpu", "0"))) for c in item.get("containers", []))
        mem = sum(float(parse_quantity(c["usage"].get("memory", "0"))) for c in item.get("containers", []))
        used[item["metadata"]["name"]] = (cpu, mem)

    def _limit(pod: Any, resource: str) -> float | None:
        values = [((c.resources.limits or {}) if c.resources else {}).get(resource) for c in pod.spec.containers]
        if not values or any(v is None for v in values):
            return None
        return sum(float(parse_quantity(v)) for v in values)

    out = []
    for pod in pods.items:
        if pod.metadata.deletion_timestamp is not None:
            continue
        cpu, mem = used.get(pod.metadata.name, (None, None))
        out.append(PodUsage(pod.metadata.name, cpu, _limit(pod, "cpu"), mem, _limit(pod, "memory")))
    return sorted(out, key=lambda u: u.pod)
