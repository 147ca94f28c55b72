"""Signal agreement with the stable version: the canary's faults fail with value and threshold,
the same model and a retrained one at 97 % pass given enough bars, the bounds are honest."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldgate.criteria.trading import (
    AgreementPlan,
    AgreementState,
    SignalAgreement,
    signal_agreement,
    signal_agreement_of,
)
from goldgate.criteria.trading.sequential import beta_binomial_log_e, rate_bounds
from goldgate.verdict import Status
from tests.criteria.trading_streams import track

PLAN = AgreementPlan()


def test_the_same_model_passes() -> None:
    v = signal_agreement_of(track(100), track(100, pods=3), PLAN)
    assert v.status is Status.PASS, v.message()
    assert v.observed == 1.0 and v.threshold == pytest.approx(0.93)
    assert v.evidence[-1].samples == 198  # 99 settled bars x 2 symbols: the newest bar waits for a later one
    assert v.rollback


def test_a_retrained_model_at_97_percent_passes_given_enough_bars() -> None:
    stable = track(1500, pods=2)
    short = signal_agreement_of(track(60, differ=0.03), track(60, pods=2), PLAN)
    assert short.status is Status.INCONCLUSIVE, short.message()
    v = signal_agreement_of(track(1500, differ=0.03), stable, PLAN)
    assert v.status is Status.PASS, v.message()
    assert 0.96 < v.observed < 0.98


def test_a_retrained_model_that_states_its_agreement_is_held_to_it() -> None:
    plan = AgreementPlan(expected_agreement=0.97)
    assert plan.pass_at == pytest.approx(0.95) and plan.fail_below == pytest.approx(0.95)
    v = signal_agreement_of(track(3000, differ=0.03), track(3000), plan)
    assert v.status is Status.PASS, v.message()
    assert "expected agreement of 97 %" in v.reason


@pytest.mark.parametrize("flip", [0.05, 0.10, 0.20])
def test_flips_on_the_retrained_model_fail_with_value_and_threshold(flip: float) -> None:
    v = signal_agreement_of(track(3000, differ=0.03, flip=flip, seed=3), track(3000, pods=2), PLAN)
    assert v.status is Status.FAIL, v.message()
    assert v.threshold == 0.95 and v.observed < 0.95
    assert f"{v.observed * 100:.4g} %" in v.reason and "below the minimum 95 %" in v.reason
    assert v.rollback


@pytest.mark.parametrize("flip", [0.10, 0.20])
def test_flips_on_the_same_model_fail(flip: float) -> None:
    # a flip inverts BUY/SELL only: about 2/3 of the bars are actionable here
    v = signal_agreement_of(track(3000, flip=flip * 1.5, seed=5), track(3000), PLAN)
    assert v.status is Status.FAIL, v.message()


def test_five_percent_flips_never_pass_when_the_release_expects_the_same_signals() -> None:
    plan = AgreementPlan(expected_agreement=1.0)
    v = signal_agreement_of(track(3000, flip=0.075, seed=5), track(3000), plan)
    assert v.status is not Status.PASS, v.message()


def test_one_track_missing_or_no_bars_is_inconclusive_naming_why() -> None:
    assert "no canary decisions" in signal_agreement_of([], track(50), PLAN).reason
    assert "no stable decisions" in signal_agreement_of(track(50), [], PLAN).reason
    assert "market is closed" in signal_agreement_of([], [], PLAN).reason
    late = signal_agreement_of(track(50), track(50, start=10_000), PLAN)
    assert late.status is Status.INCONCLUSIVE and "no bar decided by both" in late.reason


def test_malformed_record_is_an_error_naming_the_record() -> None:
    from dataclasses import replace
    bad = track(30)
    bad[5] = replace(bad[5], signal="STRONG_BUY")
    v = signal_agreement_of(bad, track(30), PLAN)
    assert v.status is Status.ERROR and "canary decision #5" in v.reason and "STRONG_BUY" in v.reason


def test_polls_do_not_change_the_state() -> None:
    canary, stable = track(400, differ=0.05), track(400, pods=2)
    whole = SignalAgreement(PLAN).observe(canary, stable)
    test = SignalAgreement(PLAN)
    for i in range(0, 800, 37):  # canary and stable read at different moments, with overlap
        test.observe(canary[i:i + 50], stable[max(0, 2 * i - 60):2 * i + 74])
    test.observe(canary, stable)
    polled = test.state
    assert (polled.pairs, polled.disagreements) == (whole.pairs, whole.disagreements)


def test_unpaired_bars_are_counted_not_judged() -> None:
    canary = track(200)
    stable = [d for d in track(200) if not (20 <= (d.bar_time * 2) % 1000 < 30)]
    s = SignalAgreement(PLAN).observe(canary, stable)
    assert s.disagreements == 0 and s.stable_only == 0


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 3000), frac=st.floats(0, 1), level=st.sampled_from([0.01, 0.05, 0.2]))
def test_confidence_interval_contains_the_observed_rate(n: int, frac: float, level: float) -> None:
    k = round(n * frac)
    lo, hi = rate_bounds(n, k, level, 1.0, 20.0)
    assert 0 <= lo <= k / n <= hi <= 1
    if lo > 0:
        assert beta_binomial_log_e(n, k, lo * 0.999, 1.0, 20.0) >= -math.log(level) - 1e-6
    if hi < 1:
        assert beta_binomial_log_e(n, k, min(1.0, hi * 1.001 + 1e-12), 1.0, 20.0) >= -math.log(level) - 1e-6


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 5000), frac=st.floats(0, 1))
def test_fail_exactly_when_the_upper_bound_is_below_the_minimum(n: int, frac: float) -> None:
    k = round(n * frac)
    state = AgreementState(PLAN, pairs=n, disagreements=k, canary_decisions=n, stable_decisions=n)
    v = signal_agreement(state)
    if n:
        _, ucb = state.bounds()
        if abs(ucb - PLAN.fail_below) > 1e-6:
            assert (v.status is Status.FAIL) == (ucb < PLAN.fail_below), v.message()
    if v.status is Status.PASS:
        lcb, _ = state.bounds()
        assert lcb >= PLAN.pass_at - 1e-6 and n >= PLAN.min_pairs
    if v.status is Status.FAIL:
        assert v.observed < PLAN.fail_below


@settings(max_examples=60, deadline=None)
@given(more=st.integers(1, 500), n=st.integers(1, 2000), frac=st.floats(0, 0.04))
def test_more_agreeing_bars_never_turn_a_pass_into_a_fail(more: int, n: int, frac: float) -> None:
    k = round(n * frac)
    before = signal_agreement(AgreementState(PLAN, pairs=n, disagreements=k, canary_decisions=n, stable_decisions=n))
    after = signal_agreement(AgreementState(PLAN, pairs=n + more, disagreements=k, canary_decisions=n + more,
                                            stable_decisions=n + more))
    if before.status is Status.PASS:
        assert after.status is Status.PASS


def test_false_rollbacks_at_the_minimum_stay_within_alpha() -> None:
    """At exactly 95 % agreement (the worst healthy canary), polled after every bar for 1800 bars."""
    import random
    rng = random.Random(11)
    phases, fails = 300, 0
    for _ in range(phases):
        k = 0
        for n in range(1, 1801):
            k += rng.random() < 0.05
            if k > 0.05 * n and n % 10 == 0 and AgreementState(PLAN, pairs=n, disagreements=k).failed:
                fails += 1
                break
    assert fails / phases <= 0.03  # alpha 1 %; 300 phases leave room for chance


def test_plan_rejects_nonsense() -> None:
    for bad in ({"min_agreement": 1.5}, {"min_agreement": math.nan}, {"alpha": 0.0}, {"tolerance": -0.1},
                {"min_pairs": 0}, {"expected_agreement": 0.01, "tolerance": 0.02}, {"prior": (0.0, 1.0)}):
        with pytest.raises(ValueError):
            AgreementPlan(**bad)  # type: ignore[arg-type]
