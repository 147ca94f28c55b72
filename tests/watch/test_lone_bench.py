"""The bench's vectorised lone test against the criterion, at the allowances it compares.

``bench/watch_validity.py --lone-margins`` measures the lone error-rate test at narrower
dispersion allowances than the criterion's; those figures mean something only if the
vectorised rule at each allowance decides exactly as :class:`LoneErrorRate` would with that
allowance, including none at all (independent requests only).
"""

from __future__ import annotations

import numpy as np
import pytest

from goldgate.criteria import lone_error_rate
from goldgate.criteria.lone_error_rate import DispersionSetting, LoneErrorRate
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from tests.watch.test_window_error_rate import BENCH


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0])
def test_the_vectorised_lone_rule_decides_as_the_criterion_at_each_allowance(
        margin: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lone_error_rate, "DISPERSION_MARGIN", margin)
    rng = np.random.default_rng(7)
    interval, polls, watches = 60.0, 90, 6
    plan = BENCH._plan(GUIDE_DEFAULTS, interval)
    h = BENCH._thresholds(plan, polls, interval)
    n = rng.poisson(5 * interval, size=(watches, polls))
    p = rng.beta(200 * 0.006, 200 * (1 - 0.006), size=(watches, polls))  # bursty, near the limit
    p[:, polls // 2:] *= 4  # a rise halfway, so some watches alarm
    k = rng.binomial(n, np.minimum(p, 1.0))
    alarms = BENCH.lone_rule(GUIDE_DEFAULTS, h, n, k, interval, DispersionSetting(), margin)
    for w in range(watches):
        test = LoneErrorRate(plan, DispersionSetting())
        got = -1
        for j in range(polls):
            if test.observe(int(n[w, j]), int(k[w, j]), interval).alarm is not None:
                got = j
                break
        assert got == alarms[w], (margin, w, got, alarms[w])
    assert (alarms >= 0).any()


def test_the_vectorised_lone_rule_decides_as_the_criterion_with_a_stated_dispersion() -> None:
    """A dispersion the environment states replaces the estimate in the bench as in the criterion."""
    rng = np.random.default_rng(11)
    interval, polls, watches = 60.0, 60, 6
    plan = BENCH._plan(GUIDE_DEFAULTS, interval)
    h = BENCH._thresholds(plan, polls, interval)
    n = rng.poisson(20 * interval, size=(watches, polls))
    p = rng.beta(200 * 0.006, 200 * (1 - 0.006), size=(watches, polls))
    p[:, polls // 3:] *= 4
    k = rng.binomial(n, np.minimum(p, 1.0))
    stated = DispersionSetting(configured=BENCH.true_dispersion(20.0, interval, 200.0))
    alarms = BENCH.lone_rule(GUIDE_DEFAULTS, h, n, k, interval, stated)
    BENCH._self_check_bursty(GUIDE_DEFAULTS, plan, interval, stated, n, k, alarms, watches=watches)
    assert (alarms >= 0).any()


def test_the_true_dispersion_is_the_variance_ratio_of_a_minutes_or_a_shorter_polls_counts() -> None:
    assert BENCH.true_dispersion(20.0, 60.0, float("inf")) == 1.0
    assert BENCH.true_dispersion(20.0, 60.0, float("inf"), 2.0) == 1.0
    assert BENCH.true_dispersion(20.0, 60.0, 200.0) == pytest.approx(1 + 1199 / 201)
    assert BENCH.true_dispersion(20.0, 30.0, 50.0) == pytest.approx(1 + 599 / 51)
    assert BENCH.true_dispersion(20.0, 30.0, 50.0, 0.5) == pytest.approx(1 + 0.5 * 599 / 51)


def test_the_trade_off_reports_every_allowance_every_stated_dispersion_and_the_exact_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    printed = BENCH.run_lone_margins(12, 1, cells=((20.0, 60.0),), margins=(0.0, 1.0), stated_factors=(0.5, 1.0))
    BENCH._print_lone_margins(printed)
    lines = capsys.readouterr().out.splitlines()
    assert [line[:16].strip() for line in lines[-5:]] == [
        "estimate 0 SE", "estimate 1 SE*", "stated x0.5", "stated x1", "exact"]
    result = printed["lone_margin_tradeoff"]
    assert [r["dispersion"] for r in result] == ["estimated", "estimated", "stated", "stated", "exact"]
    assert [r["margin"] for r in result] == [0.0, 1.0, None, None, None]
    assert [r["stated_factor"] for r in result] == [None, None, 0.5, 1.0, None]
    assert [r["criterion"] for r in result] == [False, True, False, False, False]
    assert all(0 <= r["false_rollback_max"] <= 1 and r["detection_delay_ratio"] > 0 for r in result)
