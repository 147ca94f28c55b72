"""Degenerate inputs of the rollback-trigger criteria: error rate (one look, streaming and
window-wide), p95 vs baseline and budget, like-with-like readings, measurement bridges."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import strategies as st

from goldgate.criteria.latency import LatencyReading
from goldgate.criteria.sprt import GUIDE_DEFAULTS, SequentialErrorRate, sprt_state
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan, WatchState
from goldgate.probes.metrics.base import Measurement, RequestCounts
from goldgate.verdict import Verdict

NOT_A_LATENCY = st.sampled_from([None, math.nan, math.inf, -math.inf, -0.1])
LATENCY = st.floats(1e-4, 10.0)
PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=600.0, max_gap_s=60.0)

# fewer requests than Wald's test needs to accept "healthy" with no errors (197 at the guide's numbers)
THIN = st.integers(0, 150).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))
ABOVE_LIMIT = st.integers(1, 100_000).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min(n, int(n * GUIDE_DEFAULTS.limit) + 1), n)))


class ProbeUnavailableError(Exception):
    """A probe's "could not measure"."""


def _raise() -> float:
    raise ProbeUnavailableError("http://127.0.0.1:1/metrics: connection refused")


def _passes(_value: object) -> Verdict:
    return Verdict.passed("c", 1.0, 1.0)


BROKEN = st.sampled_from([
    Measurement("scrape", "http://127.0.0.1:1/metrics", error="http://127.0.0.1:1/metrics: refused"),
    Measurement("prometheus", "q", reason="empty result"),
    Measurement("prometheus", "q", value=math.nan),
])
NO_COUNTS = st.sampled_from([
    Measurement("scrape", "x", error="http://127.0.0.1:1/metrics: refused"),
    Measurement("scrape", "x", reason="no series"),
    Measurement("scrape", "x", value=0.0, samples=0, counts=RequestCounts(0, 0)),
    Measurement("scrape", "x", value=0.0, samples=20, counts=RequestCounts(20, 0)),
])


def _window_states() -> st.SearchStrategy[WatchState]:
    def fed(polls: list[tuple[int, int, float]]) -> WatchState:
        test = WatchErrorRate(PLAN)
        for n, k, d in polls:
            test.observe(n, min(k, n), d)
        return test.state

    empty = st.lists(st.tuples(st.just(0), st.just(0), st.floats(0, 100)), max_size=5).map(fed)
    thin = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2), st.floats(0.1, 10)), max_size=5).map(fed)
    # traffic, then a stretch without requests longer than max_gap_s
    stale = st.tuples(st.integers(300, 5000), st.floats(61, 1000)).map(
        lambda a: fed([(a[0], 0, 10.0), (0, 0, a[1])]))
    garbage = st.sampled_from([
        replace(WatchState(PLAN), requests=10, errors=11, llr=0.0),
        replace(WatchState(PLAN), at_s=math.nan),
        replace(WatchState(PLAN), requests=1000, errors=0, llr=5.0, at_s=10, last_traffic_s=10),
        replace(WatchState(PLAN), requests=1000, errors=0, llr=GUIDE_DEFAULTS.llr(1000, 0), at_s=10),
        replace(WatchState(PLAN), requests=-1),
    ])
    return st.one_of(empty, thin, stale, garbage)


def _sequential(counts: tuple[int, int]) -> SequentialErrorRate:
    test = SequentialErrorRate(GUIDE_DEFAULTS)
    test.update(*counts)
    return test


def _readings() -> st.SearchStrategy[tuple[tuple, dict]]:
    bad = st.one_of(
        st.builds(LatencyReading, NOT_A_LATENCY, st.integers(0, 1000), st.just("server")),
        st.builds(LatencyReading, LATENCY, st.integers(0, 49), st.just("server")),
        st.builds(LatencyReading, LATENCY, st.integers(50, 1000), st.just("client"), st.none() | NOT_A_LATENCY),
        st.builds(LatencyReading, LATENCY, st.integers(50, 1000), st.just("client"), st.floats(10.0, 1e3)),
        st.builds(LatencyReading, LATENCY, st.integers(50, 1000), st.sampled_from(["", "proxy"])),
        # a client reading with a good floor whose queueing was not measured (or is junk)
        st.builds(LatencyReading, st.floats(0.01, 10.0), st.integers(50, 1000), st.just("client"), st.just(1e-3),
                  queueing_s=NOT_A_LATENCY),
    )
    good = st.builds(LatencyReading, LATENCY, st.integers(50, 1000), st.just("server"))
    kw = {"factor": 2.0, "min_samples": 50, "window_s": 30.0}
    return st.one_of(st.tuples(bad, good), st.tuples(good, bad), st.tuples(bad, bad)).map(lambda a: (a, kw))


