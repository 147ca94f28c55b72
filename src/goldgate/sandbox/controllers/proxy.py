"""A Service's data path: a TCP proxy on 127.0.0.1 round-robining over Ready pods.

Per connection, like kube-proxy: each accepted connection is relayed to the next Ready
backend; a backend that refuses the connection (it just died) is skipped.

Connection draining (guide §7.3) is done the way a draining L4 load balancer with HTTP
awareness does it, so that keep-alive clients (requests sessions, locust) lose nothing
while pods come and go:

- a connection to a pod that left the endpoints keeps its pod for the request in
  flight; at the next request boundary (new bytes from the client starting with an
  HTTP method after the previous response) it moves to a Ready pod;
- when a pod closes an idle keep-alive connection (it got SIGTERM), the client's
  connection stays open and its next request goes to a Ready pod — unless the response
  said ``Connection: close`` (or the request did), then the close is passed on;
- an idempotent request (GET/HEAD/OPTIONS) whose pod closed the connection before
  sending a single response byte is replayed once on another Ready pod.

Anything that does not look like HTTP/1.x is relayed as plain bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("goldgate.sandbox.proxy")
CONNECT_TIMEOUT_S = 2.0
_CHUNK = 65536
_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"PATCH ", b"OPTIONS ")
_IDEMPOTENT = (b"GET ", b"HEAD ", b"OPTIONS ")
#: Request bytes kept for a replay; larger requests are never replayed.
_REPLAY_LIMIT = 64 * 1024


class ServiceProxy:
    def __init__(self, name: str) -> None:
        self.name = name
        self.backends: list[tuple[str, int]] = []  # (pod name, host port)
        self.port = 0
        self._next = 0
        self._server: asyncio.Server | None = None
        self._conns: dict[asyncio.Task[None], _Relay | None] = {}

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def set_backends(self, backends: list[tuple[str, int]]) -> None:
        if backends != self.backends:
            self.backends = list(backends)

    def active_backends(self) -> list[str]:
        """Pod names that currently hold a relayed connection (for draining checks)."""
        return [r.backend[0] for r in self._conns.values() if r is not None and r.backend]

    def serving(self, backend: tuple[str, int] | None) -> bool:
        return backend is not None and backend in self.backends

    def _pick(self, avoid: tuple[str, int] | None = None) -> tuple[str, int] | None:
        candidates = [b for b in self.backends if b != avoid] or list(self.backends)
        if not candidates:
            return None
        self._next = (self._next + 1) % len(candidates)
        return candidates[self._next]

    async def connect(self, avoid: tuple[str, int] | None = None
                      ) -> tuple[tuple[str, int], asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _attempt in range(max(1, len(self.backends))):
            backend = self._pick(avoid)
            if backend is None:
                return None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", backend[1]), CONNECT_TIMEOUT_S)
                return backend, reader, writer
            except (OSError, TimeoutError):
                log.debug("%s: backend %s refused, trying the next", self.name, backend[0])
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        relay = _Relay(self, reader, writer)
        if task is not None:
            self._conns[task] = relay
        try:
            await relay.run()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a cancelled relay (proxy closing) ends quietly, like a dropped connection
        finally:
            writer.close()
            if task is not None:
                self._conns.pop(task, None)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None


class _Relay:
    """One client connection and its (possibly changing) upstream connection."""

    def __init__(self, proxy: ServiceProxy, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client_reader = reader
        self.client_writer = writer
        self.backend: tuple[str, int] | None = None
        self.up_writer: asyncio.StreamWriter | None = None
        self.s2c: asyncio.Task[None] | None = None
        self.http = False
        self.request = bytearray()       # current request's bytes (for a replay)
        self.response_seen = False       # upstream bytes since the current request began
        self.close_after = False         # request or response asked for Connection: close
        self.replayed = False
        self.done = asyncio.Event()      # set when the client side must be closed

    async def run(self) -> None:
        reader_task: asyncio.Task[bytes] | None = None
        try:
            while not self.done.is_set():
                reader_task = asyncio.ensure_future(self.client_reader.read(_CHUNK))
                done_wait = asyncio.ensure_future(self.done.wait())
                finished, _ = await asyncio.wait({reader_task, done_wait},
                                                 return_when=asyncio.FIRST_COMPLETED)
                done_wait.cancel()
                if reader_task not in finished:
                    break
                data = reader_task.result()
                reader_task = None
                if not data:
                    await self._client_eof()
                    return
                if not await self._forward(data):
                    return
        finally:
            if reader_task is not None:
                reader_task.cancel()
            self._drop_upstream()

    async def _forward(self, data: bytes) -> bool:
        boundary = not self.request or self.response_seen
        if boundary and data.startswith(_METHODS):
            self.http = True
            self.request = bytearray()
            self.response_seen = False
            self.replayed = False
            head = data[:4096].lower()
            self.close_after = b"\r\nconnection: close" in head or b" http/1.0\r\n" in head
            moving = self.up_writer is None or not self.proxy.serving(self.backend)
            if moving and not await self._switch():
                return False
        elif self.up_writer is None and not await self._switch():
            return False
        if len(self.request) + len(data) <= _REPLAY_LIMIT:
            self.request += data
        else:
            self.replayed = True  # too large to keep: never replay
        assert self.up_writer is not None
        try:
            self.up_writer.write(data)
            await self.up_writer.drain()
        except OSError:
            pass  # the upstream reader sees the close and decides (replay or close)
        return True

    async def _switch(self) -> bool:
        avoid = self.backend
        self._drop_upstream()
        found = await self.proxy.connect(avoid)
        if found is None:
            return False
        self.backend, up_reader, self.up_writer = found
        self.s2c = asyncio.create_task(self._upstream_to_client(up_reader, self.up_writer))
        return True

    def _drop_upstream(self) -> None:
        if self.s2c is not None and self.s2c is not asyncio.current_task():
            self.s2c.cancel()
        self.s2c = None
        if self.up_writer is not None:
            self.up_writer.close()
        self.up_writer = None

    async def _upstream_to_client(self, up_reader: asyncio.StreamReader,
                                  up_writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await up_reader.read(_CHUNK)
                if not data:
                    break
                if not self.response_seen and self.http and \
                        b"\r\nconnection: close" in data[:4096].lower():
                    self.close_after = True
                self.response_seen = True
                self.client_writer.write(data)
                await self.client_writer.drain()
        except OSError:
            pass
        if up_writer is not self.up_writer:
            return  # this upstream was replaced meanwhile
        await self._upstream_closed()

    async def _upstream_closed(self) -> None:
        if not self.http:
            self.done.set()
            return
        if self.request and not self.response_seen:
            if self.request.startswith(_IDEMPOTENT) and not self.replayed:
                self.replayed = True
                pending = bytes(self.request)
                self.s2c = None  # this task is ending; _switch must not cancel it
                if await self._switch():
                    assert self.up_writer is not None
                    with contextlib.suppress(OSError):
                        self.up_writer.write(pending)
                        await self.up_writer.drain()
                    return
            self.done.set()
            return
        if self.close_after:
            self.done.set()
            return
        # An idle keep-alive connection closed by the pod: keep the client's open.
        self.s2c = None
        if self.up_writer is not None:
            self.up_writer.close()
        self.up_writer = None

    async def _client_eof(self) -> None:
        if self.up_writer is None:
            return
        with contextlib.suppress(OSError, RuntimeError):
            if self.up_writer.can_write_eof():
                self.up_writer.write_eof()
        if self.s2c is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.s2c), 30)
