"""Kubernetes evidence source: an API client for the target and the facts read through it.

The same code talks to a real cluster and to the embedded sandbox; only the kubeconfig
differs. Every request carries ``_request_timeout`` so an unreachable API server costs a
bounded time, and failures become :class:`KubernetesUnavailable` with the server named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from goldgate.config import KubernetesTarget


class KubernetesUnavailable(Exception):  # noqa: N818 - reads as the condition
    """The API could not be asked; the message names the server and the cause."""


@dataclass
class KubeClients:
    """The typed API groups goldgate reads, sharing one configured ApiClient."""

    api_client: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    networking: client.NetworkingV1Api
    custom: client.CustomObjectsApi
    server: str
    timeout: tuple[float, float]

    def close(self) -> None:
        self.api_client.close()


def connect(target: KubernetesTarget, kubeconfig_path: str | None = None) -> KubeClients:
    """Build clients from a kubeconfig file (``~`` expanded) or the in-cluster account."""
    cfg = client.Configuration()
    try:
        if target.kubeconfig == "in-cluster":
            config.load_incluster_config(client_configuration=cfg)
        else:
            path = Path(kubeconfig_path or target.kubeconfig).expanduser()
            if not path.is_file():
                raise KubernetesUnavailable(f"kubeconfig {path} does not exist")
            config.load_kube_config(config_file=str(path), context=target.context, client_configuration=cfg)
    except config.ConfigException as exc:
        raise KubernetesUnavailable(f"kubeconfig: {exc}") from None
    cfg.retries = 2
    api = client.ApiClient(cfg)
    timeout = (min(3.0, target.request_timeout_s), target.request_timeout_s)
    return KubeClients(
        api_client=api,
        core=client.CoreV1Api(api),
        apps=client.AppsV1Api(api),
        networking=client.NetworkingV1Api(api),
        custom=client.CustomObjectsApi(api),
        server=cfg.host,
        timeout=timeout,
    )


def call(kube: KubeClients, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one API call with the run's timeout; turn transport failures into one message."""
    kwargs.setdefault("_request_timeout", kube.timeout)
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        raise KubernetesUnavailable(f"{kube.server}: {what}: HTTP {exc.status} {exc.reason}") from None
    except (Urllib3Error, OSError) as exc:
        raise KubernetesUnavailable(f"{kube.server}: {what}: {type(exc).__name__}: {exc}") from None


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
