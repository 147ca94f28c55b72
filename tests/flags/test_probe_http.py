"""The Unleash admin probe on answers a server can give that the live one rarely does:
429 with Retry-After (honoured, within the probe's bound), 503 then success (retried), a
body that is not JSON or lacks its list (ERROR naming the call). Served over HTTP on
loopback in the shapes of Unleash's admin API documentation (GET /api/admin/projects/{p}/features)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from goldgate.probes.flags import FlagServerError, UnleashAdmin

FEATURES = {"version": 2, "features": [
    {"name": "order_idempotency", "type": "kill-switch", "stale": False, "createdAt": "2026-11-20T10:00:00.000Z",
     "environments": [{"name": "production", "enabled": True}]}]}


class Script:
    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[str] = []


@pytest.fixture
def served() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.seen.append(self.headers.get("Authorization", ""))
            status, headers, body = script.answers.pop(0) if script.answers else (200, {}, json.dumps(FEATURES).encode())
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def _admin(url: str, waits: list[float], retries: int = 2) -> UnleashAdmin:
    return UnleashAdmin(url, "*:*.secret", retries=retries, backoff_s=0.01, sleep=waits.append)


def test_rate_limit_honours_retry_after(served: tuple[str, Script]) -> None:
    url, script = served
    script.answers.append((429, {"Retry-After": "2"}, b"{}"))
    waits: list[float] = []
    flags = _admin(url, waits).flags()
    assert [f.name for f in flags] == ["order_idempotency"] and flags[0].killswitch and flags[0].enabled
    assert waits == [2.0] and script.seen[0] == "*:*.secret"


def test_unavailable_then_answering_is_retried_within_the_bound(served: tuple[str, Script]) -> None:
    url, script = served
    script.answers += [(503, {}, b"down")] * 3
    waits: list[float] = []
    with pytest.raises(FlagServerError, match=r"HTTP 503 after 3 attempt") as err:
        _admin(url, waits).flags()
    assert "secret" not in str(err.value) and len(waits) == 2


@pytest.mark.parametrize("body", [b"not json", b'{"features": "none"}', b"[]"])
def test_malformed_body_is_an_error_naming_the_call(served: tuple[str, Script], body: bytes) -> None:
    url, script = served
    script.answers.append((200, {}, body))
    with pytest.raises(FlagServerError, match=r"GET /api/admin/projects/default/features"):
        _admin(url, [], retries=0).flags()
