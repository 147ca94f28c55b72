"""The lone release's p95-vs-stored-baseline rule as a count of slow requests (criteria/lone_latency.py)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate.config import Thresholds
from goldgate.criteria.lone_error_rate import DispersionSetting
from goldgate.criteria.lone_latency import LoneLatency, exceedance_params, exceedances, lone_latency
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.criteria.triggers import P95_BASELINE, bucket_delta, latency_triggers
from goldgate.criteria.watch_error_rate import WatchPlan
from goldgate.probes.metrics import Measurement
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]
PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=7200.0, max_gap_s=180.0)
INF = math.inf


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("watch_validity_lone_latency", ROOT / "bench" / "watch_validity.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def test_exceedances_count_certain_and_possible_slow_requests() -> None:
    hist = {0.1: 10, 0.25: 50, 0.5: 90, INF: 100}
    assert exceedances(hist, 0.3) == (100, 10, 50)  # bucket (0.25, 0.5] straddles 0.3
    assert exceedances(hist, 0.25) == (100, 50, 50)  # a bound: exact
    assert exceedances(hist, 5.0) == (100, 0, 10)  # only +Inf above: nothing certain
    with pytest.raises(ValueError, match=r"\+Inf"):
        exceedances({0.1: 3}, 0.2)
    with pytest.raises(ValueError, match="cumulative"):
        exceedances({0.1: 5, 0.2: 3, INF: 6}, 0.15)


def test_exceedance_params_scale_with_the_error_rate_test() -> None:
    p = exceedance_params(GUIDE_DEFAULTS)
    assert (p.limit, round(p.p0, 6), round(p.p1, 6)) == (0.05, 0.025, 0.1)
    assert p.alpha == GUIDE_DEFAULTS.alpha


def _run(slow_share: float, polls: int, seed: int = 1, bursts: float = 0.0) -> list:
    rng = np.random.default_rng(seed)
    test = LoneLatency(PLAN, 0.2, 2.0)
    out = []
    for _ in range(polls):
        n = int(rng.poisson(1200))
        share = 0.2 if rng.random() < bursts else slow_share
        k = int(rng.binomial(n, share))
        out.append(lone_latency(test.observe(n, k, k, 60.0)))
    return out


def test_a_release_slower_than_twice_the_stored_baseline_fails_with_value_and_threshold() -> None:
    verdicts = _run(0.12, 20)
    failed = [v for v in verdicts if v.status is Status.FAIL]
    assert failed, [v.reason for v in verdicts[-2:]]
    v = failed[0]
    assert v.rollback and v.threshold == pytest.approx(0.05) and v.observed > 0.05
    assert "400.0 ms" in v.reason and "reached its threshold" in v.reason and "5 %" in v.reason


def test_a_healthy_release_passes() -> None:
    verdicts = _run(0.001, 5)
    assert verdicts[-1].status is Status.PASS and verdicts[-1].threshold == pytest.approx(0.05)
    assert "within L = 2x the stored baseline" in verdicts[-1].reason


def test_slow_minutes_of_a_healthy_release_never_roll_it_back_and_it_still_passes() -> None:
    verdicts = _run(0.001, 120, bursts=0.05)
    assert not [v for v in verdicts if v.status is Status.FAIL]
    assert verdicts[-1].status is Status.PASS and "spread between polls" in verdicts[-1].reason


def test_too_few_requests_or_polls_never_pass() -> None:
    test = LoneLatency(PLAN, 0.2, 2.0, min_requests=200)
    assert lone_latency(test.observe(150, 0, 0, 60.0)).status is Status.INCONCLUSIVE
    v = lone_latency(test.observe(150, 0, 0, 60.0))
    assert v.status is Status.INCONCLUSIVE and "need at least 200 over 3" in v.reason
    assert lone_latency(test.observe(150, 0, 0, 60.0)).status is Status.PASS


def test_a_bucket_straddling_the_limit_is_inconclusive_never_a_decision() -> None:
    test = LoneLatency(PLAN, 0.2, 2.0)
    for _ in range(10):
        v = lone_latency(test.observe(2000, 0, 2000, 60.0))
    assert v.status is Status.INCONCLUSIVE and "finer buckets" in v.reason


def test_the_monitor_feeds_the_stored_baseline_rule_from_bucket_deltas() -> None:
    first = ((0.2, 100.0), (0.4, 590.0), (INF, 600.0))
    second = ((0.2, 150.0), (0.4, 1180.0), (INF, 1200.0))
    assert bucket_delta(second, first) == ((0.2, 50.0), (0.4, 590.0), (INF, 600.0))
    assert bucket_delta(((0.2, 1.0), (INF, 2.0)), ((0.2, 5.0), (INF, 9.0))) == ((0.2, 0.0), (INF, 0.0))
    test = LoneLatency(PLAN, 0.2, 2.0)
    for _ in range(3):
        state = test.observe_buckets(((0.2, 100.0), (0.4, 2990.0), (INF, 3000.0)), 60.0)
    m = Measurement("scrape", "q", 0.3, 600, 60.0, buckets=first)
    verdicts = latency_triggers(m, Thresholds(), window_s=60.0, baseline_p95_s=0.2, lone=state)
    assert [v.criterion for v in verdicts][1] == P95_BASELINE and verdicts[1].status is Status.PASS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from([2.0, 20.0]), st.floats(0.0, 0.3), st.floats(0.0, 0.15))
def test_the_bench_vectorised_rule_decides_as_the_criterion(seed: int, rate: float, bursts: float,
                                                            slow: float) -> None:
    rng = np.random.default_rng(seed)
    interval, polls, watches = 60.0, 40, 3
    n = rng.poisson(rate * interval, size=(watches, polls))
    share = np.where(rng.random((watches, polls)) < bursts, 0.2, slow)
    k_low = rng.binomial(n, share)
    k_high = k_low + rng.binomial(n - k_low, 0.02)
    ex = exceedance_params(GUIDE_DEFAULTS)
    h = BENCH._thresholds(WatchPlan(ex, horizon_s=BENCH.HORIZON_S, max_gap_s=3 * interval), polls, interval)
    alarm, first = BENCH.lone_latency_alarms(ex, h, n, k_low, k_high, interval,
                                             DispersionSetting(default=300.0, min_polls=10**9))
    plan = WatchPlan(GUIDE_DEFAULTS, horizon_s=BENCH.HORIZON_S, max_gap_s=3 * interval)
    BENCH._self_check_lone_latency(plan, interval, DispersionSetting(), 0.4, n, k_low, k_high, alarm, 300.0,
                                   watches=watches, first=first)


def test_a_snapshot_continues_the_same_window_and_garbage_starts_afresh() -> None:
    import json

    rng = np.random.default_rng(7)
    a, b = LoneLatency(PLAN, 0.2, 2.0), LoneLatency(PLAN, 0.2, 2.0)
    polls = [(int(n), int(k), 60.0) for n, k in zip(rng.poisson(600, 30), rng.binomial(600, 0.03, 30), strict=True)]
    for n, k, d in polls[:15]:
        a.observe(n, k, k, d)
    b.restore(json.loads(json.dumps(a.snapshot())))
    for n, k, d in polls[15:]:
        va, vb = lone_latency(a.observe(n, k, k, d)), lone_latency(b.observe(n, k, k, d))
        assert (va.status, va.observed) == (vb.status, vb.observed)
    fresh = LoneLatency(PLAN, 0.2, 2.0)
    for garbage in ({}, {"test": "lone latency", "limit_s": 0.4, "window": {"polls": -3}}, {**a.snapshot(), "limit_s": 9}):
        fresh.restore(garbage)
        assert fresh.state.window.polls == 0
