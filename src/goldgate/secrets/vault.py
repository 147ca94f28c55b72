"""``vault:PATH#KEY``: one key of a HashiCorp Vault KV secret, read through hvac.

Address, namespace and CA bundle come from ``secrets.vault`` or the variables Vault's own
CLI reads (``VAULT_ADDR``, ``VAULT_NAMESPACE``, ``VAULT_CACERT``). Two ways in:

* ``auth: token`` — ``VAULT_TOKEN`` (or the CLI's ``~/.vault-token``), checked once with a
  token lookup so a revoked token is reported as such, not as a denied path;
* ``auth: kubernetes`` — the Job in ``deploy/ci/`` exchanges its pod's service-account
  token for a Vault token at ``auth/<auth_path>/login`` with ``role``.

The path's first segment is the KV mount (``secret/trading-bot/staging`` reads
``trading-bot/staging`` on mount ``secret``, as ``vault kv get`` does) unless ``mount`` is
set. Each secret document is fetched once per run whatever number of keys is taken
from it, and a failure is remembered too, so a dead Vault costs its timeout once.

Every request is bounded by connect/read timeouts; connection failures and 5xx/429
answers are retried ``retries`` times with backoff; 4xx answers are final.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import hvac
import requests
from hvac import exceptions as vault_errors

# one wording for every HTTP client
from goldgate.clients.http import describe as describe_transport
from goldgate.redact import register_secret
from goldgate.secrets.errors import SecretResolutionError, unresolved
from goldgate.secrets.refs import Reference
from goldgate.secrets.settings import Limits, VaultSettings

T = TypeVar("T")

_TRANSIENT = (vault_errors.VaultDown, vault_errors.InternalServerError, vault_errors.BadGateway,
              vault_errors.RateLimitExceeded)
_STATUS = {
    vault_errors.InvalidRequest: 400, vault_errors.Unauthorized: 401, vault_errors.Forbidden: 403,
    vault_errors.InvalidPath: 404, vault_errors.RateLimitExceeded: 429, vault_errors.InternalServerError: 500,
    vault_errors.VaultNotInitialized: 501, vault_errors.BadGateway: 502, vault_errors.VaultDown: 503,
}


class _Missing(Exception):  # noqa: N818 - internal signal: Vault answered 404
    pass


class VaultBackend:
    """Reads KV secrets for one run; logs in at most once."""

    def __init__(self, settings: VaultSettings, limits: Limits, environ: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.limits = limits
        self.environ = dict(os.environ if environ is None else environ)
        self.address = (settings.address or self.environ.get("VAULT_ADDR") or "").rstrip("/")
        self._client: hvac.Client | None = None
        self._login_failure: str | None = None
        self._documents: dict[tuple[str, str], dict[str, Any] | SecretResolutionError] = {}
        self.requests = 0

    # ------------------------------------------------------------------ public
    def read(self, ref: Reference) -> str:
        if not ref.key:
            raise unresolved(ref.text, "a vault reference needs #KEY")
        mount, path = self._split(ref)
        document = self._document(ref, mount, path)
        if ref.key not in document:
            keys = ", ".join(sorted(document)) or "none"
            raise unresolved(ref.text, f"missing key: {ref.key!r} is not in {mount}/{path} (keys there: {keys})")
        value = document[ref.key]
        if isinstance(value, dict | list):
            return json.dumps(value)
        return "" if value is None else str(value)

    # ------------------------------------------------------------------ documents
    def _split(self, ref: Reference) -> tuple[str, str]:
        location = ref.location.strip("/")
        if self.settings.mount:
            return self.settings.mount.strip("/"), location
        mount, _, path = location.partition("/")
        if not path:
            raise unresolved(ref.text, "the path must be MOUNT/PATH (or set secrets.vault.mount)")
        return mount, path

    def _document(self, ref: Reference, mount: str, path: str) -> dict[str, Any]:
        cached = self._documents.get((mount, path))
        if isinstance(cached, SecretResolutionError):
            raise unresolved(ref.text, str(cached))
        if cached is not None:
            return cached
        try:
            document = self._fetch(mount, path)
        except SecretResolutionError as exc:
            self._documents[(mount, path)] = exc
            raise unresolved(ref.text, str(exc)) from None
        self._documents[(mount, path)] = document
        return document

    def _fetch(self, mount: str, path: str) -> dict[str, Any]:
        client = self._authenticated()
        version = self.settings.kv_version
        where = f"read {mount}/{path} (KV v{version})"
        try:
            if version == 2:
                answer = self._call(where, lambda: client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True))
                data = (answer or {}).get("data", {}).get("data")
            else:
                answer = self._call(where, lambda: client.secrets.kv.v1.read_secret(path=path, mount_point=mount))
                data = (answer or {}).get("data")
        except _Missing:
            raise SecretResolutionError(
                f"missing path: no secret at {mount}/{path} on {self.address} (KV v{version} mount {mount!r})") from None
        if not isinstance(data, dict):
            raise SecretResolutionError(f"{where}: the answer holds no key/value data (is {mount!r} a KV v{version} mount?)")
        return data

    # ------------------------------------------------------------------ login
    def _authenticated(self) -> hvac.Client:
        if self._login_failure:
            raise SecretResolutionError(self._login_failure)
        if self._client is not None:
            return self._client
        try:
            client = self._new_client()
            if self.settings.auth == "kubernetes":
                self._kubernetes_login(client)
            else:
                self._token_login(client)
        except SecretResolutionError as exc:
            self._login_failure = str(exc)
            raise
        self._client = client
        return client

    def _new_client(self) -> hvac.Client:
        if not self.address:
            raise SecretResolutionError("no Vault address: set secrets.vault.address or VAULT_ADDR")
        if not self.address.startswith(("http://", "https://")):
            raise SecretResolutionError(f"Vault address {self.address!r} is not an http(s):// URL")
        ca_bundle = self.settings.ca_bundle or self.environ.get("VAULT_CACERT")
        verify: bool | str = True
        if ca_bundle:
            ca_path = Path(ca_bundle).expanduser()
            if not ca_path.is_file():
                raise SecretResolutionError(f"Vault CA bundle {ca_path} does not exist")
            verify = str(ca_path)
        namespace = self.settings.namespace or self.environ.get("VAULT_NAMESPACE") or None
        return hvac.Client(url=self.address, token=None, verify=verify, namespace=namespace,
                           timeout=(self.limits.connect_s, self.limits.read_s))

    def _token_login(self, client: hvac.Client) -> None:
        token = self.environ.get("VAULT_TOKEN")
        if not token:
            token_file = Path(self.environ.get("HOME", "~")).expanduser() / ".vault-token"
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except OSError:
                token = ""
        if not token:
            raise SecretResolutionError(
                "no Vault token (set VAULT_TOKEN, or use secrets.vault.auth kubernetes with a role in the cluster)")
        register_secret(token)
        client.token = token
        try:
            self._call("auth/token/lookup-self", client.auth.token.lookup_self)
        except _Missing:
            raise SecretResolutionError(f"auth/token/lookup-self: {self.address} answered HTTP 404") from None

    def _kubernetes_login(self, client: hvac.Client) -> None:
        jwt_path = Path(self.settings.jwt_path)
        try:
            jwt = jwt_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretResolutionError(
                f"Kubernetes auth: cannot read the service-account JWT file {jwt_path}: {exc.strerror}") from None
        register_secret(jwt)
        auth_path = self.settings.auth_path.strip("/")
        what = f"Kubernetes login as role {self.settings.role!r} at auth/{auth_path}"
        try:
            answer = self._call(what, lambda: client.auth.kubernetes.login(
                self.settings.role, jwt, use_token=False, mount_point=auth_path))
        except _Missing:
            raise SecretResolutionError(f"{what}: no such auth method (HTTP 404)") from None
        token = ((answer or {}).get("auth") or {}).get("client_token")
        if not token:
            raise SecretResolutionError(f"{what}: the answer carries no client token")
        register_secret(token)
        client.token = token

    # ------------------------------------------------------------------ transport
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """One Vault request with bounded retries; every outcome but data becomes one sentence."""
        attempts = self.limits.retries + 1
        cause = ""
        for attempt in range(1, attempts + 1):
            self.requests += 1
            try:
                return fn()
            except requests.exceptions.SSLError:
                raise SecretResolutionError(
                    f"unreachable: {what}: TLS verification of {self.address} failed "
                    "(set secrets.vault.ca_bundle or VAULT_CACERT to the CA that signed it)") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                cause = describe_transport(exc)
            except _TRANSIENT as exc:
                cause = f"Vault answered HTTP {_STATUS[type(exc)]}"
            except (vault_errors.Forbidden, vault_errors.Unauthorized) as exc:
                raise SecretResolutionError(f"denied: {what}: HTTP {_STATUS[type(exc)]} permission denied") from None
            except vault_errors.InvalidPath:
                raise _Missing from None
            except vault_errors.VaultError as exc:
                status = _STATUS.get(type(exc), "status")
                raise SecretResolutionError(f"{what}: Vault refused the request (HTTP {status})") from None
            except ValueError:
                raise SecretResolutionError(f"{what}: Vault's answer is not JSON") from None
            if attempt < attempts:
                time.sleep(self.limits.backoff_s * 2 ** (attempt - 1))
        raise SecretResolutionError(f"unreachable: {what} at {self.address}: {cause} ({attempts} attempts)")
