"""Prometheus source without Prometheus: refused connection, garbage answers, query text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from goldgate.criteria.measured import error_rate_from
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.prometheus import PrometheusSource, promql_duration
from goldgate.verdict import Status
from tests.metrics.conftest import free_port


class _Junk(BaseHTTPRequestHandler):
    body = b"<html>proxy error</html>"
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def junk_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Junk)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_prometheus_down_is_an_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    src = PrometheusSource(url, retries=1, backoff_s=0.01, connect_timeout_s=0.5)
    m = src.request_counts(60, Selector({"app": "trading-bot"}))
    assert m.failed and url in m.error and "2 attempts" in m.error
    v = error_rate_from(m, GUIDE_DEFAULTS)
    assert v.status is Status.ERROR and url in v.message()


def test_unparsable_answer_is_an_error(junk_server: str) -> None:
    m = PrometheusSource(junk_server, retries=0).latency_quantile(0.95, 60, Selector())
    assert m.failed and "not JSON" in m.error and junk_server in m.error


def test_credentials_never_reach_the_message() -> None:
    port = free_port()
    src = PrometheusSource(f"http://user:s3cret@127.0.0.1:{port}", retries=0, connect_timeout_s=0.5)
    m = src.instant("up", Selector())
    assert m.failed and "s3cret" not in m.error and "s3cret" not in m.query


def test_rendered_queries_use_api_routes_selector_and_window() -> None:
    src = PrometheusSource("http://127.0.0.1:9", routes="/api/v1/.*")
    sel = Selector({"app": "trading-bot", "pod-template-hash": "abc"})
    q = src.render("errors", sel, 90)
    assert q == ('sum by (instance) (increase(http_requests_total{route=~"/api/v1/.*",'
                 'app="trading-bot",pod_template_hash="abc",code=~"5.."}[90s]))')
    assert "histogram_quantile(0.95," in src.render("latency", sel, 30, q="0.95")
    with pytest.raises(ValueError):
        PrometheusSource("http://127.0.0.1:9", queries={"nonsense": "x"})


def test_promql_duration() -> None:
    assert promql_duration(30) == "30s"
    assert promql_duration(1.5) == "1500ms"
    with pytest.raises(ValueError):
        promql_duration(0)


def test_blackholed_prometheus_costs_at_most_its_timeouts() -> None:
    import socket
    import time

    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        src = PrometheusSource(url, retries=1, backoff_s=0.01, connect_timeout_s=0.3, read_timeout_s=0.3)
        began = time.monotonic()
        m = src.request_counts(60, Selector())
        assert time.monotonic() - began < 3
    assert m.failed and url in m.error and "timed out" in m.error
