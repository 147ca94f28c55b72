"""p95 vs baseline (rollback) and p95 vs budget (alert)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.criteria.latency import (
    LatencyReading,
    p95_above_budget,
    p95_baseline_waived,
    p95_vs_baseline,
    p95_vs_baseline_like_with_like,
)
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


@given(seconds)
def test_no_baseline_is_inconclusive_so_the_trigger_is_not_lost(p95) -> None:
    v = p95_vs_baseline(p95, None, factor=2, min_samples=1, samples=100, baseline_samples=None, window_s=60)
    assert v.status is Status.INCONCLUSIVE and v.rollback
    assert "no baseline" in v.reason and "cannot pass" in v.reason


@given(seconds, st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -0.1]))
def test_nan_infinite_or_non_positive_baseline_is_an_error(p95, base) -> None:
    """An infinite baseline would make the limit infinite and pass any canary."""
    v = p95_vs_baseline(p95, base, factor=2, min_samples=1, samples=100, baseline_samples=100, window_s=60)
    assert v.status is Status.ERROR and v.rollback
    assert "not a measured latency" in v.reason


def test_waiver_is_shown_and_never_a_pass_nor_a_trigger() -> None:
    v = p95_baseline_waived("environment lab: strategy.baseline is 'none'", factor=2)
    assert v.status is Status.INCONCLUSIVE and not v.rollback
    assert "WAIVED" in v.reason and "strategy.baseline" in v.reason
    assert v.to_dict()["reason"].startswith("WAIVED")
    unwaived = p95_baseline_waived("  ", factor=2)
    assert unwaived.status is Status.INCONCLUSIVE and unwaived.rollback


def test_like_with_like_subtracts_the_client_overhead_floor() -> None:
    """A 2.2x slower build read by a client with 40 ms of overhead: 0.26 / 0.14 = 1.86x
    (a false PASS); server-equivalent 0.22 / 0.10 = 2.2x (rollback)."""
    plain = p95_vs_baseline(0.26, 0.14, factor=2, min_samples=50, samples=400, baseline_samples=400, window_s=30)
    assert plain.status is Status.PASS
    v = p95_vs_baseline_like_with_like(
        LatencyReading(0.26, 400, "client", overhead_s=0.04, source="load runner"),
        LatencyReading(0.14, 400, "client", overhead_s=0.04, source="load runner"),
        factor=2, min_samples=50, window_s=30)
    assert v.status is Status.FAIL and "2.20x" in v.reason
    assert "overhead floor 40.0 ms" in v.reason
    assert v.evidence[-1].details["release"]["server_equivalent_p95_s"] == 0.26 - 0.04


def test_like_with_like_uses_server_timings_as_they_are() -> None:
    v = p95_vs_baseline_like_with_like(LatencyReading(0.15, 400, "server", source="bot histogram"),
                                       LatencyReading(0.1, 400, "server", source="bot histogram"),
                                       factor=2, min_samples=50, window_s=30)
    assert v.status is Status.PASS and "server timings (bot histogram)" in v.reason


@pytest.mark.parametrize(("reading", "status"), [
    (LatencyReading(0.2, 400, "client"), Status.INCONCLUSIVE),  # no overhead measured
    (LatencyReading(0.2, 400, "client", overhead_s=float("nan")), Status.ERROR),
    (LatencyReading(0.2, 400, "client", overhead_s=0.3), Status.ERROR),  # overhead above the p95
    (LatencyReading(float("inf"), 400, "server"), Status.ERROR),
    (LatencyReading(None, 400, "server"), Status.INCONCLUSIVE),
    (LatencyReading(0.2, 3, "server"), Status.INCONCLUSIVE),  # thin
])
def test_like_with_like_never_passes_on_unusable_readings(reading: LatencyReading, status: Status) -> None:
    v = p95_vs_baseline_like_with_like(reading, LatencyReading(0.1, 400, "server"), factor=2, min_samples=50,
                                       window_s=30)
    assert v.status is status, v.message()


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
