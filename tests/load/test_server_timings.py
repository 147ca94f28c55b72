"""Server timings of a load window: real reference bots on loopback, and the refusals.

The probe reads the bot's own duration histogram before and after a window; a slowed
bot (``FAULT_LATENCY_MS``) must read slower by about the knob, a Service answering each
scrape from another pod must be refused, and the client's timings must count the same
routes the server's do.
"""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests

from goldgate.criteria.load import ClientTimings, LoadMeasurement, RouteSpread, p95_within_baseline
from goldgate.load.client_timings import client_timings, timings_of_records
from goldgate.load.limits import DEFAULTS as LIMITS
from goldgate.load.measure import measurement
from goldgate.load.plan import LoadPlan
from goldgate.load.records import RequestRecord
from goldgate.probes.metrics import ScrapeSource, Selector, StaticTargets
from goldgate.probes.metrics.promtext import parse_metrics
from goldgate.probes.server_timings import (
    PodWindow,
    ProcessWindow,
    ServerTimings,
    histogram_delta,
    release_window,
)
from goldgate.rollout.sources import GrowingWindow
from goldgate.verdict import Status

API = "/api/.*"


def _signals(url: str, n: int, workers: int = 4) -> None:
    def one(_: int) -> None:
        requests.get(url + "/api/v1/signal", params={"symbol": "XAUUSD"}, timeout=5).raise_for_status()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(n)))
    requests.get(url + "/health", timeout=5)  # not an /api route: must not count


def _window(url: str) -> ProcessWindow:
    return ProcessWindow(url, routes=API, connect_timeout_s=2, read_timeout_s=5, retries=1)


def _m(label: str) -> LoadMeasurement:
    return LoadMeasurement(label, "open", 200, 0, 50.0, planned=200, generator_cpu=10.0, send_lag_p95_ms=1.0)


# ----------------------------------------------------------------------------- pure parts
def _page(start: float, count: float, fast: float) -> dict:
    route = (("method", "GET"), ("route", "/api/v1/signal"))
    health = (("method", "GET"), ("route", "/health"))
    return {
        ("process_start_time_seconds", ()): start,
        ("http_request_duration_seconds_bucket", (("le", "0.05"), *route)): fast,
        ("http_request_duration_seconds_bucket", (("le", "+Inf"), *route)): count,
        ("http_request_duration_seconds_count", route): count,
        ("http_request_duration_seconds_bucket", (("le", "+Inf"), *health)): 999.0,
        ("http_request_duration_seconds_count", health): 999.0,
    }


def test_histogram_delta_counts_only_the_compared_routes_and_refuses_falling_counters() -> None:
    buckets, count, why = histogram_delta(_page(1.0, 10, 10), _page(1.0, 110, 50), API)
    assert why == "" and count == 100 and buckets == {0.05: 40.0, float("inf"): 100.0}
    _, _, why = histogram_delta(_page(1.0, 110, 50), _page(1.0, 30, 20), API)
    assert "went down from" in why and "not one process's histogram" in why
    _, _, why = histogram_delta(_page(1.0, 10, 10), {}, API)
    assert "vanished" in why


class _Session:
    """Answers /metrics with the given pages in turn (a stand-in for the HTTP session)."""

    def __init__(self, *texts: str) -> None:
        self.texts = iter(texts)

    def get(self, url: str, timeout: tuple[float, float]) -> requests.Response:
        assert timeout == (2, 5)
        r = requests.Response()
        r.status_code, r._content = 200, next(self.texts).encode()
        return r


def test_a_target_without_a_process_start_time_is_refused() -> None:
    page = ('# TYPE http_request_duration_seconds histogram\n'
            'http_request_duration_seconds_bucket{route="/api/v1/signal",le="+Inf"} 5\n'
            'http_request_duration_seconds_count{route="/api/v1/signal"} 5\n'
            'http_request_duration_seconds_sum{route="/api/v1/signal"} 0.5\n')
    w = ProcessWindow("http://127.0.0.1:9", routes=API, session=_Session(page, page))  # type: ignore[arg-type]
    t = w.close()
    assert t.p95_s is None and "exports no process_start_time_seconds" in t.error


