"""Degenerate inputs of the bursty-traffic error-rate criteria: the paired test against the
concurrent stable and the lone release's dispersion-robust test. None of them may PASS."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import strategies as st

from goldgate.criteria.lone_error_rate import DispersionSetting, LoneErrorRate, LoneState
from goldgate.criteria.paired_error_rate import PairedErrorRate, PairedState
from goldgate.criteria.rise_cusum import RiseCusum
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.criteria.watch_error_rate import WatchPlan

PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=600.0, max_gap_s=60.0)


def _paired_states() -> st.SearchStrategy[PairedState]:
    def fed(polls: list[tuple[int, int, int, int, float]]) -> PairedState:
        test = PairedErrorRate(PLAN)
        for n, k, ns, ks, d in polls:
            test.observe(n, min(k, n), ns, min(ks, ns), d)
        return test.state

    empty = st.lists(st.tuples(st.just(0), st.just(0), st.integers(0, 1000), st.integers(0, 5),
                               st.floats(0, 100)), max_size=5).map(fed)
    # a canary with errors but no stable to pair with, and too few requests to accept on its own
    alone = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 3), st.just(0), st.just(0),
                               st.floats(0.1, 10)), min_size=1, max_size=5).map(fed)
    stale = st.tuples(st.integers(300, 5000), st.floats(61, 1000)).map(
        lambda a: fed([(a[0], 0, a[0] * 9, 0, 10.0), (0, 0, 100, 0, a[1])]))
    garbage = st.sampled_from([
        replace(PairedState(PLAN), cusum=RiseCusum(counts=(10, 11, 0, 0))),
        replace(PairedState(PLAN), cusum=RiseCusum(at_s=math.nan, counts=(0, 0, 0, 0))),
        replace(PairedState(PLAN), cusum=RiseCusum(at_s=10, llr=math.inf, counts=(1000, 0, 1000, 0)),
                last_traffic_s=10),
        replace(PairedState(PLAN), cusum=RiseCusum(at_s=10, counts=(1000, 0)), last_traffic_s=10),
        replace(PairedState(PLAN), cusum=RiseCusum(at_s=10, counts=(-1, 0, 5, 0)), last_traffic_s=10),
        replace(PairedState(PLAN), cusum=RiseCusum(at_s=10, counts=(1000, 0, 9000, 0)), last_traffic_s=None),
    ])
    return st.one_of(empty, alone, stale, garbage)


def _lone_states() -> st.SearchStrategy[LoneState]:
    def fed(polls: list[tuple[int, int, float]]) -> LoneState:
        test = LoneErrorRate(PLAN, DispersionSetting())
        for n, k, d in polls:
            test.observe(n, min(k, n), d)
        return test.state

    empty = st.lists(st.tuples(st.just(0), st.just(0), st.floats(0, 100)), max_size=5).map(fed)
    thin = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2), st.floats(0.1, 10)), max_size=5).map(fed)
    stale = st.tuples(st.integers(300, 5000), st.floats(61, 1000)).map(
        lambda a: fed([(a[0], 0, 10.0), (0, 0, a[1])]))
    garbage = st.sampled_from([
        replace(LoneState(PLAN), cusum=RiseCusum(counts=(10, 11))),
        replace(LoneState(PLAN), cusum=RiseCusum(at_s=math.nan, counts=(0, 0))),
        replace(LoneState(PLAN), cusum=RiseCusum(at_s=10, counts=(1000, 0)), last_traffic_s=10,
                accept_llr=-math.inf, rho=0.0),
        replace(LoneState(PLAN), cusum=RiseCusum(at_s=10, counts=(1000, 0)), last_traffic_s=10,
                accept_llr=-50.0, rho=None),
        replace(LoneState(PLAN), cusum=RiseCusum(at_s=10, counts=(1000, 0, 5, 0)), last_traffic_s=10, rho=0.0),
    ])
    return st.one_of(empty, thin, stale, garbage)


CASES = {
    "paired_error_rate.paired_error_rate": _paired_states().map(lambda s: ((s,), {})),
    "lone_error_rate.lone_error_rate": _lone_states().map(lambda s: ((s,), {})),
}
