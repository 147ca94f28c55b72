"""Cluster facts the pre-deployment checklist reads: Deployment specs, rollouts in the
namespace, NetworkPolicies, Services and their endpoints.

Everything comes back as plain dicts (the API's JSON shape) or small dataclasses, so the
criteria compare them without a client. A reference spec may also come from a manifest
file (``deploy/k8s/*.yaml``), so "staging matches production" can hold a cluster against
the repository's manifests as well as against a second cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.kubernetes import KubeClients, call

Obj = dict[str, Any]


def as_dict(kube: KubeClients, obj: Any) -> Obj:
    return kube.api_client.sanitize_for_serialization(obj)


def read_deployment(kube: KubeClients, namespace: str, name: str) -> Obj:
    return as_dict(kube, call(kube, f"read deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace))


def deployment_from_manifests(path: Path, name: str) -> Obj:
    """The Deployment ``name`` from a manifest file or a folder of manifests."""
    if not path.exists():
        raise ArtifactUnavailable(path, "reference manifests not found")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    for file in files:
        try:
            docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise ArtifactUnavailable(file, f"YAML syntax error: {exc}") from None
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Deployment" and (doc.get("metadata") or {}).get("name") == name:
                doc.setdefault("_source", str(file))
                return doc
    raise ArtifactUnavailable(path, f"no Deployment named {name!r} in the reference manifests")


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
        out.append(ServiceState(name, ready, not_ready, dict(svc.spec.selector or {})))
    return out
