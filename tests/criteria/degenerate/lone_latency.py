"""Degenerate inputs of the lone release's latency rule against a stored baseline (requests slower
than factor x the stored p95, counted from the buckets): none of them may PASS."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import strategies as st

from goldgate.criteria.lone_latency import LoneLatency, LoneLatencyState, WindowShare
from goldgate.criteria.rise_cusum import RiseCusum
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.criteria.watch_error_rate import WatchPlan

PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=600.0, max_gap_s=60.0)


def _fed(polls: list[tuple[int, int, int, float]]) -> LoneLatencyState:
    test = LoneLatency(PLAN, 0.2, 2.0)
    for n, lo, extra, d in polls:
        lo = min(lo, n)
        test.observe(n, lo, min(n, lo + extra), d)
    return test.state


def _states() -> st.SearchStrategy[LoneLatencyState]:
    empty = st.lists(st.tuples(st.just(0), st.just(0), st.just(0), st.floats(0, 100)), max_size=5).map(_fed)
    thin = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1), st.integers(0, 1), st.floats(0.1, 10)),
                    max_size=4).map(_fed)
    stale = st.tuples(st.integers(300, 5000), st.floats(61, 1000)).map(
        lambda a: _fed([(a[0], 0, 0, 10.0), (0, 0, 0, a[1])]))
    # a bucket around L: nothing certainly slower, everything possibly slower
    straddle = st.integers(500, 5000).map(lambda n: _fed([(n, 0, n, 10.0)] * 3))
    good = _fed([(3000, 0, 0, 10.0)])
    garbage = st.sampled_from([
        replace(good, limit_s=math.nan), replace(good, limit_s=-1.0), replace(good, baseline_p95_s=math.inf),
        replace(good, factor=0.0), replace(good, quantile=1.5),
        replace(good, window=WindowShare(1, 3000, 5, 2)),
        replace(good, window=WindowShare(5, 3000, 0, 0), high=replace(good.high, cusum=RiseCusum(at_s=10,
                                                                                            counts=(10, 11)))),
        replace(good, window=WindowShare(5, 10**6, 0, 0)),
        replace(good, window=WindowShare(-1, 3000, 0, 0)),
        replace(good, low=None),
    ])
    return st.one_of(empty, thin, stale, straddle, garbage)


CASES = {"lone_latency.lone_latency": _states().map(lambda s: ((s,), {}))}
