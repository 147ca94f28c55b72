"""The judge's decisions (criteria/judge.py, criteria/kayenta.py): fault, healthy, edge."""

from __future__ import annotations

import random

from goldgate.criteria.judge import controller_verdict, judge_triggers
from goldgate.criteria.kayenta import (
    MetricResult,
    classify_metric,
    kayenta_label,
    score_label,
    score_metrics,
)
from goldgate.verdict import Status, Verdict
from tests.judge.fakes import triggers


def test_each_evaluation_maps_to_its_controller_verdict() -> None:
    for kind in ("PASS", "FAIL", "ROLLBACK", "INCONCLUSIVE", "ERROR"):
        assert controller_verdict(judge_triggers(triggers(kind))) == kind


def test_rollback_shows_value_and_threshold_of_the_breach() -> None:
    v = judge_triggers(triggers("ROLLBACK"))
    assert v.status is Status.FAIL and v.rollback
    assert "0.031" in v.reason and "0.01" in v.reason


def test_a_breach_outranks_a_probe_that_could_not_measure() -> None:
    mixed = (*triggers("ERROR"), Verdict.failed("OOM kills", 1, 0, "1 OOM kill", rollback=True))
    assert controller_verdict(judge_triggers(mixed)) == "ROLLBACK"


def test_error_outranks_thin_data() -> None:
    mixed = (*triggers("ERROR"), Verdict.inconclusive("p95 vs baseline", "no baseline", rollback=True))
    assert controller_verdict(judge_triggers(mixed)) == "ERROR"


def _series(mean: float, n: int = 30, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, 1.0) for _ in range(n)]


def test_kayenta_metric_high_on_a_clear_rise_with_value_and_threshold() -> None:
    v = classify_metric(_series(10), _series(14, seed=2), confidence=0.98, min_points=10, criterion="latency")
    assert v.status is Status.FAIL and kayenta_label(v) == "High"
    assert "p >=" in str(v.threshold) and v.observed > 1.3


def test_kayenta_metric_low_and_direction() -> None:
    v = classify_metric(_series(10), _series(6, seed=2), confidence=0.98, min_points=10)
    assert kayenta_label(v) == "Low"
    # a drop of a metric whose direction is "increase" (only rises matter) passes
    ok = classify_metric(_series(10), _series(6, seed=2), confidence=0.98, min_points=10, direction="increase")
    assert ok.status is Status.PASS


def test_kayenta_metric_passes_on_the_same_distribution() -> None:
    v = classify_metric(_series(10), _series(10, seed=2), confidence=0.98, min_points=10)
    assert v.status is Status.PASS and kayenta_label(v) == "Pass"


def test_kayenta_nodata_below_min_points() -> None:
    v = classify_metric([1.0, 2.0], [float("nan")] * 30, confidence=0.98, min_points=10)
    assert kayenta_label(v) == "Nodata"


def test_kayenta_score_pass_marginal_fail_and_critical() -> None:
    p, f = Verdict.passed("a", 1.0, "band"), Verdict.failed("b", 1.5, "band", "High")
    assert score_label(score_metrics([MetricResult(p)] * 3, pass_threshold=95, marginal_threshold=75)) == "Pass"
    assert score_label(score_metrics([MetricResult(p)] * 4 + [MetricResult(f)], pass_threshold=95,
                                     marginal_threshold=75)) == "Marginal"
    assert score_label(score_metrics([MetricResult(p), MetricResult(f)], pass_threshold=95,
                                     marginal_threshold=75)) == "Fail"
    crit = score_metrics([MetricResult(p)] * 9 + [MetricResult(f, critical=True)], pass_threshold=50,
                         marginal_threshold=25)
    assert crit.status is Status.FAIL and crit.observed == 0.0 and "critical" in crit.reason
