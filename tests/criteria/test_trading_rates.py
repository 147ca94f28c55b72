"""Trade rate and order rejects, canary vs stable: faults fail with value and threshold, healthy
canaries pass, bursts shared by both tracks cancel, and the benchmark's vectorised rules are
the criteria's own."""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldgate.criteria.trading import (
    OrderRejects,
    RejectPlan,
    TradeRate,
    TradeRatePlan,
    order_rejects,
    trade_rate,
)
from goldgate.criteria.trading.agreement import AgreementPlan, AgreementState
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]
PLAN = TradeRatePlan()
REJ = RejectPlan()


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("trading_canary", ROOT / "bench" / "trading_canary.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def _poisson(rng: random.Random, mean: float) -> int:
    return int(np.random.default_rng(rng.randrange(1 << 30)).poisson(mean))


def _phase(ratio: float, polls: int = 120, *, seed: int = 1, burst: bool = False, canary_pods: int = 1,
           stable_pods: int = 3, bars: int = 10) -> TradeRate:
    """Polls of ``bars`` bars; each pod orders on half the bars; a shared burst factor per poll."""
    rng = random.Random(seed)
    test = TradeRate(PLAN)
    for _ in range(polls):
        factor = rng.choice([0.1, 0.2, 1.0, 8.0]) if burst else 1.0
        mean = bars * 0.5 * factor
        test.observe(_poisson(rng, mean * canary_pods * ratio), float(bars * canary_pods),
                     _poisson(rng, mean * stable_pods), float(bars * stable_pods))
    return test


def test_the_same_trade_rate_passes() -> None:
    v = trade_rate(_phase(1.0).state)
    assert v.status is Status.PASS, v.message()
    assert 0.8 < v.observed < 1.25 and v.threshold == [0.5, 2.0]
    assert v.rollback and v.evidence[-1].samples > 0


@pytest.mark.parametrize("ratio", [3.0, 4.0])
def test_over_trading_fails_with_value_and_threshold(ratio: float) -> None:
    v = trade_rate(_phase(ratio).state)
    assert v.status is Status.FAIL, v.message()
    assert v.threshold == 2.0 and v.observed > 2.0
    assert f"{v.observed:.3g}x is above the maximum 2x" in v.reason


def test_under_trading_fails() -> None:
    v = trade_rate(_phase(0.1).state)
    assert v.status is Status.FAIL and v.threshold == 0.5 and "below the minimum 0.5x" in v.reason, v.message()


def test_a_canary_trading_while_stable_does_not_fails() -> None:
    test = TradeRate(PLAN)
    for _ in range(20):
        test.observe(5, 10.0, 0, 30.0)
    v = trade_rate(test.state)
    assert v.status is Status.FAIL and "inf" in v.reason, v.message()


def test_shared_bursts_cancel() -> None:
    healthy = trade_rate(_phase(1.0, 200, burst=True, seed=4).state)
    assert healthy.status is Status.PASS, healthy.message()
    bad = trade_rate(_phase(3.0, 200, burst=True, seed=4).state)
    assert bad.status is Status.FAIL, bad.message()


def test_a_burst_scaling_one_poll_does_not_move_the_split_test() -> None:
    """The per-poll likelihood depends on the canary's share only: 10x both counts in one poll
    is stronger evidence about the share, never evidence of a different share."""
    a, b = TradeRate(PLAN), TradeRate(PLAN)
    a.observe(10, 10.0, 30, 30.0)
    b.observe(100, 10.0, 300, 30.0)
    assert a.state.ratio == b.state.ratio == 1.0
    e = b.state.e_values()
    assert e["over"] <= 0 and e["under"] <= 0


def test_no_orders_or_closed_market_is_inconclusive() -> None:
    test = TradeRate(PLAN)
    test.observe(0, 0.0, 0, 0.0)
    v = trade_rate(test.state)
    assert v.status is Status.INCONCLUSIVE and "market is closed" in v.reason
    test.observe(0, 10.0, 0, 30.0)
    assert "no orders on either track" in trade_rate(test.state).reason


def test_polls_without_exposure_are_merged_into_the_next() -> None:
    a, b = TradeRate(PLAN), TradeRate(PLAN)
    a.observe(3, 0.0, 4, 0.0)
    a.observe(2, 10.0, 9, 30.0)
    b.observe(5, 10.0, 13, 30.0)
    assert a.state.loglik == b.state.loglik and a.state.polls == b.state.polls == 1


def test_bad_counts_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="order counts"):
        TradeRate(PLAN).observe(-1, 1.0, 1, 1.0)
    with pytest.raises(ValueError, match="exposures"):
        TradeRate(PLAN).observe(1, math.nan, 1, 1.0)


@settings(max_examples=150, deadline=None)
@given(polls=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12), st.integers(0, 40), st.integers(0, 12)),
                      max_size=40))
def test_trade_rate_fails_only_outside_the_bounds_and_passes_only_inside(polls: list) -> None:
    test = TradeRate(PLAN)
    for c, ec, s, es in polls:
        test.observe(c, float(ec), s, float(es))
    v = trade_rate(test.state)
    if v.status is Status.FAIL:
        assert v.observed > 2.0 or v.observed < 0.5
    if v.status is Status.PASS:
        assert 0.5 <= v.observed <= 2.0 and test.state.canary_orders + test.state.stable_orders >= PLAN.min_orders


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), per_min=st.sampled_from([1, 15, 60]), ratio=st.sampled_from([0.3, 1.0, 2.0, 3.0]),
       bursts=st.booleans())
