"""The sandbox's Kubernetes-compatible API server (HTTP side of the sandbox cluster).

:class:`ApiServer` runs the aiohttp application on 127.0.0.1 inside the caller's event
loop, sharing the loop (and therefore the store) with the controllers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

from aiohttp import web

from goldgate.sandbox.apiserver.app import create_app
from goldgate.sandbox.apiserver.context import ClusterLike, ServerContext
from goldgate.sandbox.apiserver.defaults import apply_defaults
from goldgate.sandbox.store import Store

__all__ = ["ApiServer", "ServerContext", "apply_defaults", "create_app"]


class ApiServer:
    """Start/stop the API server on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(
        self,
        store: Store,
        *,
        cluster: ClusterLike | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ctx = ServerContext(store=store, cluster=cluster, token=token)
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.ctx.server_address = f"{self.host}:{self.port}"
        self._runner = web.AppRunner(create_app(self.ctx), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock, ssl_context=self.ssl_context)
        await site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
            self._runner = None