def test_unreachable_target_is_an_error_string_within_the_timeout_never_an_exception() -> None:
    w = ProcessWindow("http://127.0.0.1:9", routes=API, connect_timeout_s=0.5, read_timeout_s=0.5, retries=1,
                      sleep=lambda s: None)
    t = w.close()
    assert not t.usable and t.error.startswith("first scrape: http://127.0.0.1:9/metrics: connection failed")


class _BrokenWindow:
    source = type("Source", (), {"name": "scrape"})()
    selector = Selector({"app": "trading-bot"}, "trading")

    def advance(self) -> None:
        raise RuntimeError("discovery exploded")


def test_pod_window_failures_are_error_strings_never_exceptions() -> None:
    t = PodWindow(_BrokenWindow(), routes=API).close()
    assert not t.usable and "opening the window failed: RuntimeError: discovery exploded" in t.error
    env = SimpleNamespace(kubernetes=SimpleNamespace(label_selector="no-equals-sign", namespace="trading"),
                          metrics=SimpleNamespace(routes=API, source="scrape", scrape_interval_s=1.0))
    t = release_window(env, kube=None).close()
    assert not t.usable and "no metric source" in t.error and "not key=value" in t.error


def test_client_timings_filter_the_same_routes_and_find_the_cheapest_route() -> None:
    recs = [RequestRecord(1.0, "GET /api/v1/signal", 40.0 + i, True, 200) for i in range(20)]
    recs += [RequestRecord(1.0, "GET /health", 1.5, True, 200), RequestRecord(1.0, "GET /ready", 0.5, False, None),
             RequestRecord(1.0, "POST /api/v1/orders", 30.0, True, 201)]
    c = timings_of_records(recs, API)
    assert c.requests == 21 and c.p95_ms == 58.0 and c.min_ms == 30.0
    # a failed answer (connection refused) is not a floor: only successes count
    assert (c.cheapest_route, c.cheapest_min_ms) == ("GET /health", 1.5)
    assert RouteSpread("GET /health", 1, 1.5, 1.5) in c.spreads and len(c.spreads) == 3  # the failed poll: none
    assert timings_of_records([], API) == ClientTimings(API, None, 0)
    # the cheapest route's p95 over its successful answers: the queueing a request meets on the way
    polls = [RequestRecord(1.0, "GET /health", 1.0 + i / 10, True, 200) for i in range(40)]
    polls.append(RequestRecord(1.0, "GET /health", 900.0, False, None))  # a failed poll is no answer
    c = timings_of_records(recs + polls, API)
    health = next(x for x in c.spreads if x.route == "GET /health")
    assert c.cheapest_min_ms == 1.0 and (health.answers, health.fastest_ms) == (41, 1.0)
    assert abs(health.p95_ms - 4.7) < 1e-9


# ----------------------------------------------------------------------------- real bots
@pytest.mark.sandbox
def test_a_slowed_bot_reads_slower_by_its_knob_in_server_timings(start_bot) -> None:
    stable, slow = start_bot(), start_bot(FAULT_LATENCY_MS="150", FAULT_LATENCY_JITTER_MS="0")
    windows = _window(stable), _window(slow)
    _signals(stable, 80)
    _signals(slow, 80)
    base, release = (w.close() for w in windows)
    for t in (base, release):
        assert t.usable, t
        assert t.requests == 80  # the /health poll is not an /api request
        assert "deltas of two scrapes" in t.source
    assert base.p95_s < 0.1 and 0.15 <= release.p95_s <= 0.3, (base, release)
    v = p95_within_baseline(_m("release"), _m("baseline"), 2, min_requests=50, limits=LIMITS,
                            release_server=release, baseline_server=base)
    # the client p95s of these measurements are equal (50 ms): only the server timings see the slow-down
    assert v.status is Status.FAIL, v.message()
    assert "release p95 from server timings" in v.reason and f"{release.p95_s * 1000:.1f}" in v.message()


