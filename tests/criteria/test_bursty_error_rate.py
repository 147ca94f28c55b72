"""The error-rate trigger under bursty errors: paired with the stable serving beside the release,
and the lone release's dispersion-robust test. Fault -> FAIL with value and threshold; healthy ->
PASS; a burst both versions share -> no FAIL; a resumed lone window decides as the uninterrupted one."""

from __future__ import annotations

import numpy as np
import pytest

from goldgate.criteria.lone_error_rate import (
    DispersionSetting,
    DispersionStats,
    LoneErrorRate,
    allowed_rho,
    concentrations,
    lone_error_rate,
    robust_llr,
)
from goldgate.criteria.paired_error_rate import PairedErrorRate, paired_error_rate, paired_llr
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan
from goldgate.verdict import Status

PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=7200.0, max_gap_s=180.0)


def _bursts(rng: np.random.Generator, polls: int, concentration: float, mean: float = 0.004) -> np.ndarray:
    return rng.beta(concentration * mean, concentration * (1 - mean), size=polls)


# ----------------------------------------------------------------------------- paired
def test_a_canary_failing_on_its_own_fails_with_value_and_threshold() -> None:
    test = PairedErrorRate(PLAN)
    for _ in range(5):
        state = test.observe(120, 4, 1080, 4, 60.0)  # canary 3.3 %, stable 0.4 %
    v = paired_error_rate(state)
    assert v.status is Status.FAIL and v.rollback
    assert v.observed > 0.01 and v.threshold == 0.01
    assert "vs threshold" in v.message() and "stable pods beside it" in v.reason


def test_a_healthy_canary_beside_a_healthy_stable_passes() -> None:
    test = PairedErrorRate(PLAN)
    for _ in range(5):
        state = test.observe(120, 0, 1080, 4, 60.0)
    v = paired_error_rate(state)
    assert v.status is Status.PASS, v.message()
    assert "paired with the stable pods over 5 polls" in v.reason


@pytest.mark.parametrize("concentration", [50.0, 200.0])
def test_bursts_both_versions_share_never_roll_back(concentration: float) -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        test = PairedErrorRate(PLAN)
        for p in _bursts(rng, 120, concentration):
            n, ns = rng.poisson(120), rng.poisson(1080)
            state = test.observe(n, rng.binomial(n, p), ns, rng.binomial(ns, p), 60.0)
        assert paired_error_rate(state).status is not Status.FAIL, paired_error_rate(state).message()


def test_a_shared_incident_above_the_limit_is_not_the_canarys() -> None:
    test = PairedErrorRate(PLAN)
    for _ in range(10):
        state = test.observe(200, 6, 1800, 54, 60.0)  # both at 3 %
    v = paired_error_rate(state)
    assert v.status is Status.PASS, v.message()
    assert "no worse than the stable" in v.reason


def test_paired_evidence_of_a_poll_without_errors_or_stable_traffic_is_nothing() -> None:
    assert paired_llr(GUIDE_DEFAULTS, 100, 0, 900, 0) == 0.0
    assert paired_llr(GUIDE_DEFAULTS, 100, 5, 0, 0) == 0.0
    assert paired_llr(GUIDE_DEFAULTS, 100, 5, 900, 5) > 0 > paired_llr(GUIDE_DEFAULTS, 100, 0, 900, 10)


def test_no_stable_traffic_is_never_a_paired_pass() -> None:
    test = PairedErrorRate(PLAN)
    for _ in range(5):
        state = test.observe(100, 2, 0, 0, 60.0)  # 2 % on the canary, no stable to compare with
    v = paired_error_rate(state)
    assert v.status is Status.INCONCLUSIVE and "no stable requests" in v.reason


# ----------------------------------------------------------------------------- lone
def test_the_lone_release_failing_fails_with_value_and_threshold() -> None:
    test = LoneErrorRate(PLAN, DispersionSetting())
    for _ in range(6):
        state = test.observe(1200, 40, 60.0)  # 3.3 %
    v = lone_error_rate(state)
    assert v.status is Status.FAIL and v.observed > 0.01 and v.threshold == 0.01
    assert "vs threshold" in v.message() and "lone release" in v.reason
    assert "too little history" in v.reason and "default phi=30" in v.reason


def test_a_healthy_lone_release_passes_and_says_which_dispersion() -> None:
    rng = np.random.default_rng(3)
    test = LoneErrorRate(PLAN, DispersionSetting())
    for _ in range(40):
        n = rng.poisson(1200)
        state = test.observe(n, rng.binomial(n, 0.003), 60.0)
    v = lone_error_rate(state)
    assert v.status is Status.PASS, v.message()
    assert "lone release, dispersion phi=" in v.reason and "estimated from 39 polls of the release" in v.reason