def _baseline_cases() -> st.SearchStrategy[tuple[tuple, dict]]:
    kw = {"factor": 2.0, "min_samples": 50, "window_s": 30.0}
    no_baseline = st.tuples(LATENCY, NOT_A_LATENCY).map(
        lambda a: (a, {**kw, "samples": 500, "baseline_samples": 500}))
    no_p95 = st.tuples(NOT_A_LATENCY, LATENCY).map(lambda a: (a, {**kw, "samples": 500, "baseline_samples": 500}))
    thin = st.tuples(LATENCY, LATENCY, st.integers(0, 49)).map(
        lambda a: ((a[0], a[1]), {**kw, "samples": a[2], "baseline_samples": 500}))
    thin_base = st.tuples(LATENCY, LATENCY, st.integers(0, 49)).map(
        lambda a: ((a[0], a[1]), {**kw, "samples": 500, "baseline_samples": a[2]}))
    bad_factor = st.tuples(LATENCY, LATENCY, st.sampled_from([math.nan, math.inf, 0.0, -2.0])).map(
        lambda a: ((a[0], a[1]), {**kw, "factor": a[2], "samples": 500, "baseline_samples": 500}))
    return st.one_of(no_baseline, no_p95, thin, thin_base, bad_factor)


def _budget_cases() -> st.SearchStrategy[tuple[tuple, dict]]:
    kw = {"min_samples": 50, "window_s": 30.0}
    no_p95 = NOT_A_LATENCY.map(lambda p: ((p,), {**kw, "budget_s": 0.5, "samples": 500}))
    thin = st.tuples(LATENCY, st.integers(0, 49)).map(lambda a: ((a[0],), {**kw, "budget_s": 100.0, "samples": a[1]}))
    bad_budget = st.tuples(LATENCY, st.sampled_from([math.nan, math.inf, -1.0, 0.0])).map(
        lambda a: ((a[0],), {**kw, "budget_s": a[1], "samples": 500}))
    return st.one_of(no_p95, thin, bad_budget)


CASES = {
    "watch_error_rate.error_rate_over_window": _window_states().map(lambda s: ((s,), {})),
    "sprt.error_rate_sprt": st.one_of(THIN, ABOVE_LIMIT).map(lambda nk: ((nk[0], nk[1], GUIDE_DEFAULTS), {})),
    "sprt.verdict_of": st.one_of(THIN, ABOVE_LIMIT).map(
        lambda nk: ((sprt_state(nk[0], nk[1], GUIDE_DEFAULTS),), {"criterion": "c", "window_s": None})),
    "sprt.SequentialErrorRate.verdict": st.one_of(THIN, ABOVE_LIMIT).map(lambda nk: ((_sequential(nk),), {})),
    "latency.p95_vs_baseline": _baseline_cases(),
    "latency.p95_above_budget": _budget_cases(),
    "latency.p95_baseline_waived": st.one_of(st.text(max_size=40), st.none()).map(
        lambda w: ((w,), {"factor": 2.0})),
    "latency.p95_vs_baseline_like_with_like": _readings(),
    "measured.decide": BROKEN.map(lambda m: ((m, "c", 1.0, lambda v, n, ev: _passes(v)), {})),
    "measured.measure_and_judge": st.just((("c", _raise, _passes, (ProbeUnavailableError,)), {})),
    "measured.error_rate_from": NO_COUNTS.map(lambda m: ((m, GUIDE_DEFAULTS), {})),
    "measured.feed_sequential": NO_COUNTS.map(lambda m: ((SequentialErrorRate(GUIDE_DEFAULTS), m), {})),
    "measured.probe_failed": st.text(max_size=40).map(lambda t: (("c", t), {})),
    "measured.unmeasured": st.tuples(BROKEN, st.sampled_from(["value", "counts"])).map(
        lambda a: ((a[0], "c"), {"need": a[1]})),
}
