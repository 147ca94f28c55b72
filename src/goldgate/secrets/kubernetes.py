"""``k8s:NAMESPACE/NAME#KEY``: one key of a Kubernetes Secret, read with the run's kubeconfig.

The client is the one every Kubernetes probe uses (:func:`goldgate.clients.kubernetes.connect`
on the environment's ``kubernetes`` target: kubeconfig, context, request timeout, bounded
retries), so the credentials and the API server are exactly those of the run. Reading a
Secret needs ``get`` on that one Secret; ``deploy/ci/kubernetes/20-role-read.yaml`` grants
it by ``resourceNames`` and nothing wider.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from goldgate.clients.kubernetes import KubeClients, KubernetesUnavailable, connect
from goldgate.secrets.errors import SecretResolutionError, unresolved
from goldgate.secrets.refs import Reference


class KubernetesSecretBackend:
    """Reads Secrets through the run's Kubernetes target; each Secret once per run."""

    def __init__(self, target: Any, kubeconfig_path: str | None = None) -> None:
        self.target = target
        self.kubeconfig_path = kubeconfig_path
        self._kube: KubeClients | None = None
        self._secrets: dict[str, dict[str, str] | SecretResolutionError] = {}
        self.requests = 0

    def read(self, ref: Reference) -> str:
        namespace, _, name = ref.location.partition("/")
        if not (namespace and name and ref.key):
            raise unresolved(ref.text, "a k8s reference is k8s:NAMESPACE/NAME#KEY")
        data = self._secret(ref, namespace, name)
        if ref.key not in data:
            keys = ", ".join(sorted(data)) or "none"
            raise unresolved(ref.text, f"missing key: {ref.key!r} is not in Secret {namespace}/{name} (keys there: {keys})")
        try:
            return base64.b64decode(data[ref.key], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unresolved(ref.text, f"key {ref.key!r} of Secret {namespace}/{name} is not base64 UTF-8 text") from None

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()
            self._kube = None

    def _secret(self, ref: Reference, namespace: str, name: str) -> dict[str, str]:
        cached = self._secrets.get(ref.location)
        if isinstance(cached, SecretResolutionError):
            raise unresolved(ref.text, str(cached))
        if cached is not None:
            return cached
        try:
            data = self._fetch(namespace, name)
        except SecretResolutionError as exc:
            self._secrets[ref.location] = exc
            raise unresolved(ref.text, str(exc)) from None
        self._secrets[ref.location] = data
        return data

    def _fetch(self, namespace: str, name: str) -> dict[str, str]:
        try:
            if self._kube is None:
                self._kube = connect(self.target, self.kubeconfig_path)
        except KubernetesUnavailable as exc:
            raise SecretResolutionError(f"unreachable: {exc}") from None
        kube = self._kube
        self.requests += 1
        try:
            secret = kube.core.read_namespaced_secret(name, namespace, _request_timeout=kube.timeout)
        except ApiException as exc:
            what = f"{kube.server}: get secret {namespace}/{name}"
            if exc.status in (401, 403):
                raise SecretResolutionError(f"denied: {what}: HTTP {exc.status} {exc.reason}") from None
            if exc.status == 404:
                raise SecretResolutionError(f"missing path: no Secret {namespace}/{name} on {kube.server}") from None
            raise SecretResolutionError(f"{what}: HTTP {exc.status} {exc.reason}") from None
        except (Urllib3Error, OSError) as exc:
            raise SecretResolutionError(f"unreachable: {kube.server}: get secret {namespace}/{name}: "
                                        f"{type(exc).__name__}") from None
        return dict(secret.data or {})
