"""The Kubernetes API client of a run: built once from the environment's ``kubernetes`` target.

The same code talks to a real cluster and to the embedded sandbox; only the kubeconfig
differs. Every request carries ``_request_timeout`` so an unreachable API server costs a
bounded time, the client retries a connection failure a bounded number of times, and
failures become :class:`KubernetesUnavailable` with the server named. Probes, the secret
store of ``k8s:`` references, actions and the judge all connect through :func:`connect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from goldgate.clients.settings import KubernetesTarget


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