@pytest.mark.parametrize("concentration", [50.0, 200.0])
def test_bursts_on_a_lone_release_do_not_roll_it_back_where_the_former_test_did(concentration: float) -> None:
    rng = np.random.default_rng(11)
    lone_fails, former_fails = 0, 0
    for _ in range(20):
        lone, former = LoneErrorRate(PLAN, DispersionSetting()), WatchErrorRate(PLAN)
        for p in _bursts(rng, 120, concentration):
            n = rng.poisson(1200)
            k = rng.binomial(n, p)
            state = lone.observe(n, k, 60.0)
            former.observe(n, k, 60.0)
        lone_fails += lone_error_rate(state).status is Status.FAIL
        former_fails += former.state.alarm is not None
    assert lone_fails == 0
    assert former_fails >= 10  # what the dispersion-robust test is for


def _spiky_polls(polls: int, rate: float, start_s: float, burst_at: float, poll_s: float = 1.0) -> list[tuple[int, int]]:
    """Counts of 1 s polls when every request fails for 0.1 s of every 20 s (the sandbox's
    ``FAULT_ERROR_BURSTS=1/0.1/20``, 0.5 % on average, on every pod at once)."""
    out = []
    for j in range(polls):
        t0, t1 = start_s + j * poll_s, start_s + (j + 1) * poll_s
        k = 0
        for b in np.arange(burst_at, t1 + 20.0, 20.0):
            overlap = min(t1, b + 0.1) - max(t0, b)
            k += round(rate * overlap) if overlap > 0 else 0
        out.append((round(rate * poll_s), k))
    return out


@pytest.mark.parametrize("history_polls", [0, 12])
def test_spiky_shared_bursts_do_not_roll_back_a_lone_phase_that_starts_in_one(history_polls: int) -> None:
    # The canary's 100 % phase in the sandbox rehearsal: a dozen 1 s polls of the stable pods
    # (75 req/s) before it, 100 req/s in it, a 10-error burst possibly in its very first poll.
    plan = WatchPlan(GUIDE_DEFAULTS, horizon_s=96.0, max_gap_s=6.0)
    for first in (0.0, 0.5, 0.95, 10.0):  # where in the phase the first burst lands (0.95: across two polls)
        burst_at = (history_polls + first) % 20.0
        history = DispersionStats()
        for n, k in _spiky_polls(history_polls, 75.0, 0.0, burst_at):
            history = history.add(n, k, 1.0)
        lone = LoneErrorRate(plan, DispersionSetting(min_polls=10), history=history, history_source="stable pods")
        for n, k in _spiky_polls(40, 100.0, float(history_polls), burst_at):
            state = lone.observe(n, k, 1.0)
        assert lone_error_rate(state).status is not Status.FAIL, (burst_at, lone_error_rate(state).message())


def test_history_before_the_switch_sets_the_dispersion() -> None:
    rng = np.random.default_rng(5)
    history = DispersionStats()
    for p in _bursts(rng, 40, 200.0):
        n = rng.poisson(1200)
        history = history.add(n, rng.binomial(n, p), 60.0)
    test = LoneErrorRate(PLAN, DispersionSetting(), history=history, history_source="blue before the switch")
    v = lone_error_rate(test.observe(1200, 5, 60.0))
    assert "estimated from 40 polls of blue before the switch" in v.reason, v.reason


def test_a_configured_dispersion_replaces_the_estimate() -> None:
    test = LoneErrorRate(PLAN, DispersionSetting(configured=3.0))
    v = lone_error_rate(test.observe(1200, 5, 60.0))
    assert "dispersion phi=3 per minute from the environment" in v.reason


def _history(concentration: float, polls: int, seed: int = 5) -> DispersionStats:
    rng = np.random.default_rng(seed)
    stats = DispersionStats()
    for p in _bursts(rng, polls, concentration):
        n = rng.poisson(1200)
        stats = stats.add(n, rng.binomial(n, p), 60.0)
    return stats


def test_a_stated_dispersion_is_tested_down_to_the_estimates_lower_end_once_history_allows() -> None:
    stated = DispersionSetting(configured=1 + 1199 / 201)  # the truth at concentration 200, 20 req/s
    history = _history(200.0, 60)
    most, least, how = allowed_rho(stated, history, "blue before the switch", history)
    assert most == pytest.approx(1 / 201, rel=0.05) and 0 < least < most
    assert "phi=6.96517 per minute from the environment, tested down to phi=" in how
    assert "estimated from 60 polls of blue before the switch" in how and "too low" not in how
    # with too little history, or for an alarm's fixed allowance, everything down to independence
    few = _history(200.0, 10)
    assert allowed_rho(stated, few, "the release", few)[1] == 0.0
    assert "tested down to independent requests" in allowed_rho(stated, few, "the release", few)[2]
    fixed = DispersionSetting(configured=stated.configured, lower_from_estimate=False)
    assert allowed_rho(fixed, history, "the release", history)[1] == 0.0


