"""The Prometheus source against a real Prometheus scraping real reference bots."""

from __future__ import annotations

import pytest

from goldgate.criteria.latency import p95_vs_baseline
from goldgate.criteria.measured import decide, error_rate_from
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.prometheus import PrometheusSource
from goldgate.verdict import Status, Verdict
from tests.metrics.conftest import VERSIONS, PromServer

# The session's Prometheus + fleet take ~10 s to start and fill with traffic.
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
WINDOW = 120


def version(name: str) -> Selector:
    return Selector({"app": "trading-bot", "version": VERSIONS[name]})


def test_error_rate_fault_fails_and_healthy_passes(prometheus: PromServer) -> None:
    src = PrometheusSource(prometheus.url)
    bad = src.request_counts(WINDOW, version("errors"))
    # increase() skips the first sample of a series born inside the window, so Prometheus
    # sees fewer than the 1200 requests sent (the scrape source counts them exactly).
    assert bad.ok and bad.counts.total >= 600, bad
    assert 'code=~"5.."' in bad.query and 'version="1.1.0-errors"' in bad.query
    v = error_rate_from(bad, GUIDE_DEFAULTS)
    assert v.status is Status.FAIL and v.rollback, v.message()
    assert "1 %" in v.reason and "requests" in v.reason
    good = error_rate_from(src.request_counts(WINDOW, version("healthy")), GUIDE_DEFAULTS)
    assert good.status is Status.PASS, good.message()


def test_latency_knob_fails_p95_against_the_stable_baseline(prometheus: PromServer) -> None:
    src = PrometheusSource(prometheus.url)
    slow = src.latency_quantile(0.95, WINDOW, version("slow"))
    base = src.latency_quantile(0.95, WINDOW, version("healthy"))
    assert slow.ok and base.ok and slow.value >= 0.3 > base.value
    assert "histogram_quantile(0.95" in slow.query
    v = p95_vs_baseline(slow.value, base.value, factor=2, min_samples=50, samples=slow.samples,
                        baseline_samples=base.samples, window_s=WINDOW)
    assert v.status is Status.FAIL, v.message()


def test_empty_result_is_inconclusive(prometheus: PromServer) -> None:
    src = PrometheusSource(prometheus.url)
    nobody = Selector({"app": "trading-bot", "version": "no-such-version"})
    v = error_rate_from(src.request_counts(WINDOW, nobody), GUIDE_DEFAULTS)
    assert v.status is Status.INCONCLUSIVE and "no request series" in v.message()
    m = src.latency_quantile(0.95, WINDOW, nobody)
    assert m.value is None and not m.error and "empty result" in m.reason


def test_nan_and_stale_series_are_inconclusive(prometheus: PromServer) -> None:
    nan = PrometheusSource(prometheus.url, queries={"latency": "vector(NaN)"})
    m = nan.latency_quantile(0.95, WINDOW, version("healthy"))
    assert m.value is None and "NaN" in m.reason

    def judge(value: float, samples: int, ev) -> Verdict:  # type: ignore[no-untyped-def]
        return Verdict.passed("p95", value, 0.5)

    assert decide(m, "p95", 0.5, judge).status is Status.INCONCLUSIVE
    stale = PrometheusSource(prometheus.url, max_age_s=1e-6).instant("bot_ready", version("healthy"))
    assert stale.value is None and "stale" in stale.reason


def test_instant_and_range_queries(prometheus: PromServer) -> None:
    src = PrometheusSource(prometheus.url)
    ready = src.instant("bot_ready", Selector({"app": "trading-bot"}))
    assert ready.value == 3 and ready.samples == 3
    series = src.series('sum(bot_ready{app="trading-bot"})', 10, 1)
    assert series.ok and series.samples >= 5


def test_bad_query_is_an_error_with_prometheus_reason(prometheus: PromServer) -> None:
    m = PrometheusSource(prometheus.url).instant("sum(", Selector())
    assert m.failed and prometheus.url in m.error and "400" in m.error
