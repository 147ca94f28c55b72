"""Percentiles from raw response times, the stats table and failures grouped by cause."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.load.records import RequestRecord
from goldgate.load.stats import percentile, summarize

values = st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=300)


@given(values, st.floats(0, 100))
def test_percentile_is_a_measured_value_with_at_least_q_percent_at_or_below(xs, q) -> None:
    xs = sorted(xs)
    p = percentile(xs, q)
    assert p in xs
    assert sum(1 for x in xs if x <= p) >= q / 100 * len(xs) - 1e-9


@given(values, st.floats(0, 100), st.floats(0, 100))
def test_percentile_is_monotone_in_q(xs, a, b) -> None:
    xs = sorted(xs)
    lo, hi = sorted((a, b))
    assert percentile(xs, lo) <= percentile(xs, hi)


def test_nearest_rank_on_known_values() -> None:
    xs = list(range(1, 101))  # 1..100
    assert percentile(xs, 95) == 95
    assert percentile(xs, 99) == 99
    assert percentile(xs, 50) == 50
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) is None
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile(xs, 101)


def _rec(t: float, ms: float, ok: bool = True, name: str = "GET /api/v1/signal", status: int = 200,
         err: str | None = None) -> RequestRecord:
    return RequestRecord(t=t, name=name, ms=ms, ok=ok, status=status, err=err)


def test_summary_rows_failures_by_cause_and_timeline() -> None:
    recs = [_rec(1000.05 + i / 10, float(i)) for i in range(100)]
    recs += [_rec(1001, 5, ok=False, status=500, err="BadStatusCode: 500")] * 3
    recs += [_rec(1002, 1, ok=False, name="POST /api/v1/orders", status=0, err="ConnectionRefusedError: [Errno 111]")]
    s = summarize(recs, started=1000, elapsed_s=10)
    assert s.requests == 104 and s.failures == 4
    assert math.isclose(s.error_rate, 4 / 104)
    assert s.failures_by_cause[0] == ("GET /api/v1/signal", "HTTP 500", 3)
    assert ("POST /api/v1/orders", "ConnectionRefusedError", 1) in s.failures_by_cause
    names = [row["name"] for row in s.table()]
    assert names[-1] == "Aggregated" and "POST /api/v1/orders" in names
    assert [b.requests for b in s.timeline][:3] == [10, 13, 11]
    assert s.total.rps == pytest.approx(10.4)
