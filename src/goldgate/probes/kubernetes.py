"""Kubernetes evidence source: the facts read through the run's API client.

The client itself (:func:`connect`, :func:`call`, :class:`KubernetesUnavailable`) lives on
the ground floor, :mod:`goldgate.clients.kubernetes`; its names stay importable from here.
"""

from __future__ import annotations

from goldgate.clients.kubernetes import KubeClients, KubernetesUnavailable, call, connect

__all__ = ["GATEWAY_LISTENER_PORTS", "KubeClients", "KubernetesUnavailable", "call", "connect", "gateway_url",
           "service_url"]


def service_url(kube: KubeClients, namespace: str, service: str, *, scheme: str = "http") -> str:
    """The URL a client outside the cluster uses: the Service's load-balancer ingress.

    For the sandbox each Service is a loopback proxy whose address is published there, as
    a cloud load balancer publishes its own.
    """
    svc = call(kube, f"read service {namespace}/{service}", kube.core.read_namespaced_service, service, namespace)
    ingress = (svc.status.load_balancer.ingress or []) if svc.status and svc.status.load_balancer else []
    if not ingress:
        raise KubernetesUnavailable(
            f"{kube.server}: service {namespace}/{service} has no load-balancer ingress yet "
            "(set http.base_url in the environment file to reach it another way)"
        )
    entry = ingress[0]
    host = entry.ip or entry.hostname
    port = None
    if getattr(entry, "ports", None):
        port = entry.ports[0].port
    elif svc.spec.ports:
        port = svc.spec.ports[0].port
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


#: Listener ports of a Gateway reached through a port mapping (``http=41234,admin=41235``):
#: Gateway API's status has addresses but no ports, so a gateway fronted by a mapping says here
#: where each listener really is. Without it the listener's own ``port`` is used.
GATEWAY_LISTENER_PORTS = "gateway.goldgate.io/listener-ports"


def gateway_url(kube: KubeClients, namespace: str, route: str, *, scheme: str = "http") -> str:
    """The URL a client reaches an HTTPRoute at: its parent Gateway's first address and listener port.

    As a client of Envoy Gateway or Istio finds it: ``status.addresses`` of the Gateway the
    route's first ``parentRef`` names (its ``sectionName`` picks the listener).
    """
    group, version = "gateway.networking.k8s.io", "v1"
    obj = call(kube, f"read httproute {namespace}/{route}", kube.custom.get_namespaced_custom_object,
               group, version, namespace, "httproutes", route)
    parents = [p for p in (obj.get("spec") or {}).get("parentRefs") or [] if isinstance(p, dict)]
    if not parents:
        raise KubernetesUnavailable(f"{kube.server}: httproute {namespace}/{route} has no parentRefs")
    parent = parents[0]
    gw_ns, gw_name = parent.get("namespace") or namespace, str(parent.get("name", ""))
    gw = call(kube, f"read gateway {gw_ns}/{gw_name}", kube.custom.get_namespaced_custom_object,
              group, version, gw_ns, "gateways", gw_name)
    addresses = [a for a in (gw.get("status") or {}).get("addresses") or [] if isinstance(a, dict) and a.get("value")]
    if not addresses:
        raise KubernetesUnavailable(f"{kube.server}: gateway {gw_ns}/{gw_name} has no status.addresses yet "
                                    "(not Programmed?)")
    listeners = [x for x in (gw.get("spec") or {}).get("listeners") or [] if isinstance(x, dict)]
    wanted = parent.get("sectionName")
    listener = next((x for x in listeners if wanted in (None, x.get("name"))), None)
    if listener is None:
        raise KubernetesUnavailable(f"{kube.server}: gateway {gw_ns}/{gw_name} has no listener {wanted!r}")
    mapped = dict(term.split("=", 1) for term in
                  ((gw.get("metadata") or {}).get("annotations") or {}).get(GATEWAY_LISTENER_PORTS, "").split(",")
                  if "=" in term)
    port = mapped.get(str(listener.get("name")), listener.get("port"))
    host = addresses[0]["value"]
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
