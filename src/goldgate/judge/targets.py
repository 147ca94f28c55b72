"""Which pods a run is about, and which pods it is compared with.

A run key names a workload (a Deployment) and a revision. The release's pods are the
workload's pods of that revision: the ReplicaSet whose ``pod-template-hash`` is the
revision (Argo Rollouts' pod-template hash, or a Deployment revision number). Flagger's
``checksum`` is its own hash of the canary spec, not a ReplicaSet's, so a Flagger run
judges the workload's current revision (``exact_revision=False``).

The compared group (the stable version beside the release, for p95 vs baseline and the
paired tests) follows the controllers' naming: Flagger's ``<name>-primary``, goldgate's
own ``<deployment>-canary`` beside ``<deployment>``, or a workload the caller names.
Without one the monitor says so (INCONCLUSIVE unless the environment waives it).
"""

from __future__ import annotations

from dataclasses import dataclass

from goldgate.judge.runs import BadRequestError, RunKey
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.workloads import deployment_status, replicaset_hashes
from goldgate.rollout.base import own_pods
from goldgate.rollout.monitor import Group

__all__ = ["RunTarget", "resolve_target"]


@dataclass(frozen=True)
class RunTarget:
    group: Group
    baseline: Group | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"group": dict(self.group.labels), "namespace": self.group.namespace, "name": self.group.name,
                "baseline": dict(self.baseline.labels) if self.baseline else None,
                "baseline_name": self.baseline.name if self.baseline else None, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RunTarget:
        ns = str(data["namespace"])
        base = data.get("baseline")
        return cls(Group(str(data["name"]), dict(data["group"]), ns),  # type: ignore[arg-type]
                   Group(str(data.get("baseline_name") or "baseline"), dict(base), ns) if base else None,  # type: ignore[arg-type]
                   tuple(data.get("notes") or ()))  # type: ignore[arg-type]


def _current(kube: KubeClients, namespace: str, name: str, field: str) -> tuple[dict[str, str], dict[int, str], int]:
    try:
        st = deployment_status(kube, namespace, name)
    except KubernetesUnavailable as exc:
        if "HTTP 404" in str(exc):
            raise BadRequestError(field, f"no Deployment {namespace}/{name}", status=404) from None
        raise
    selector = dict(st.selector)
    return selector, replicaset_hashes(kube, namespace, own_pods(selector)), st.revision


def resolve_target(kube: KubeClients, key: RunKey, *, exact_revision: bool, baseline: str | None = None,
                   fields: tuple[str, str] = ("workload", "revision")) -> RunTarget:
    """The run's pods and its compared pods; 404 naming the field when they do not exist."""
    selector, hashes, current = _current(kube, key.namespace, key.workload, fields[0])
    notes: list[str] = []
    if key.revision in hashes.values():
        chosen = key.revision
    elif key.revision.isdigit() and int(key.revision) in hashes:
        chosen = hashes[int(key.revision)]
    elif exact_revision:
        known = ", ".join(sorted(h for h in hashes.values() if h)) or "none"
        raise BadRequestError(fields[1], f"no ReplicaSet of {key.namespace}/{key.workload} has pod-template-hash "
                              f"{key.revision!r} (known: {known})", status=404)
    else:
        chosen = hashes.get(current, "")
        notes.append(f"revision {key.revision} is the controller's checksum: judging the current revision "
                     f"{current} (pod-template-hash {chosen or 'unknown'})")
    group = Group(f"{key.workload}@{chosen or key.revision}",
                  {**selector, **({"pod-template-hash": chosen} if chosen else {})}, key.namespace)
    return RunTarget(group, _baseline(kube, key, baseline, notes), tuple(notes))


def _baseline(kube: KubeClients, key: RunKey, named: str | None, notes: list[str]) -> Group | None:
    candidates = [named] if named else [f"{key.workload}-primary"] + (
        [key.workload.removesuffix("-canary")] if key.workload.endswith("-canary") else [])
    for name in candidates:
        try:
            selector, hashes, current = _current(kube, key.namespace, name, "baseline")
        except BadRequestError:
            if named:
                raise
            continue
        chosen = hashes.get(current, "")
        notes.append(f"compared with {key.namespace}/{name} revision {current}")
        return Group(f"{name}@{chosen or current}",
                     {**selector, **({"pod-template-hash": chosen} if chosen else {})}, key.namespace)
    return None
