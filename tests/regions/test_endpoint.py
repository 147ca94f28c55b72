"""The global endpoint on its own: health checks, failover, no failback, manual failback.

Two tiny loopback HTTP backends stand for the regions' bot Services; the endpoint runs
in-process with a 50 ms check interval so the tests take a second or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from goldgate.sandbox.regions.endpoint import STATE_FILE, GlobalEndpoint

INTERVAL = 0.05


class Backend:
    """Answers every request with 200 ``{"region": name}``, or 503 while ``healthy`` is False."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            code = 200 if self.healthy else 503
            body = json.dumps({"region": self.name}).encode()
            writer.write(f"HTTP/1.0 {code} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


async def http(port: int, method: str = "GET", path: str = "/", body: bytes = b"") -> tuple[int, dict[str, Any]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload or b"{}")


@contextlib.asynccontextmanager
async def endpoint(folder: pathlib.Path, *, health_checks: bool = True, hook_error: bool = False
                   ) -> AsyncIterator[tuple[GlobalEndpoint, Backend, Backend, int, int, list[str]]]:
    primary, secondary = Backend("primary"), Backend("secondary")
    calls: list[str] = []

    async def on_failover() -> None:
        calls.append("failover")
        if hook_error:
            raise RuntimeError("promote failed")

    async def on_failback() -> None:
        calls.append("failback")

    ep = GlobalEndpoint(folder, {"primary": await primary.start(), "secondary": await secondary.start()},
                        interval_s=INTERVAL, failures=3, health_path="/ready", health_checks=health_checks,
                        on_failover=on_failover, on_failback=on_failback)
    front = await asyncio.start_server(ep.forward, "127.0.0.1", 0)
    admin = await asyncio.start_server(ep.admin, "127.0.0.1", 0)
    checker = asyncio.create_task(ep.health_loop())
    try:
        yield ep, primary, secondary, front.sockets[0].getsockname()[1], admin.sockets[0].getsockname()[1], calls
    finally:
        checker.cancel()
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            await checker
        for server in (front, admin, primary.server, secondary.server):
            assert server is not None
            server.close()


async def served_by(port: int) -> str:
    status, body = await http(port, path="/api/v1/signal")
    return f"{body.get('region')}:{status}"


def test_fails_over_after_three_failed_checks_and_never_fails_back(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with endpoint(tmp_path) as (ep, primary, _secondary, port, _admin, calls):
            assert await served_by(port) == "primary:200"
            primary.healthy = False
            await asyncio.sleep(INTERVAL * 8)
            assert ep.state.active == "secondary" and calls == ["failover"]
            assert await served_by(port) == "secondary:200"
            primary.healthy = True
            await asyncio.sleep(INTERVAL * 20)  # many intervals with a healthy primary: still no failback
            assert ep.state.active == "secondary" and calls == ["failover"]
            assert await served_by(port) == "secondary:200"
            published = json.loads((tmp_path / STATE_FILE).read_text())
            assert published["active"] == "secondary" and published["failed_over_at"]
            assert "3 failed health checks (HTTP 503)" in json.dumps(published["history"])

    asyncio.run(scenario())


def test_manual_failback_through_the_admin_port(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with endpoint(tmp_path) as (_ep, primary, _secondary, port, admin, calls):
            assert (await http(admin, "POST", "/failback"))[0] == 409  # nothing to fail back from
            primary.healthy = False
            await asyncio.sleep(INTERVAL * 8)
            primary.healthy = True
            status, body = await http(admin, "POST", "/failback", b'{"reason": "drill"}')
            assert status == 200 and body["active"] == "primary" and body["failed_back_at"]
            assert calls == ["failover", "failback"]
            assert await served_by(port) == "primary:200"
            assert (await http(admin, "GET", "/status"))[1]["active"] == "primary"

    asyncio.run(scenario())


def test_without_health_checks_it_never_fails_over(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with endpoint(tmp_path, health_checks=False) as (ep, primary, _secondary, port, _admin, calls):
            primary.healthy = False
            await asyncio.sleep(INTERVAL * 10)
            assert ep.state.active == "primary" and ep.state.checks == 0 and calls == []
            assert await served_by(port) == "primary:503"

    asyncio.run(scenario())


def test_a_failing_failover_hook_keeps_the_primary_and_says_why(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with endpoint(tmp_path, hook_error=True) as (ep, primary, _secondary, _port, _admin, _calls):
            primary.healthy = False
            await asyncio.sleep(INTERVAL * 8)
            assert ep.state.active == "primary"
            events = [e for e in ep.state.history if e["event"] == "switch-failed"]
            assert events and "promote failed" in events[-1]["error"]

    asyncio.run(scenario())


@pytest.mark.parametrize(("request_bytes", "code"), [(b"garbage\r\n\r\n", 400), (b"GET /nope HTTP/1.0\r\n\r\n", 404)])
def test_admin_port_answers_bad_requests_clearly(tmp_path: pathlib.Path, request_bytes: bytes, code: int) -> None:
    async def scenario() -> None:
        async with endpoint(tmp_path) as (_ep, _p, _s, _port, admin, _calls):
            reader, writer = await asyncio.open_connection("127.0.0.1", admin)
            writer.write(request_bytes)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert int(raw.split()[1]) == code and b"error" in raw

    asyncio.run(scenario())
