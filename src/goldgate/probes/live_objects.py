"""The live objects a set of manifests names, as the API server serves them (guide §9.2).

``kubectl diff`` asks the server for each object a manifest names and compares; this probe
does the first half: for every manifest document it reads the object of that apiVersion,
kind, namespace and name through API discovery (the ``kubernetes`` dynamic client), or
records that there is none. The comparison is a criterion's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
from urllib3.exceptions import HTTPError as Urllib3Error

from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable


@dataclass(frozen=True)
class LiveObject:
    """One manifest document beside the object the server holds (``live`` None: not found)."""

    source: str
    desired: dict[str, Any]
    live: dict[str, Any] | None

    @property
    def key(self) -> str:
        meta = self.desired.get("metadata") or {}
        ns = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
        return f"{self.desired.get('kind')}/{ns}{meta.get('name')}"


def read(kube: KubeClients, documents: Sequence[tuple[str, dict[str, Any]]], default_namespace: str) -> list[LiveObject]:
    """The live counterpart of every ``(source, document)``."""
    try:
        dynamic = DynamicClient(kube.api_client)
    except (ApiException, DynamicApiError, Urllib3Error, OSError) as exc:
        raise KubernetesUnavailable(f"{kube.server}: API discovery: {type(exc).__name__}: {exc}") from None
    out = []
    for source, doc in documents:
        meta = doc.get("metadata") or {}
        what = f"{doc.get('apiVersion')} {doc.get('kind')} {meta.get('name')} ({source})"
        try:
            resource = dynamic.resources.get(api_version=doc.get("apiVersion"), kind=doc.get("kind"))
        except ResourceNotFoundError:
            raise KubernetesUnavailable(f"{kube.server}: the API serves no {doc.get('apiVersion')} "
                                        f"{doc.get('kind')} ({source})") from None
        namespace = (meta.get("namespace") or default_namespace) if resource.namespaced else None
        try:
            obj = resource.get(name=meta.get("name"), namespace=namespace, _request_timeout=kube.timeout)
            live = obj.to_dict()
        except NotFoundError:
            live = None
        except (ApiException, DynamicApiError, Urllib3Error, OSError) as exc:
            raise KubernetesUnavailable(f"{kube.server}: get {what}: {type(exc).__name__}: {exc}") from None
        out.append(LiveObject(source, doc, live))
    return out
