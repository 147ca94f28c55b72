"""Unreachable and misbehaving targets end within their timeout as ERROR naming URL and cause.

Each case is a real loopback server misbehaving on purpose: nothing listening, a socket
that accepts and never answers, a 500, an HTML page where JSON is expected.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from goldgate.config import Timeouts
from goldgate.criteria import http as http_criteria
from goldgate.probes.http import HttpProbe
from goldgate.verdict import Status

FAST = Timeouts(connect_s=0.5, read_s=0.5, retries=1, backoff_s=0.05)


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, str]]] = {
        "/status500": (500, "text/plain", "boom"),
        "/html": (200, "text/html", "<html>maintenance</html>"),
        "/metrics-garbage": (200, "text/plain", "this is { not prometheus\n"),
        "/version": (200, "application/json", '{"version": "v1.1.0"}'),
    }

    def do_GET(self) -> None:
        status, ctype, body = self.routes.get(self.path.split("?")[0], (404, "text/plain", "nope"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def blackhole() -> Iterator[str]:
    """Accepts connections and never answers a byte."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def _accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=_accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    sock.close()


def _refused_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def test_refused_port_is_error_naming_url_and_cause() -> None:
    url = _refused_url()
    obs = HttpProbe(url, FAST).get("/health")
    v = http_criteria.answers_with("liveness", obs)
    assert v.status is Status.ERROR
    assert f"{url}/health" in v.reason and "connection refused" in v.reason
    assert obs.attempts == 2


def test_blackholed_endpoint_costs_at_most_its_timeout(blackhole: str) -> None:
    started = time.monotonic()
    obs = HttpProbe(blackhole, FAST).get("/health")
    elapsed = time.monotonic() - started
    v = http_criteria.answers_with("liveness", obs)
    assert v.status is Status.ERROR and "read timeout" in v.reason and blackhole in v.reason
    # two attempts of at most connect+read each, plus one back-off
    assert elapsed < 2 * (FAST.connect_s + FAST.read_s) + FAST.backoff_s + 1.0


def test_post_is_not_retried(blackhole: str) -> None:
    obs = HttpProbe(blackhole, FAST).post("/api/v1/orders", {"symbol": "XAUUSD"})
    assert obs.attempts == 1 and obs.error


def test_non_200_is_fail_with_both_numbers(misbehaving: str) -> None:
    v = http_criteria.answers_with("signal", HttpProbe(misbehaving, FAST).get("/status500"))
    assert v.status is Status.FAIL
    assert "500" in v.message() and "expected 200" in v.message()


def test_non_json_answer_is_error(misbehaving: str) -> None:
    v = http_criteria.json_field_equals("version", HttpProbe(misbehaving, FAST).get("/html"), "version", "v1.2.0")
    assert v.status is Status.ERROR and "not JSON" in v.reason and "/html" in v.reason


def test_wrong_version_is_fail(misbehaving: str) -> None:
    v = http_criteria.json_field_equals("version", HttpProbe(misbehaving, FAST).get("/version"), "version", "v1.2.0")
    assert v.status is Status.FAIL and "v1.1.0" in v.message() and "v1.2.0" in v.message()


def test_garbage_metrics_is_error(misbehaving: str) -> None:
    v = http_criteria.metrics_expose("metrics", HttpProbe(misbehaving, FAST).get("/metrics-garbage"), ["x"])
    assert v.status is Status.ERROR
    assert "metrics-garbage" in v.reason and "not Prometheus text format" in v.reason
