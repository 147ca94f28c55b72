"""A percentile read from histogram buckets is an interval: the latency criteria decide
only when the whole bucket lies on one side of the limit (README "Numbers read from
histogram buckets are intervals"), and the sources hand the bucket over."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from goldgate.criteria.latency import (
    LatencyReading,
    p95_above_budget,
    p95_vs_baseline,
    p95_vs_baseline_like_with_like,
)
from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.prometheus import PrometheusSource
from goldgate.probes.metrics.promtext import histogram_quantile, histogram_quantile_interval
from goldgate.sandbox.bot.metrics import DURATION_BUCKETS
from goldgate.verdict import Status

OLD_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def _cumulative(observations: list[float], bounds: tuple[float, ...]) -> dict[str, float]:
    out = {str(b): float(sum(1 for o in observations if o <= b)) for b in bounds}
    out["+Inf"] = float(len(observations))
    return out


def _requests(base_s: float, n: int = 2000, seed: int = 7) -> list[float]:
    rnd = random.Random(seed)
    return [base_s + rnd.uniform(0, base_s * 0.3) for _ in range(n)]


def test_the_interval_is_the_bucket_the_rank_fell_into() -> None:
    buckets = {"0.1": 50, "0.15": 100, "+Inf": 100}
    found = histogram_quantile_interval(0.95, buckets)
    assert found is not None and found.as_tuple() == (0.1, 0.15)
    assert found.value == pytest.approx(histogram_quantile(0.95, buckets)) == pytest.approx(0.145)
    top = histogram_quantile_interval(0.95, {"0.1": 1, "+Inf": 100})
    assert top is not None and top.low == 0.1 and math.isinf(top.high) and top.value == 0.1
    first = histogram_quantile_interval(0.5, {"0.1": 10, "+Inf": 10})
    assert first is not None and first.as_tuple() == (0.0, 0.1)
    assert histogram_quantile_interval(0.95, {"0.1": 0, "+Inf": 0}) is None


def test_rehearsal_a_budget_inside_one_bucket_is_inconclusive() -> None:
    """The issue's reading: requests of 135-145 ms read as 147.5 ms inside (0.1, 0.15]."""
    obs = [0.135 + 0.01 * i / 1000 for i in range(1000)]
    found = histogram_quantile_interval(0.95, _cumulative(obs, OLD_BUCKETS))
    assert found is not None and found.as_tuple() == (0.1, 0.15)
    kw: dict[str, Any] = {"min_samples": 100, "samples": 1000, "window_s": 60, "interval": found.as_tuple()}
    inside = p95_above_budget(found.value, budget_s=0.125, **kw)
    assert inside.status is Status.INCONCLUSIVE, inside.message()
    assert "bucket 100.0-150.0 ms" in inside.reason and "inside the histogram bucket" in inside.reason
    # well outside the bucket: decided, with the bucket shown
    above = p95_above_budget(found.value, budget_s=0.05, **kw)
    assert above.status is Status.FAIL and above.observed == found.value and above.threshold == 0.05
    assert "bucket 100.0-150.0 ms" in above.message()
    below = p95_above_budget(found.value, budget_s=0.5, **kw)
    assert below.status is Status.PASS
    # the +Inf bucket can never pass a finite budget
    top = p95_above_budget(0.5, budget_s=0.6, min_samples=1, samples=10, window_s=None, interval=(0.5, math.inf))
    assert top.status is Status.INCONCLUSIVE and "+Inf" in top.reason


