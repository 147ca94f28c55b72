"""Cluster facts the pre-deployment checklist reads: Deployment specs, rollouts in the
namespace, NetworkPolicies, Services and their endpoints.

Everything comes back as plain dicts (the API's JSON shape) or small dataclasses, so the
criteria compare them without a client. A reference spec may also come from a manifest
file (``deploy/k8s/*.yaml``), read by :mod:`goldgate.probes.manifests`, so "staging matches
production" can hold a cluster against the repository's manifests as well as against a
second cluster; the reference may be any kind with a pod template, not only a Deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes import manifests
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable, call
from goldgate.probes.workloads import PodFact, pod_facts

Obj = dict[str, Any]


def as_dict(kube: KubeClients, obj: Any) -> Obj:
    return kube.api_client.sanitize_for_serialization(obj)


def read_deployment(kube: KubeClients, namespace: str, name: str) -> Obj:
    return as_dict(kube, call(kube, f"read deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace))


#: kinds whose pod template a reference spec may come from (the Deployment first)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob", "Pod")


def workload_from_manifests(path: Path, name: str) -> Obj:
    """The workload ``name`` (any kind with a pod template) from a manifest file or folder."""
    if not path.exists():
        raise ArtifactUnavailable(path, "reference manifests not found")
    try:
        files = manifests.read([str(path)])
    except manifests.ManifestsUnavailable as exc:
        raise ArtifactUnavailable(path, str(exc)) from None
    found: list[Obj] = []
    for file in files:
        if file.problems:
            problem = file.problems[0]
            where = f" document {problem.index}" if problem.index is not None else ""
            raise ArtifactUnavailable(file.path, f"{where.strip()}: {problem.cause}".lstrip(": "))
        for doc in file.documents:
            body = doc.body
            if (isinstance(body, dict) and body.get("kind") in WORKLOAD_KINDS
                    and isinstance(body.get("metadata"), dict) and body["metadata"].get("name") == name):
                found.append({**body, "_source": f"{file.path}#{doc.index}"})
    if not found:
        raise ArtifactUnavailable(path, f"no workload named {name!r} ({', '.join(WORKLOAD_KINDS)}) in the reference manifests")
    return min(found, key=lambda d: WORKLOAD_KINDS.index(d["kind"]))


#: the name the checklist steps have always used
deployment_from_manifests = workload_from_manifests


@dataclass(frozen=True)
class RolloutState:
    name: str
    generation: int
    observed_generation: int
    replicas: int
    updated: int
    available: int
    total: int

    @property
    def in_progress(self) -> bool:
        return (self.observed_generation < self.generation or self.updated < self.replicas
                or self.available < self.replicas or self.total > self.replicas)


def rollouts(kube: KubeClients, namespace: str) -> list[RolloutState]:
    items = call(kube, f"list deployments in {namespace}", kube.apps.list_namespaced_deployment, namespace).items
    out = []
    for d in items:
        st = d.status
        want = d.spec.replicas if d.spec.replicas is not None else 1
        out.append(RolloutState(
            d.metadata.name, d.metadata.generation or 0, (st.observed_generation or 0) if st else 0, want,
            (st.updated_replicas or 0) if st else 0, (st.available_replicas or 0) if st else 0,
            (st.replicas or 0) if st else 0,
        ))
    return out


def network_policies(kube: KubeClients, namespace: str) -> list[Obj]:
    items = call(kube, f"list networkpolicies in {namespace}", kube.networking.list_namespaced_network_policy, namespace).items
    return [as_dict(kube, p) for p in items]


@dataclass(frozen=True)
class ServiceState:
    name: str
    ready_endpoints: int
    not_ready_endpoints: int
    selector: dict[str, str]
    #: The pods the selector picks, as the kubelet reports them: why an endpoint is not
    #: ready (CrashLoopBackOff, restarts, the last exit) is the evidence a FAIL shows.
    pods: tuple[PodFact, ...] = field(default=())


def _selected_pods(kube: KubeClients, namespace: str, selector: dict[str, str]) -> tuple[PodFact, ...]:
    if not selector:
        return ()
    try:
        return tuple(p for p in pod_facts(kube, namespace, ",".join(f"{k}={v}" for k, v in sorted(selector.items())))
                     if not p.deleting)
    except KubernetesUnavailable:  # the endpoints were read: the pods only explain them
        return ()


def services(kube: KubeClients, namespace: str) -> list[ServiceState]:
    svcs = call(kube, f"list services in {namespace}", kube.core.list_namespaced_service, namespace).items
    out = []
    for svc in svcs:
        name = svc.metadata.name
        try:
            eps = call(kube, f"read endpoints {namespace}/{name}", kube.core.read_namespaced_endpoints, name, namespace)
            subsets = eps.subsets or []
        except Exception:  # no Endpoints object yet: zero endpoints, a measured fact
            subsets = []
        ready = sum(len(s.addresses or []) for s in subsets)
        not_ready = sum(len(s.not_ready_addresses or []) for s in subsets)
        selector = dict(svc.spec.selector or {})
        pods = _selected_pods(kube, namespace, selector) if ready == 0 else ()
        out.append(ServiceState(name, ready, not_ready, selector, pods))
    return out
