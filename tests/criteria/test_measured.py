"""Measurement states map onto verdicts: could not measure -> ERROR, nothing -> INCONCLUSIVE."""

from __future__ import annotations

from goldgate.criteria.measured import decide, error_rate_from, feed_sequential
from goldgate.criteria.sprt import GUIDE_DEFAULTS, SequentialErrorRate
from goldgate.criteria.threshold import at_most
from goldgate.probes.metrics.base import Measurement, RequestCounts
from goldgate.verdict import Status

URL = "http://127.0.0.1:9090/api/v1/query"


def judge_p95(value, samples, ev):  # type: ignore[no-untyped-def]
    return at_most("p95", value, 0.5, unit="s", samples=samples, min_samples=20, evidence=ev)


def test_probe_error_is_an_error_verdict_naming_the_url() -> None:
    m = Measurement("prometheus", URL, error=f"{URL}: connection refused")
    v = decide(m, "p95", 0.5, judge_p95)
    assert v.status is Status.ERROR and URL in v.message() and "connection refused" in v.reason
    assert error_rate_from(m, GUIDE_DEFAULTS).status is Status.ERROR


def test_empty_result_is_inconclusive_with_its_reason() -> None:
    m = Measurement("prometheus", URL, reason="empty result: no latency histogram")
    v = decide(m, "p95", 0.5, judge_p95)
    assert v.status is Status.INCONCLUSIVE and "empty result" in v.reason
    nan = Measurement("prometheus", URL, value=float("nan"))
    assert nan.value is None and decide(nan, "p95", 0.5, judge_p95).status is Status.INCONCLUSIVE
    assert error_rate_from(m, GUIDE_DEFAULTS).status is Status.INCONCLUSIVE


def test_values_are_judged_and_evidence_kept() -> None:
    m = Measurement("prometheus", URL, value=0.61, samples=200, window_s=60)
    v = decide(m, "p95", 0.5, judge_p95)
    assert v.status is Status.FAIL and "0.61" in v.reason and "0.5" in v.reason
    assert v.evidence[0].query == URL and v.evidence[0].samples == 200 and v.evidence[0].window == 60
    thin = decide(Measurement("prometheus", URL, value=0.61, samples=3), "p95", 0.5, judge_p95)
    assert thin.status is Status.INCONCLUSIVE


def test_counts_go_through_the_sprt_and_the_stream() -> None:
    m = Measurement("scrape", "scrape http_requests_total", value=0.03, samples=1000, window_s=30,
                    counts=RequestCounts(1000.4, 30.2))
    v = error_rate_from(m, GUIDE_DEFAULTS)
    assert v.status is Status.FAIL and "30 errors in 1000 requests" in v.reason
    test = SequentialErrorRate(GUIDE_DEFAULTS)
    broken = feed_sequential(test, Measurement("scrape", "x", error="http://127.0.0.1:1/metrics: refused"))
    assert broken.status is Status.ERROR and test.requests == 0
    assert feed_sequential(test, m).status is Status.FAIL and test.requests == 1000
