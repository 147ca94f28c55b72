"""p95 vs baseline (rollback) and p95 vs budget (alert)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from goldgate.criteria.latency import p95_above_budget, p95_vs_baseline
from goldgate.verdict import Status

seconds = st.floats(1e-4, 100, allow_nan=False)
maybe = st.none() | st.just(float("nan"))


@given(seconds, seconds, st.floats(1.1, 5), st.integers(1, 500), st.integers(0, 5000))
def test_p95_above_factor_times_baseline_never_passes(p95, base, factor, min_samples, n) -> None:
    v = p95_vs_baseline(p95, base, factor=factor, min_samples=min_samples, samples=n,
                        baseline_samples=n, window_s=60)
    if p95 > factor * base:
        assert v.status is not Status.PASS
    if n < min_samples:
        assert v.status is Status.INCONCLUSIVE


@given(maybe, seconds, st.integers(0, 5000))
def test_no_p95_never_passes(p95, base, n) -> None:
    v = p95_vs_baseline(p95, base, factor=2, min_samples=1, samples=n, baseline_samples=n,
                        window_s=60)
    assert v.status is Status.INCONCLUSIVE


@given(seconds, maybe)
def test_no_baseline_never_passes(p95, base) -> None:
    v = p95_vs_baseline(p95, base, factor=2, min_samples=1, samples=100, baseline_samples=100,
                        window_s=60)
    assert v.status is Status.INCONCLUSIVE


def test_slow_canary_rolls_back_with_numbers() -> None:
    v = p95_vs_baseline(0.45, 0.1, factor=2, min_samples=50, samples=400, baseline_samples=380,
                        window_s=30)
    assert v.status is Status.FAIL and v.rollback
    assert "450.0 ms" in v.reason and "100.0 ms" in v.reason and "200.0 ms" in v.reason
    assert "400 requests" in v.reason and "30s" in v.reason


def test_canary_within_twice_the_baseline_passes() -> None:
    v = p95_vs_baseline(0.15, 0.1, factor=2, min_samples=50, samples=400, baseline_samples=None,
                        window_s=30)
    assert v.status is Status.PASS


def test_thin_baseline_is_inconclusive() -> None:
    v = p95_vs_baseline(0.5, 0.1, factor=2, min_samples=50, samples=400, baseline_samples=3,
                        window_s=30)
    assert v.status is Status.INCONCLUSIVE and "3 requests" in v.reason


@given(seconds, seconds, st.integers(1, 500), st.integers(0, 5000))
def test_budget_breach_never_passes(p95, budget, min_samples, n) -> None:
    v = p95_above_budget(p95, budget_s=budget, min_samples=min_samples, samples=n, window_s=60)
    if p95 > budget:
        assert v.status is not Status.PASS
    if n < min_samples:
        assert v.status is Status.INCONCLUSIVE


def test_budget_breach_is_an_alert_not_a_rollback() -> None:
    v = p95_above_budget(0.62, budget_s=0.5, min_samples=20, samples=100, window_s=60)
    assert v.status is Status.FAIL and not v.rollback
    assert "620.0 ms" in v.reason and "500.0 ms" in v.reason
    ok = p95_above_budget(0.12, budget_s=0.5, min_samples=20, samples=100, window_s=60)
    assert ok.status is Status.PASS