@pytest.mark.sandbox
def test_pod_window_reads_the_same_through_the_scrape_metric_source(start_bot) -> None:
    url = start_bot(FAULT_LATENCY_MS="100", FAULT_LATENCY_JITTER_MS="0")
    pods = PodWindow(GrowingWindow(ScrapeSource(StaticTargets([url])), Selector()), routes=API)
    one = _window(url)
    _signals(url, 60)
    via_pods, via_process = pods.close(), one.close()
    assert via_pods.usable and via_process.usable, (via_pods, via_process)
    assert via_pods.requests == via_process.requests == 60
    assert abs(via_pods.p95_s - via_process.p95_s) < 1e-9
    assert via_pods.source.startswith("scrape")


class _AlternatingService:
    """A loopback 'Service' whose /metrics answers from another pod on every scrape."""

    def __init__(self, pods: list[str]) -> None:
        turn = itertools.cycle(pods)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = requests.get(next(turn) + self.path, timeout=5).content
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def alternating_service(start_bot) -> Iterator[tuple[_AlternatingService, list[str]]]:
    pods = [start_bot(), start_bot()]
    svc = _AlternatingService(pods)
    yield svc, pods
    svc.close()


@pytest.mark.sandbox
def test_a_service_answering_from_another_pod_is_refused_and_the_client_fallback_is_named(
        alternating_service) -> None:
    svc, pods = alternating_service
    w = _window(svc.url)
    for pod in pods:
        _signals(pod, 10, workers=2)
    t = w.close()
    assert t.p95_s is None and "the process changed between the scrapes" in t.error, t
    assert "Service answering from another pod" in t.error
    client = ClientTimings(API, 40.0, 200, min_ms=20.0, cheapest_route="GET /health", cheapest_min_ms=1.0,
                           spreads=(RouteSpread("GET /health", 20, 3.0, 1.0),))
    release = LoadMeasurement("release", "open", 200, 0, 40.0, planned=200, generator_cpu=10.0,
                              send_lag_p95_ms=1.0, client=client)
    base = LoadMeasurement("baseline", "open", 200, 0, 40.0, planned=200, generator_cpu=10.0,
                           send_lag_p95_ms=1.0, client=client)
    v = p95_within_baseline(release, base, 2, min_requests=50, limits=LIMITS,
                            release_server=ServerTimings(0.03, 200, "pods"), baseline_server=t)
    assert v.status is Status.PASS, v.message()
    assert "baseline server timings not used: the process changed" in v.reason
    assert "from the client minus its overhead floor 1.0 ms" in v.reason


@pytest.mark.sandbox
def test_a_load_run_with_server_timings_decides_a_known_slow_down(start_bot, run_load) -> None:
    # 20 ms of knob on the baseline, 150 ms on the release: whatever the buckets' interpolation
    # ((0.025, 0.05] against (0.15, 0.2]), the server p95s are at least 3x apart
    base_url = start_bot(FAULT_LATENCY_MS="20", FAULT_LATENCY_JITTER_MS="0")
    slow_url = start_bot(FAULT_LATENCY_MS="150", FAULT_LATENCY_JITTER_MS="0")
    results, timings = [], []
    for url, label in ((base_url, "baseline"), (slow_url, "release")):
        w = _window(url)
        results.append(run_load(LoadPlan(url, rate_rps=25, duration_s=4, timeout_s=5, label=label)))
        timings.append(w.close())
    base_m, rel_m = (
        LoadMeasurement(**{**measurement(r).__dict__, "client": client_timings(r, API)}) for r in results)
    assert all(t.usable for t in timings), timings
    assert timings[1].requests == rel_m.client.requests  # both count the same /api requests
    v = p95_within_baseline(rel_m, base_m, 2, min_requests=50, limits=LIMITS,
                            release_server=timings[1], baseline_server=timings[0])
    assert v.status is Status.FAIL, v.message()
    assert v.observed >= 150 and "server timings" in v.reason
    assert parse_metrics(requests.get(slow_url + "/metrics", timeout=5).text)  # the bot stayed up
