"""What every handler needs: the store, the controllers' cluster, auth and timing knobs."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from goldgate.sandbox.store import Store


class ExecContextLike(Protocol):
    env: dict[str, str]
    cwd: pathlib.Path


class ClusterLike(Protocol):
    """The part of the controllers' ``Cluster`` the API server calls."""

    def pod_log_path(self, namespace: str, pod: str, container: str | None) -> pathlib.Path | None: ...

    def pod_exec_context(self, namespace: str, pod: str, container: str | None) -> Any: ...

    def pod_usage(self, namespace: str, pod: str) -> dict[str, dict[str, str]] | None: ...

    def pod_network(self, namespace: str, pod: str) -> dict[str, int] | None: ...

    def pod_networks(self) -> dict[tuple[str, str], dict[str, int]]: ...


@dataclass
class ServerContext:
    store: Store
    cluster: ClusterLike | None = None
    token: str | None = None
    #: Key of ServiceAccount tokens (goldgate.sandbox.satoken); None: only the admin token.
    sa_key: bytes | None = None
    #: Seconds between BOOKMARK events on watches that allow them.
    bookmark_interval: float = 15.0
    #: Polling period of ``logs -f``.
    log_poll_interval: float = 0.2
    #: Set when the daemon finished starting (``/readyz`` answers ok only then).
    ready: bool = True
    server_address: str = "127.0.0.1:0"
    extra: dict[str, Any] = field(default_factory=dict)