def test_the_benchmark_trade_rate_rule_is_the_criterion(seed: int, per_min: int, ratio: float, bursts: bool) -> None:
    rng = np.random.default_rng(seed)
    bars = BENCH._bars_per_poll(per_min, 60)
    c, s = BENCH._simulate_orders(rng, 4, bars, ratio, bursts)
    alarm = BENCH.trade_rate_alarm(PLAN, bars, c, s)
    BENCH._trade_rate_check(PLAN, bars, c, s, alarm, phases=4)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.sampled_from([0.0, 0.05, 0.1, 0.3]))
def test_the_benchmark_agreement_rule_is_the_criterion(seed: int, d: float) -> None:
    plan = AgreementPlan()
    dis = np.random.default_rng(seed).random((4, 300)) < d
    alarm = BENCH.agreement_alarm(plan, dis)
    BENCH._agreement_check(plan, dis, alarm, phases=4)
    for w in range(4):
        n = int(alarm[w]) + 1 if alarm[w] >= 0 else 300
        assert (AgreementState(plan, pairs=n, disagreements=int(dis[w, :n].sum())).failed) == (alarm[w] >= 0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), excess=st.sampled_from([0.0, 0.02, 0.1, 0.3]), conc=st.sampled_from([2.0, 50.0]))
def test_the_benchmark_reject_rule_is_the_criterion(seed: int, excess: float, conc: float) -> None:
    rng = np.random.default_rng(seed)
    bars = BENCH._bars_per_poll(15, 60)
    c_ord, s_ord = BENCH._simulate_orders(rng, 4, bars, 1.0, True)
    p = rng.beta(conc * 0.05, conc * 0.95, size=c_ord.shape)
    counts = (rng.binomial(c_ord, np.minimum(1.0, p + excess)), c_ord, rng.binomial(s_ord, p), s_ord)
    alarm = BENCH.reject_alarm(RejectPlan(), *counts)
    BENCH._reject_check(RejectPlan(), counts, alarm, phases=4)


# ----------------------------------------------------------------------------- order rejects
def _rejects(canary_rate: float, stable_rate: float, polls: int = 400, *, seed: int = 2,
             shared_outage: bool = False) -> OrderRejects:
    rng = random.Random(seed)
    test = OrderRejects(REJ)
    for j in range(polls):
        outage = shared_outage and j % 20 == 0  # the broker rejects everything for one poll
        oc, os_ = 5, 15
        rc = oc if outage else sum(rng.random() < canary_rate for _ in range(oc))
        rs = os_ if outage else sum(rng.random() < stable_rate for _ in range(os_))
        test.observe(rc, oc, rs, os_)
    return test


def test_a_canary_that_rejects_more_fails_with_value_and_threshold() -> None:
    v = order_rejects(_rejects(0.12, 0.01).state)
    assert v.status is Status.FAIL, v.message()
    assert v.threshold == 0.02 and v.observed > 0.02 and "more than the margin 2 %" in v.reason


def test_rejects_like_stable_pass() -> None:
    v = order_rejects(_rejects(0.0, 0.0, 60).state)
    assert v.status is Status.PASS, v.message()
    assert v.observed == 0.0 and v.threshold == 0.02


def test_a_shared_broker_outage_does_not_roll_back() -> None:
    v = order_rejects(_rejects(0.01, 0.01, 400, shared_outage=True).state)
    assert v.status is not Status.FAIL, v.message()


def test_rejects_without_orders_on_both_tracks_are_inconclusive() -> None:
    test = OrderRejects(REJ)
    test.observe(0, 10, 0, 0)
    v = order_rejects(test.state)
    assert v.status is Status.INCONCLUSIVE and "no orders on both tracks" in v.reason


@settings(max_examples=150, deadline=None)
@given(polls=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10), st.integers(0, 10)),
                      max_size=60))
def test_rejects_fail_only_above_the_margin(polls: list) -> None:
    test = OrderRejects(REJ)
    for rc, oc, rs, os_ in polls:
        test.observe(min(rc, oc), oc, min(rs, os_), os_)
    v = order_rejects(test.state)
    assert all(math.isfinite(w) or w == -math.inf for w in test.state.log_wealth)
    if v.status is Status.FAIL:
        assert v.observed > REJ.margin
    if v.status is Status.PASS:
        assert v.observed <= REJ.margin and test.state.canary_orders >= REJ.min_orders


def test_false_rollbacks_of_rejects_at_the_margin_stay_within_alpha() -> None:
    """Canary exactly at stable + margin, polled 300 times: the bet's alarm rate <= alpha."""
    rng = np.random.default_rng(5)
    phases, polls = 400, 300
    rc = rng.binomial(5, 0.03, size=(phases, polls))
    rs = rng.binomial(15, 0.01, size=(phases, polls))
    fails = 0
    for w in range(phases):
        test = OrderRejects(REJ)
        for j in range(polls):
            if test.observe(int(rc[w, j]), 5, int(rs[w, j]), 15).alarm:
                fails += 1
                break
    assert fails / phases <= 0.03