def test_rehearsal_baseline_rule_decides_only_on_whole_buckets() -> None:
    kw: dict[str, Any] = {"factor": 2.0, "min_samples": 100, "samples": 1000, "baseline_samples": 1000,
                          "window_s": 60}
    slow = p95_vs_baseline(0.1475, 0.0243, interval=(0.1, 0.15), baseline_interval=(0.01, 0.025), **kw)
    assert slow.status is Status.FAIL and slow.rollback
    assert "whole bucket is above" in slow.reason and "bucket 100.0-150.0 ms" in slow.reason
    straddles = p95_vs_baseline(0.055, 0.028, interval=(0.05, 0.06), baseline_interval=(0.025, 0.03), **kw)
    assert straddles.status is Status.INCONCLUSIVE, straddles.message()  # 2 x (0.025, 0.03] overlaps (0.05, 0.06]
    assert "50.0 ms-60.0 ms" in straddles.reason
    within = p95_vs_baseline(0.055, 0.028, interval=(0.05, 0.06), baseline_interval=(0.025, 0.03),
                             **{**kw, "factor": 3.0})
    assert within.status is Status.PASS  # 0.06 <= 3 x 0.025
    # without intervals the old exact-value rule holds
    assert p95_vs_baseline(0.09, 0.04, **kw).status is Status.FAIL
    assert p95_vs_baseline(0.07, 0.04, **kw).status is Status.PASS
    # a bucket that does not contain its value is not a measurement
    bad = p95_vs_baseline(0.2, 0.04, interval=(0.1, 0.15), **kw)
    assert bad.status is Status.ERROR and "outside its bucket" in bad.reason
    assert p95_above_budget(0.1, budget_s=1, min_samples=1, samples=5, window_s=None,
                            interval=(float("nan"), 0.2)).status is Status.ERROR


def test_like_with_like_carries_the_server_buckets() -> None:
    release = LatencyReading(0.0625, 1000, "server", interval=(0.06, 0.075))
    base = LatencyReading(0.022, 1000, "server", interval=(0.02, 0.025))
    v = p95_vs_baseline_like_with_like(release, base, factor=2, min_samples=100, window_s=30)
    assert v.status is Status.FAIL, v.message()  # 0.06 >= 2 x 0.025
    close = LatencyReading(0.0455, 1000, "server", interval=(0.04, 0.05))
    assert p95_vs_baseline_like_with_like(close, base, factor=2, min_samples=100,
                                          window_s=30).status is Status.INCONCLUSIVE


@pytest.mark.parametrize(("base_s", "slowdown"), [(0.02, 3), (0.06, 3), (0.035, 3)])
def test_the_bots_buckets_decide_a_3x_slowdown_and_pass_the_same_build(base_s: float, slowdown: float) -> None:
    """The sandbox's slow build (FAULT_SLOWDOWN_FACTOR=3): its p95 bucket must lie above 2x
    the baseline's, and a build as fast as the baseline must pass, with the bot's buckets."""
    stable = histogram_quantile_interval(0.95, _cumulative(_requests(base_s), DURATION_BUCKETS))
    slow = histogram_quantile_interval(0.95, _cumulative(_requests(base_s * slowdown, seed=8), DURATION_BUCKETS))
    twin = histogram_quantile_interval(0.95, _cumulative(_requests(base_s, seed=9), DURATION_BUCKETS))
    assert stable and slow and twin
    kw: dict[str, Any] = {"factor": 2.0, "min_samples": 100, "samples": 2000, "baseline_samples": 2000,
                          "window_s": 30, "baseline_interval": stable.as_tuple()}
    assert p95_vs_baseline(slow.value, stable.value, interval=slow.as_tuple(), **kw).status is Status.FAIL
    assert p95_vs_baseline(twin.value, stable.value, interval=twin.as_tuple(), **kw).status is Status.PASS


def test_prometheus_source_reads_the_bucket_bounds_with_a_second_query(monkeypatch: pytest.MonkeyPatch) -> None:
    src = PrometheusSource("http://127.0.0.1:9", retries=0)
    answers = {
        "histogram_quantile": [{"labels": {}, "value": 0.1475}],
        "_count": [{"labels": {"instance": "a"}, "value": 1000.0}],
        "sum by (le)": [{"labels": {"le": "0.1"}, "value": 2.0}, {"labels": {"le": "0.15"}, "value": 20.0},
                        {"labels": {"le": "+Inf"}, "value": 20.0}],
    }

    def fake_query(promql: str, at: float | None = None) -> list[dict[str, Any]]:
        for key in ("histogram_quantile", "_count"):
            if key in promql:
                return answers[key]
        return answers["sum by (le)"]

    monkeypatch.setattr(src, "query", fake_query)
    m = src.latency_quantile(0.95, 60, Selector({"app": "trading-bot"}))
    assert m.value == 0.1475 and m.interval == (0.1, 0.15) and m.samples == 1000
    assert "http_request_duration_seconds_bucket" in m.query and m.evidence().details["bucket_interval_s"] == [0.1, 0.15]
    answers["sum by (le)"] = []
    bare = src.latency_quantile(0.95, 60, Selector())
    assert bare.value == 0.1475 and bare.interval is None and "taken as exact" in bare.reason
