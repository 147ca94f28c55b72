"""Defaulting, as a real API server fills in omitted fields before storing an object.

Clients rely on these: ``kubectl get svc`` prints the cluster IP, ``rollout undo``
compares pod templates that were defaulted the same way, and the schema requires some
of them (a Service port's protocol...). Every write — from kubectl or from a
controller — goes through :func:`apply_defaults`, so templates copied between a
Deployment and its ReplicaSets stay identical. All functions are idempotent.
"""

from __future__ import annotations

import hashlib
from typing import Any

from goldgate.sandbox.apiserver.quantity import canonical_quantity

Obj = dict[str, Any]


def _probe(probe: Obj | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")


def _container(c: Obj) -> None:
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    c.setdefault("imagePullPolicy", "Always" if tag in ("", "latest") and "@" not in image else "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    resources = c.setdefault("resources", {})
    if isinstance(resources, dict):
        for section in ("limits", "requests"):
            values = resources.get(section)
            if isinstance(values, dict):
                resources[section] = {k: canonical_quantity(v) for k, v in values.items()}
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))


def pod_spec(spec: Obj | None) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for field in ("containers", "initContainers"):
        for c in spec.get(field) or []:
            if isinstance(c, dict):
                _container(c)


def _template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        pod_spec(template.get("spec"))


def _deployment(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxSurge", "25%")
                rolling.setdefault("maxUnavailable", "25%")
    _template(spec)


def _replicaset(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _template(spec)


def cluster_ip_for(namespace: str, name: str) -> str:
    """A stable fake cluster IP in 10.96.0.0/12 (nothing routes to it; display only)."""
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return f"10.96.{digest[0]}.{max(1, digest[1]) % 254 + 1}"


def _service(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        meta = obj.get("metadata", {})
        if "clusterIP" not in spec:
            spec["clusterIP"] = cluster_ip_for(meta.get("namespace", ""), meta.get("name", ""))
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


def _namespace(obj: Obj) -> None:
    meta = obj.setdefault("metadata", {})
    if meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")


def _network_policy(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict) and "policyTypes" not in spec:
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types


_BY_RESOURCE = {
    "deployments": _deployment,
    "replicasets": _replicaset,
    "services": _service,
    "namespaces": _namespace,
    "secrets": _secret,
    "networkpolicies": _network_policy,
}


def apply_defaults(resource: str, obj: Obj, *, creating: bool = False) -> Obj:
    """Fill omitted fields of ``obj`` (in place) and return it.

    Status is only initialised on ``creating``: an update without a status keeps the
    stored one, and defaulting must not overwrite what a controller reported.
    """
    if resource == "pods":
        pod_spec(obj.get("spec"))
        if creating:
            status = obj.setdefault("status", {})
            if isinstance(status, dict):
                status.setdefault("phase", "Pending")
                status.setdefault("qosClass", _qos_class(obj.get("spec")))
        return obj
    handler = _BY_RESOURCE.get(resource)
    if handler is not None:
        handler(obj)
    if creating and resource == "namespaces" and isinstance(obj.setdefault("status", {}), dict):
        obj["status"].setdefault("phase", "Active")
    if creating and resource == "persistentvolumeclaims" and isinstance(obj.setdefault("status", {}), dict):
        _bound_claim(obj)
    return obj


def _bound_claim(obj: Obj) -> None:
    """A claim is Bound at once: its volume is a folder of the sandbox (controllers/volumes.py)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    obj["status"].setdefault("phase", "Bound")
    obj["status"].setdefault("accessModes", list(spec.get("accessModes") or ["ReadWriteOnce"]))
    if storage:
        obj["status"].setdefault("capacity", {"storage": storage})


def _qos_class(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "BestEffort"
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get(k) and r.get("requests", {}).get(k, r.get("limits", {}).get(k)) == r["limits"][k]
        for r in resources
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"
