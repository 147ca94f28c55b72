"""One resolver per run: turns references into values, once each, and masks every value.

The pytest plugin configures it from the loaded environment (``configure_run``) right
after the file is validated; :func:`resolve_secret` then serves every step, fixture and
report writer of the run. It is process-wide for the same reason the redactor is: steps
and report writers in other modules resolve references without a fixture at hand.

Backends are built on first use, so a run whose file names no Vault never imports hvac or
touches the network, and a run that names one reaches it only when a check needs it.
What a store answered (and how it failed) is cached for the run: one reference is fetched
once, and a dead store costs its bounded timeout once, not once per check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from goldgate.clients.settings import KubernetesTarget, Timeouts
from goldgate.redact import register_secret
from goldgate.secrets.errors import SecretResolutionError, unresolved
from goldgate.secrets.local import read_env, read_file
from goldgate.secrets.refs import REF_RE, Reference, is_plain_url
from goldgate.secrets.settings import Limits, SecretsConfig


class Backend(Protocol):
    def read(self, ref: Reference) -> str: ...


def _default_timeouts() -> Any:
    return Timeouts()


def _default_target() -> Any:
    return KubernetesTarget()


class SecretResolver:
    """Resolves ``env:``, ``file:``, ``vault:``, ``aws-sm:`` and ``k8s:`` references."""

    def __init__(self, settings: SecretsConfig | None = None, *, timeouts: Any = None, kubernetes: Any = None,
                 kubeconfig_path: str | None = None, environ: dict[str, str] | None = None) -> None:
        self.settings = settings or SecretsConfig()
        self.timeouts = timeouts if timeouts is not None else _default_timeouts()
        self.kubernetes = kubernetes
        self.kubeconfig_path = kubeconfig_path
        self.environ = environ
        self._lock = threading.Lock()
        self._backends: dict[str, Backend] = {}

    @classmethod
    def for_environment(cls, env: Any, **kwargs: Any) -> SecretResolver:
        return cls(env.secrets, timeouts=env.timeouts, kubernetes=env.kubernetes, **kwargs)

    def resolve(self, text: str) -> str:
        """The secret behind ``text``, registered with the redactor before it is returned.

        ``env:`` and ``file:`` are read at each use (a rotated file counts from the next
        check on); the stores cache what they fetched, and what failed, for the run.
        A password-less URL (``sqlite:///x.db``, a field typed ``ConnectionUrl``) holds no
        secret and is returned as written.
        """
        if isinstance(text, str) and not REF_RE.match(text) and is_plain_url(text):
            return text
        value = self._read(text)
        register_secret(value)
        return value

    def close(self) -> None:
        for backend in self._backends.values():
            close = getattr(backend, "close", None)
            if close is not None:
                close()
        self._backends.clear()

    # ------------------------------------------------------------------ internals
    def _read(self, text: str) -> str:
        if not isinstance(text, str) or not REF_RE.match(text):
            scheme = str(text).partition(":")[0] if isinstance(text, str) else type(text).__name__
            raise SecretResolutionError(f"not a secret reference: {scheme}:…")
        ref = Reference.parse(text)
        if ref.scheme == "env":
            return read_env(ref)
        if ref.scheme == "file":
            return read_file(ref)
        with self._lock:
            return self._backend(ref.scheme).read(ref)

    def _backend(self, scheme: str) -> Backend:
        backend = self._backends.get(scheme)
        if backend is None:
            backend = self._backends[scheme] = self._build(scheme)
        return backend

    def _build(self, scheme: str) -> Backend:
        if scheme == "vault":
            from goldgate.secrets.vault import VaultBackend

            return VaultBackend(self.settings.vault, Limits.of(self.settings.vault, self.timeouts), self.environ)
        if scheme == "aws-sm":
            from goldgate.secrets.aws import AwsSecretsManagerBackend

            return AwsSecretsManagerBackend(self.settings.aws, Limits.of(self.settings.aws, self.timeouts), self.environ)
        if scheme == "k8s":
            from goldgate.secrets.kubernetes import KubernetesSecretBackend

            target = self.kubernetes if self.kubernetes is not None else _default_target()
            return KubernetesSecretBackend(target, self.kubeconfig_path)
        raise SecretResolutionError(f"no backend for {scheme}: references")


class _FunctionBackend:
    """An injected Vault reader (``resolve_secret(..., vault_reader=fn)``), for callers that own one."""

    def __init__(self, reader: Callable[[str, str], Any]) -> None:
        self.reader = reader

    def read(self, ref: Reference) -> str:
        try:
            return str(self.reader(ref.location, ref.key or ""))
        except SecretResolutionError as exc:
            raise unresolved(ref.text, str(exc)) from None


_active: SecretResolver | None = None
_active_lock = threading.Lock()


def active_resolver() -> SecretResolver:
    """The run's resolver; outside a run, one built from defaults and the process environment."""
    global _active
    with _active_lock:
        if _active is None:
            _active = SecretResolver()
        return _active


def configure_run(env: Any, **kwargs: Any) -> Callable[[], None]:
    """Make ``env``'s settings the run's resolver; returns the undo (``config.add_cleanup``)."""
    global _active
    resolver = SecretResolver.for_environment(env, **kwargs)
    with _active_lock:
        previous, _active = _active, resolver

    def _undo() -> None:
        global _active
        resolver.close()
        with _active_lock:
            if _active is resolver:
                _active = previous

    return _undo


def resolve_secret(ref: str, *, vault_reader: Callable[[str, str], Any] | None = None) -> str:
    """Turn a reference into the secret itself.

    The value is returned to the caller only, and registered with the redactor
    (``goldgate.report.redact``) first, so it is masked in every report and log.
    """
    if vault_reader is not None and isinstance(ref, str) and ref.startswith("vault:") and REF_RE.match(ref):
        value = _FunctionBackend(vault_reader).read(Reference.parse(ref))
        register_secret(value)
        return value
    return active_resolver().resolve(ref)
