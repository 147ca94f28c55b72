"""The kinds the sandbox serves, described once for routing, discovery and OpenAPI.

Everything HTTP-facing (URL routing, the discovery documents kubectl caches, the
OpenAPI documents kubectl's field validation consults) is derived from this table,
so a kind cannot be routable yet undiscoverable or the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One REST resource: ``group`` is "" for the core API."""

    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    singular: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def qualified(self) -> str:
        """``deployments.apps`` style, as Status messages name a resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_qualified(self) -> str:
        """``Deployment.apps`` style, as Invalid messages name a kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


_ALL = ("all",)

RESOURCES: list[Resource] = [
    Resource("namespaces", "Namespace", "", "v1", False, ("ns",), subresources=("status",)),
    Resource("nodes", "Node", "", "v1", False, ("no",), subresources=("status", "proxy")),
    Resource("pods", "Pod", "", "v1", True, ("po",), _ALL, ("status", "log", "exec")),
    Resource("services", "Service", "", "v1", True, ("svc",), _ALL, ("status",)),
    Resource("endpoints", "Endpoints", "", "v1", True, ("ep",), singular="endpoints"),
    Resource("events", "Event", "", "v1", True, ("ev",)),
    Resource("configmaps", "ConfigMap", "", "v1", True, ("cm",)),
    Resource("secrets", "Secret", "", "v1", True),
    Resource("serviceaccounts", "ServiceAccount", "", "v1", True, ("sa",), subresources=("token",)),
    Resource("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", True, ("pvc",), subresources=("status",)),
    Resource("deployments", "Deployment", "apps", "v1", True, ("deploy",), _ALL, ("status", "scale")),
    Resource("replicasets", "ReplicaSet", "apps", "v1", True, ("rs",), _ALL, ("status", "scale")),
    # RBAC: enforced for ServiceAccount tokens by apiserver/rbac.py.
    Resource("roles", "Role", "rbac.authorization.k8s.io", "v1", True),
    Resource("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", True),
    Resource("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", False),
    Resource("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", False),
    Resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", "authorization.k8s.io", "v1", False,
             verbs=("create",)),
    Resource("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1", True, ("pdb",), subresources=("status",)),
    Resource("endpointslices", "EndpointSlice", "discovery.k8s.io", "v1", True),
    Resource("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", True, ("netpol",)),
    Resource("ingresses", "Ingress", "networking.k8s.io", "v1", True, ("ing",), subresources=("status",)),
    # Gateway API (the CRDs of gateway.networking.k8s.io, standard channel): the canary's
    # weighted routes. The sandbox's gateway controller programs every Gateway.
    Resource("gatewayclasses", "GatewayClass", "gateway.networking.k8s.io", "v1", False, ("gc",),
             subresources=("status",)),
    Resource("gateways", "Gateway", "gateway.networking.k8s.io", "v1", True, ("gtw",), subresources=("status",)),
    Resource("httproutes", "HTTPRoute", "gateway.networking.k8s.io", "v1", True, subresources=("status",)),
]

#: The read-only metrics API (served by its own handlers, listed in discovery).
METRICS_GROUP = "metrics.k8s.io"
METRICS_VERSION = "v1beta1"

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def store_key(res: Resource) -> str:
    """Key under which the store keeps a resource's objects: the plural name.

    Plurals are unique across the served groups, and controllers use the same names
    when they write through the store directly.
    """
    return res.plural


def group_versions() -> dict[str, list[str]]:
    """Named API groups and their versions (core ``""`` excluded)."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in out.setdefault(r.group, []):
            out[r.group].append(r.version)
    return out


def in_group_version(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.group == group and r.version == version]
