"""Counter deltas of the scrape source on synthetic reads: resets, new series, pods coming and going."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.scrape import (
    Observation,
    ScrapeResult,
    StaticTargets,
    Target,
    counter_increase,
)

API = "/api/v1/signal"


def req(code: str, route: str = API) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("http_requests_total", (("code", code), ("method", "GET"), ("route", route)))


START = ("process_start_time_seconds", ())


def read(target: Target, at: float, values: dict, start: float | None = 0.0) -> ScrapeResult:
    samples = dict(values)
    if start is not None:
        samples[START] = start
    return ScrapeResult(target, at, samples)


A, B = Target("http://127.0.0.1:1/metrics", {"version": "1"}, "a"), Target("http://127.0.0.1:2/metrics", {"version": "2"}, "b")


def obs(*rounds: tuple[ScrapeResult, ...]) -> Observation:
    return Observation("scrape", Selector(), tuple(rounds), 10.0)


def test_counter_reset_counts_the_new_value_from_zero() -> None:
    assert counter_increase([100, 150, 20, 30]) == 50 + 20 + 10
    assert counter_increase([100, 160], [False, True]) == 160  # restart known from start time


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30))
def test_increase_of_a_monotone_counter_is_last_minus_first(increments: list[int]) -> None:
    values = [sum(increments[: i + 1]) for i in range(len(increments))]
    assert counter_increase(values) == values[-1] - values[0]


@given(st.lists(st.integers(0, 1000), min_size=2, max_size=30))
def test_increase_is_never_negative(values: list[int]) -> None:
    assert counter_increase(values) >= 0


def test_error_series_created_inside_the_window_counts_from_zero() -> None:
    o = obs((read(A, 0, {req("200"): 100}),),
            (read(A, 10, {req("200"): 195, req("500"): 5}),))
    m = o.request_counts()
    assert m.counts.total == 100 and m.counts.errors == 5 and m.value == 0.05


def test_health_and_metrics_routes_do_not_count() -> None:
    o = obs((read(A, 0, {req("200"): 10, req("200", "/health"): 3}),),
            (read(A, 10, {req("200"): 20, req("200", "/health"): 90, req("503", "/ready"): 9}),))
    m = o.request_counts()
    assert m.counts.total == 10 and m.counts.errors == 0


def test_restart_between_reads_is_a_counter_reset() -> None:
    o = obs((read(A, 0, {req("200"): 500}, start=1.0),),
            (read(A, 5, {req("200"): 600}, start=1.0),),
            (read(A, 10, {req("200"): 40, req("500"): 2}, start=7.0),))
    m = o.request_counts()
    assert m.counts.total == 100 + 42 and m.counts.errors == 2


def test_pod_born_inside_the_window_counts_from_zero_and_vanished_pod_keeps_its_share() -> None:
    o = obs((read(A, 0, {req("200"): 10}, start=-50),),
            (read(A, 5, {req("200"): 30}, start=-50), read(B, 5, {req("200"): 8}, start=3)),
            (read(B, 10, {req("200"): 20, req("503"): 1}, start=3),))
    m = o.request_counts()
    assert m.counts.total == 20 + 21 and m.counts.errors == 1
    assert {s["pod"]: s["total"] for s in m.series} == {"a": 20, "b": 21}


def test_pod_already_running_when_first_seen_counts_from_first_read() -> None:
    o = obs((read(A, 0, {req("200"): 10}),),
            (read(A, 10, {req("200"): 20}), read(B, 10, {req("200"): 8}, start=-100)),
            (read(B, 12, {req("200"): 9}, start=-100),))
    assert o.request_counts().counts.total == 10 + 1


def test_one_round_is_inconclusive_and_all_failed_reads_are_an_error() -> None:
    one = obs((read(A, 0, {req("200"): 10}),)).request_counts()
    assert one.value is None and one.counts is None and not one.error and "two" in one.reason
    bad = obs((ScrapeResult(A, 0, error="http://127.0.0.1:1/metrics: connection failed"),),
              (ScrapeResult(A, 1, error="http://127.0.0.1:1/metrics: connection failed"),))
    m = bad.request_counts()
    assert m.failed and "127.0.0.1:1" in m.error
    empty = obs((), ()).request_counts()
    assert empty.value is None and not empty.error and "no pods" in empty.reason


def test_no_api_traffic_is_inconclusive_not_zero() -> None:
    m = obs((read(A, 0, {req("200"): 10}),), (read(A, 10, {req("200"): 10}),)).request_counts()
    assert m.value is None and m.counts.total == 0 and "no requests" in m.reason


def test_latency_quantile_from_bucket_deltas() -> None:
    def hist(le_counts: dict[str, float]) -> dict:
        out = {}
        for le, c in le_counts.items():
            out[("http_request_duration_seconds_bucket", (("le", le), ("method", "GET"), ("route", API)))] = c
        out[("http_request_duration_seconds_count", (("method", "GET"), ("route", API)))] = le_counts["+Inf"]
        return out

    o = obs((read(A, 0, hist({"0.1": 1000, "0.2": 1000, "+Inf": 1000})),),
            (read(A, 10, hist({"0.1": 1050, "0.2": 1100, "+Inf": 1100})),))
    m = o.latency_quantile(0.95)
    # window: 50 in (0, 0.1], 50 in (0.1, 0.2]; old observations (all fast) do not dilute it
    assert abs(m.value - (0.1 + 0.1 * 45 / 50)) < 1e-9 and m.samples == 100


def test_static_targets_filter_by_selector() -> None:
    t = StaticTargets([A, B, "http://127.0.0.1:3"])
    assert [x.key for x in t.targets(Selector({"version": "2"}))] == ["b"]
    assert len(t.targets(Selector())) == 3
    assert t.targets(Selector())[2].url == "http://127.0.0.1:3/metrics"
