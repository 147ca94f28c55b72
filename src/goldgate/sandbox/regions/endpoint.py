"""The global endpoint: one loopback address in front of both regions (guide §7.3, §9.3).

A layer-4 forwarder, like a global load balancer or anycast front door: every TCP
connection goes whole to the *active* region's bot Service. A health checker GETs the
primary's readiness path every ``interval`` seconds (the guide's 10 s, scaled by
``GOLDGATE_SANDBOX_TIME_SCALE``); after ``failures`` consecutive failed checks it fails
over: it runs the failover hook (promote the standby database) and sends new
connections to the secondary. It never fails back by itself — §9.3 "Failback: Manual" —
only an operator's ``POST /failback`` on the admin port does, after the runbook's
database steps.

Run as ``python -m goldgate.sandbox.regions.endpoint``; it writes its ports and state to
``global.json`` in the regions folder, atomically, on every change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import pathlib
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("goldgate.sandbox.regions.endpoint")

CHECK_CONNECT_TIMEOUT_S = 2.0
PIPE_CHUNK = 65536
STATE_FILE = "global.json"


@dataclass
class EndpointState:
    """What the endpoint publishes: where it listens, which region is active, and why."""

    port: int = 0
    admin_port: int = 0
    active: str = "primary"
    health_checks: bool = True
    interval_s: float = 1.0
    failures_to_fail_over: int = 3
    consecutive_failures: int = 0
    checks: int = 0
    last_check: str = ""
    failed_over_at: str | None = None
    failed_back_at: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _split(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname is None or parsed.port is None:
        raise ValueError(f"{url!r} is not a http://host:port URL")
    return parsed.hostname, parsed.port


class GlobalEndpoint:
    def __init__(self, folder: pathlib.Path, backends: dict[str, str], *, interval_s: float, failures: int,
                 health_path: str, health_checks: bool,
                 on_failover: Callable[[], Awaitable[None]] | None = None,
                 on_failback: Callable[[], Awaitable[None]] | None = None) -> None:
        self.folder = folder
        self.backends = {name: _split(url) for name, url in backends.items()}
        self.urls = dict(backends)
        self.health_path = health_path
        self.on_failover = on_failover
        self.on_failback = on_failback
        self.state = EndpointState(health_checks=health_checks, interval_s=interval_s, failures_to_fail_over=failures)
        self._switch_lock = asyncio.Lock()

    # ------------------------------------------------------------------ state file
    def publish(self) -> None:
        path = self.folder / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self.state), indent=2) + "\n")
        tmp.replace(path)

    def _event(self, what: str, **details: Any) -> None:
        self.state.history.append({"at": _now(), "event": what, **details})
        del self.state.history[:-50]
        log.info("%s %s", what, details)

    # ------------------------------------------------------------------ forwarding
    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await reader.read(PIPE_CHUNK):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()

    async def forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        host, port = self.backends[self.state.active]
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), CHECK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            client_writer.close()
            return
        try:
            await asyncio.gather(self._pipe(client_reader, up_writer), self._pipe(up_reader, client_writer))
        finally:
            for writer in (up_writer, client_writer):
                with contextlib.suppress(OSError, RuntimeError):
                    writer.close()

    # ------------------------------------------------------------------ health checks
    def _check_once(self) -> tuple[bool, str]:
        url = self.urls["primary"].rstrip("/") + self.health_path
        try:
            with urllib.request.urlopen(url, timeout=CHECK_CONNECT_TIMEOUT_S) as resp:  # noqa: S310 - loopback only
                return resp.status == 200, f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            return False, f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return False, type(exc).__name__

    async def health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.state.interval_s)
            if not self.state.health_checks or self.state.active != "primary":
                continue  # without checks nothing is ever noticed; once failed over, no failback
            healthy, detail = await asyncio.to_thread(self._check_once)
            self.state.checks += 1
            self.state.last_check = f"{_now()} primary {detail}"
            self.state.consecutive_failures = 0 if healthy else self.state.consecutive_failures + 1
            if self.state.consecutive_failures >= self.state.failures_to_fail_over:
                await self.switch("secondary", f"{self.state.consecutive_failures} failed health checks ({detail})")
            self.publish()

    async def switch(self, region: str, reason: str) -> None:
        async with self._switch_lock:
            if self.state.active == region:
                return
            hook = self.on_failover if region == "secondary" else self.on_failback
            if hook is not None:
                try:
                    await hook()
                except Exception as exc:
                    self._event("switch-failed", to=region, error=f"{type(exc).__name__}: {exc}")
                    self.publish()
                    raise
            self.state.active = region
            self.state.consecutive_failures = 0
            if region == "secondary":
                self.state.failed_over_at = _now()
            else:
                self.state.failed_back_at = _now()
            self._event("failover" if region == "secondary" else "failback", to=region, reason=reason)
            self.publish()

    # ------------------------------------------------------------------ admin
    async def admin(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """``GET /status`` and ``POST /failback`` (HTTP/1.0, one request per connection)."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if 0 < length <= 65536:
                await asyncio.wait_for(reader.readexactly(length), 5)  # read, so closing sends no RST
            path = urllib.parse.urlsplit(target).path
            if method == "GET" and path == "/status":
                code, body = 200, asdict(self.state)
            elif method == "POST" and path.rstrip("/") == "/failback":
                if self.state.active == "primary":
                    code, body = 409, {"error": "already serving from the primary region"}
                else:
                    try:
                        await self.switch("primary", "manual failback")
                        code, body = 200, asdict(self.state)
                    except Exception as exc:
                        code, body = 500, {"error": f"failback failed: {type(exc).__name__}: {exc}"}
            else:
                code, body = 404, {"error": f"no {method} {path}; try GET /status or POST /failback"}
        except (ValueError, asyncio.IncompleteReadError, TimeoutError, asyncio.LimitOverrunError):
            code, body = 400, {"error": "malformed request"}
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 409: "Conflict"}.get(code, "Error")
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(f"HTTP/1.0 {code} {reason}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
            await writer.drain()
            writer.close()


def _hooks(args: argparse.Namespace) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The database side of failover and failback, from the pair recorded in the regions folder."""
    from goldgate.sandbox.regions import pair

    async def failover() -> None:
        await asyncio.to_thread(pair.fail_over_database, args.folder)

    async def failback() -> None:
        await asyncio.to_thread(pair.fail_back_database, args.folder)

    return failover, failback


async def serve(args: argparse.Namespace) -> int:
    on_failover, on_failback = _hooks(args) if args.database_hooks else (None, None)
    endpoint = GlobalEndpoint(args.folder, {"primary": args.primary, "secondary": args.secondary},
                              interval_s=args.interval, failures=args.failures, health_path=args.health_path,
                              health_checks=not args.no_health_checks, on_failover=on_failover, on_failback=on_failback)
    server = await asyncio.start_server(endpoint.forward, "127.0.0.1", args.port)
    admin = await asyncio.start_server(endpoint.admin, "127.0.0.1", 0)
    endpoint.state.port = server.sockets[0].getsockname()[1]
    endpoint.state.admin_port = admin.sockets[0].getsockname()[1]
    endpoint._event("started", primary=args.primary, secondary=args.secondary, health_checks=not args.no_health_checks)
    endpoint.publish()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    checker = asyncio.create_task(endpoint.health_loop())
    await stopping.wait()
    checker.cancel()
    server.close()
    admin.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m goldgate.sandbox.regions.endpoint")
    parser.add_argument("--folder", type=pathlib.Path, required=True, help="the regions folder (global.json)")
    parser.add_argument("--primary", required=True, help="the primary region's bot URL")
    parser.add_argument("--secondary", required=True, help="the secondary region's bot URL")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval", type=float, required=True, help="seconds between health checks")
    parser.add_argument("--failures", type=int, default=3, help="consecutive failed checks before failing over")
    parser.add_argument("--health-path", default="/ready")
    parser.add_argument("--no-health-checks", action="store_true")
    parser.add_argument("--database-hooks", action="store_true", help="promote/rebuild the PostgreSQL pair")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    code = asyncio.run(serve(args))
    log.info("stopped after %.0fs", time.monotonic() - started)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
