"""The window-wide error-rate test: batching, the budget, freshness, the false-alarm bound.

The guarantees of :mod:`goldgate.criteria.watch_error_rate` are properties of every
stream, so hypothesis draws the rates, poll intervals, batch sizes and gaps: the budget
adds up to at most ``alpha`` for every schedule (exact), counts split at one instant give
the same state (exact), a stretch without traffic never passes, and healthy streams roll
back no more often than the bound allows (simulated, fixed seeds).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate.criteria.sprt import GUIDE_DEFAULTS, SprtParams
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan, error_rate_over_window
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("watch_validity", ROOT / "bench" / "watch_validity.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()

polls = st.lists(st.tuples(st.integers(0, 3000), st.floats(0.0, 1.0), st.floats(0.0, 120.0)), min_size=1,
                 max_size=60)


def _plan(horizon: float = 600.0, gap: float = 90.0, params: SprtParams = GUIDE_DEFAULTS) -> WatchPlan:
    return WatchPlan(params, horizon_s=horizon, max_gap_s=gap)


@given(st.lists(st.floats(0.0, 500.0), min_size=1, max_size=300), st.floats(1.0, 5000.0),
       st.none() | st.floats(0.01, 100.0))
def test_the_budget_never_exceeds_alpha_for_any_poll_schedule(durations: list[float], horizon: float,
                                                             resolution: float | None) -> None:
    """Sum over starting points of alpha * share <= alpha: the union bound's premise, exactly,
    also for schedules that run far past the horizon."""
    plan = WatchPlan(GUIDE_DEFAULTS, horizon_s=horizon, max_gap_s=60.0, resolution_s=resolution)
    t, nxt, spent = 0.0, 0.0, 0.0
    for d in durations:
        h, nxt = plan.start_point(t, t + d, nxt)
        if math.isfinite(h):
            spent += math.exp(-h)
        t += d
    assert spent <= GUIDE_DEFAULTS.alpha * (1 + 1e-9)


@given(polls, st.data())
def test_counts_split_at_one_instant_give_exactly_the_same_state(stream, data: st.DataObject) -> None:
    """Batching invariance: one look at a poll is one look, however its counts arrive."""
    whole, split = WatchErrorRate(_plan()), WatchErrorRate(_plan())
    for n, frac, d in stream:
        k = int(n * frac * 0.05)
        whole.observe(n, k, d)
        cut_n = data.draw(st.integers(0, n))
        cut_k = data.draw(st.integers(max(0, k - (n - cut_n)), min(k, cut_n)))
        split.observe(cut_n, cut_k, d)
        split.observe(n - cut_n, k - cut_k, 0.0)
    assert split.state == whole.state
    a, b = error_rate_over_window(whole.state), error_rate_over_window(split.state)
    assert (a.status, a.reason) == (b.status, b.reason)


@given(polls, st.integers(1, 10))
def test_a_stretch_without_traffic_never_passes(stream, quiet_polls: int) -> None:
    test = WatchErrorRate(_plan(gap=90.0))
    for n, frac, d in stream:
        test.observe(n, int(n * frac * 0.004), d)
    for _ in range(quiet_polls):
        state = test.observe(0, 0, 100.0)  # each quiet poll alone is longer than max_gap_s
    v = error_rate_over_window(state)
    assert v.status is not Status.PASS
    if state.alarm is None:
        assert v.status is Status.INCONCLUSIVE and "no requests since" in v.reason
    assert v.evidence[-1].details["requests"] == state.requests  # the window's counts travel along


@given(polls)
def test_no_errors_never_fail_and_a_rate_above_the_limit_never_passes(stream) -> None:
    clean, dirty = WatchErrorRate(_plan()), WatchErrorRate(_plan())
    for n, _frac, d in stream:
        clean.observe(n, 0, d)
        v = error_rate_over_window(dirty.observe(n, math.ceil(n * 0.012), d))
        if dirty.state.requests and dirty.state.errors / dirty.state.requests > GUIDE_DEFAULTS.limit:
            assert v.status is not Status.PASS
        assert error_rate_over_window(clean.state).status is not Status.FAIL


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.2, 1.0), st.sampled_from([1.0, 2.0, 5.0, 20.0]), st.sampled_from([1.0, 5.0, 15.0, 60.0]),
       st.floats(0.0, 0.5), st.sampled_from([0.05, 0.1, 0.2]), st.integers(0, 2**32 - 1))
def test_healthy_streams_roll_back_within_the_bound(share_of_p0: float, rate: float, interval: float,
                                                    quiet: float, alpha: float, seed: int) -> None:
    """The window-wide property on simulated streams: true rate at or below p0, Poisson traffic
    that stops in a random share of the polls, any interval; rollbacks <= alpha (+3 sigma)."""
    params = SprtParams(limit=0.01, p0=0.005, p1=0.02, alpha=alpha, beta=0.05)
    horizon = 900.0
    plan = WatchPlan(params, horizon_s=horizon, max_gap_s=3 * interval)
    rng = np.random.default_rng(seed)
    watches, n_polls = 600, int(horizon / interval)
    n = rng.poisson(rate * interval, size=(watches, n_polls)) * (rng.random((watches, n_polls)) >= quiet)
    k = rng.binomial(n, params.p0 * share_of_p0)
    h = BENCH._thresholds(plan, n_polls, interval)
    alarms = BENCH.window_rule(params, h, n, k)
    BENCH._self_check(params, plan, interval, n, k, alarms, watches=2)  # the vectorised rule is the class
    share = float((alarms >= 0).mean())
    assert share <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / watches), share


def test_a_rise_late_in_the_window_is_caught_with_value_and_threshold() -> None:
    test = WatchErrorRate(_plan(horizon=7200.0, gap=180.0))
    rng = np.random.default_rng(7)
    for _ in range(100):
        test.observe(1200, int(rng.binomial(1200, 0.004)), 60.0)
    verdicts = [error_rate_over_window(test.observe(1200, int(rng.binomial(1200, 0.03)), 60.0)) for _ in range(5)]
    failed = [v for v in verdicts if v.status is Status.FAIL]
    assert failed, [v.reason for v in verdicts]
    v = failed[0]
    assert v.rollback and v.threshold == GUIDE_DEFAULTS.limit and v.observed > GUIDE_DEFAULTS.limit
    assert "reached its threshold" in v.reason and "from 6000s" in v.reason


def test_the_bench_quick_run_meets_both_targets() -> None:
    result = BENCH.run(watches=60, seed=3, quick=True)
    assert result["false_rollback_max"] <= result["alpha"]
    assert {c["interval_s"] for c in result["grid"]} == {1.0, 30.0, 60.0}
    assert all(d["ratio"] > 0 for d in result["detection"])
