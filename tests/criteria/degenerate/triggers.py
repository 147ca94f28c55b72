"""Degenerate inputs of the §6.1 trigger assessment (goldgate.criteria.triggers): a p95 read on
nothing, no pods, no usage, filesystem metrics that do not
pair up; and the "could not measure" paths, which can never pass."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from goldgate.config import Thresholds
from goldgate.criteria.resources import PodUsage
from goldgate.probes.metrics.base import Measurement

T = Thresholds()
TEXT = st.text(max_size=40)
NOT_A_LATENCY = st.sampled_from([None, math.nan, math.inf, -math.inf, -0.1])
THIN_P95 = st.builds(Measurement, source=st.just("scrape"), query=st.just("p95"),
                     value=st.one_of(NOT_A_LATENCY, st.floats(1e-4, 10.0)), samples=st.integers(0, T.min_requests - 1))
BROKEN = st.sampled_from([
    Measurement("scrape", "x", error="http://127.0.0.1:1/metrics: refused"),
    Measurement("prometheus", "q", reason="empty result"),
    Measurement("prometheus", "q", value=math.nan),
])


def _latency() -> st.SearchStrategy:
    baselines = st.fixed_dictionaries({}, optional={"baseline": st.one_of(THIN_P95, BROKEN),
                                                    "baseline_p95_s": st.one_of(st.just(0.2), st.just(math.nan))})
    return st.tuples(THIN_P95, baselines).map(lambda a: ((a[0], T), {"window_s": 60.0, **a[1]}))


def _pods() -> st.SearchStrategy:
    # No pod to judge: neither trigger may pass, whatever the window (a NaN or infinite start
    # included). A pod that is there and healthy passes both, rightly; that is not degenerate.
    starts = st.one_of(st.just(0.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf))
    return starts.map(lambda t: (([], T), {"restarts_at_start": {}, "ever_ready": set(), "window_s": 60.0,
                                          "window_start_wall": t, "query": "pods trading app=x"}))


def _usage() -> st.SearchStrategy:
    reading = st.builds(PodUsage, pod=st.just("p"), cpu_cores=NOT_A_LATENCY, cpu_limit_cores=st.just(0.0),
                        memory_bytes=NOT_A_LATENCY, memory_limit_bytes=st.just(0.0))
    return st.lists(reading, max_size=3).map(lambda u: ((u, T), {}))


def _disk() -> st.SearchStrategy:
    unpaired = st.builds(Measurement, source=st.just("scrape"), query=st.just("avail"), series=st.lists(
        st.fixed_dictionaries({"pod": st.just("p"), "value": st.one_of(st.just(math.nan), st.just(-1.0))}),
        max_size=2).map(tuple))
    return st.one_of(st.tuples(BROKEN, BROKEN), st.tuples(unpaired, unpaired), st.tuples(unpaired, BROKEN)).map(
        lambda a: ((a[0], a[1], T), {}))


CASES = {
    "triggers.latency_unmeasured": BROKEN.map(lambda m: ((m, T), {})),
    "triggers.latency_triggers": _latency(),
    "triggers.pods_unmeasured": st.tuples(TEXT, TEXT).map(lambda a: (a, {})),
    "triggers.pod_triggers": _pods(),
    "triggers.usage_unmeasured": st.tuples(TEXT, TEXT).map(lambda a: ((*a, T), {})),
    "triggers.usage_triggers": _usage(),
    "triggers.disk_trigger": _disk(),
}