def test_a_stated_dispersion_the_errors_contradict_gives_way_to_the_estimate() -> None:
    history = _history(50.0, 120)  # variance ratio about 24 at 20 req/s
    most, least, how = allowed_rho(DispersionSetting(configured=2.0), history, "the release", history)
    assert (most, least) == allowed_rho(DispersionSetting(), history, "the release", history)[:2]
    assert least > 1 / 1199  # far more than the stated phi=2 allows
    assert "phi=2 per minute from the environment is too low: the errors are more dispersed" in how


def test_a_stated_dispersion_within_doubt_of_the_estimate_stands() -> None:
    history = _history(200.0, 60)
    phi_hat = 1 + (history.mean_poll - 1) * (history.rho() or 0.0)
    below = phi_hat / (1 + 1.5 * (2 / history.pairs) ** 0.5)  # 1.5 standard errors under it: not beyond doubt
    most, least, how = allowed_rho(DispersionSetting(configured=below), history, "the release", history)
    assert "too low" not in how and most == pytest.approx((below - 1) / (history.mean_poll - 1), rel=0.02)
    assert least == most  # the estimate's lower end lies above the statement: the statement alone


def test_a_stated_dispersion_narrowed_by_the_estimate_still_keeps_a_healthy_bursty_release() -> None:
    rng = np.random.default_rng(21)
    test = LoneErrorRate(PLAN, DispersionSetting(configured=1 + 1199 / 201))
    for p in _bursts(rng, 120, 200.0):
        n = rng.poisson(1200)
        state = test.observe(n, rng.binomial(n, p), 60.0)
    v = lone_error_rate(state)
    assert v.status is not Status.FAIL, v.message()
    assert "tested down to phi=" in v.reason


def test_the_estimate_finds_the_dispersion_it_was_given() -> None:
    rng = np.random.default_rng(9)
    stats = DispersionStats()
    for p in _bursts(rng, 2000, 200.0):
        n = rng.poisson(1200)
        stats = stats.add(n, rng.binomial(n, p), 60.0)
    rho = stats.rho()
    assert rho is not None and 0.7 / 201 < rho < 1.4 / 201


def test_the_grid_runs_from_the_most_dispersed_allowed_to_independence() -> None:
    grid = concentrations(0.01)
    assert grid[0] == pytest.approx(99.0) and grid[-1] == float("inf") and list(grid) == sorted(grid)
    bounded = concentrations(0.01, 0.005)
    assert bounded[-1] == pytest.approx(199.0)
    assert concentrations(0.0) == (float("inf"),)
    up, down = robust_llr(GUIDE_DEFAULTS, 1200, 30, 0.01)
    assert up <= down


def test_a_resumed_lone_window_decides_as_the_uninterrupted_one() -> None:
    rng = np.random.default_rng(2)
    polls = [(int(n), int(rng.binomial(n, 0.004))) for n in rng.poisson(1200, size=50)]
    whole = LoneErrorRate(PLAN, DispersionSetting())
    first = LoneErrorRate(PLAN, DispersionSetting())
    for n, k in polls[:25]:
        whole.observe(n, k, 60.0)
        first.observe(n, k, 60.0)
    second = LoneErrorRate(PLAN, DispersionSetting())
    second.restore(first.snapshot())
    for n, k in polls[25:]:
        a, b = whole.observe(n, k, 60.0), second.observe(n, k, 60.0)
    assert lone_error_rate(a).message() == lone_error_rate(b).message()


def test_a_resumed_paired_window_decides_as_the_uninterrupted_one() -> None:
    """The judge persists a canary's paired test and continues it after a restart."""
    import json

    rng = np.random.default_rng(3)
    polls = [(int(n), int(rng.binomial(n, 0.03)), int(s), int(rng.binomial(s, 0.004)))
             for n, s in zip(rng.poisson(120, size=30), rng.poisson(1080, size=30), strict=True)]
    whole, first = PairedErrorRate(PLAN), PairedErrorRate(PLAN)
    for p in polls[:10]:
        whole.observe(*p, 60.0)
        first.observe(*p, 60.0)
    second = PairedErrorRate(PLAN)
    second.restore(json.loads(json.dumps(first.snapshot())))
    for p in polls[10:]:
        a, b = whole.observe(*p, 60.0), second.observe(*p, 60.0)
    assert paired_error_rate(a).message() == paired_error_rate(b).message()
    assert paired_error_rate(b).status is Status.FAIL


def test_an_unreadable_paired_snapshot_starts_afresh() -> None:
    for junk in ({}, {"test": "paired"}, {"test": "paired", "polls": "x", "cusum": {}}, {"test": "lone"}):
        test = PairedErrorRate(PLAN)
        test.restore(junk)
        assert test.state.polls == 0
