"""Exposition parsing and the histogram quantile (Prometheus' interpolation rule)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.probes.metrics.promtext import histogram_quantile, parse_metrics

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75,
          1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def cumulative(observations: list[float]) -> dict[str, float]:
    out = {f"{b:g}": float(sum(o <= b for o in observations)) for b in BOUNDS}
    out["+Inf"] = float(len(observations))
    return out


def test_interpolates_inside_the_bucket() -> None:
    # 100 observations: 50 in (0, 0.1], 50 in (0.1, 0.2]; rank 95 is 45/50 into the second
    buckets = {"0.1": 50, "0.2": 100, "+Inf": 100}
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.1 + 0.1 * 45 / 50)
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)


def test_no_data_is_none_not_nan() -> None:
    assert histogram_quantile(0.95, {"0.1": 0, "+Inf": 0}) is None
    assert histogram_quantile(0.95, {}) is None
    assert histogram_quantile(0.95, {"0.1": 3}) is None  # no +Inf bucket


def test_rank_in_inf_bucket_gives_highest_finite_bound() -> None:
    assert histogram_quantile(0.95, {"0.1": 1, "10": 1, "+Inf": 100}) == 10


@given(st.lists(st.floats(0.0001, 20), min_size=1, max_size=300), st.floats(0.01, 0.99))
def test_quantile_lands_in_the_bucket_of_the_true_quantile(obs: list[float], q: float) -> None:
    got = histogram_quantile(q, cumulative(obs))
    assert got is not None
    exact = sorted(obs)[max(0, math.ceil(q * len(obs)) - 1)]
    edges = (0.0, *BOUNDS, math.inf)
    lo = max(e for e in edges if e < exact) if exact > 0 else 0.0
    hi = min(e for e in edges if e >= exact)
    hi = BOUNDS[-1] if math.isinf(hi) else hi
    lo = min(lo, BOUNDS[-1])
    assert lo - 1e-9 <= got <= hi + 1e-9


@given(st.lists(st.floats(0.0001, 20), min_size=1, max_size=100),
       st.floats(0.01, 0.98), st.floats(0.001, 0.01))
def test_quantile_is_monotone_in_q(obs: list[float], q: float, dq: float) -> None:
    b = cumulative(obs)
    assert histogram_quantile(q, b) <= histogram_quantile(q + dq, b) + 1e-12  # type: ignore[operator]


def test_parse_metrics_reads_counters_histograms_and_labels() -> None:
    text = (
        '# TYPE http_requests_total counter\n'
        'http_requests_total{route="/api/v1/signal",method="GET",code="200"} 7.0\n'
        '# TYPE http_request_duration_seconds histogram\n'
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/v1/signal"} 5.0\n'
        'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/signal"} 7.0\n'
        'http_request_duration_seconds_count{method="GET",route="/api/v1/signal"} 7.0\n'
        'http_request_duration_seconds_sum{method="GET",route="/api/v1/signal"} 0.4\n'
    )
    got = parse_metrics(text)
    key = ("http_requests_total", (("code", "200"), ("method", "GET"), ("route", "/api/v1/signal")))
    assert got[key] == 7.0
    assert got[("http_request_duration_seconds_bucket",
                (("le", "+Inf"), ("method", "GET"), ("route", "/api/v1/signal")))] == 7.0


def test_parse_metrics_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_metrics("<html>not metrics</html>\n")
