"""The verdict model: no data is never a pass; expect() maps statuses to outcomes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.criteria.threshold import at_least, at_most, equals
from goldgate.verdict import (
    CriterionBreached,
    Evidence,
    InconclusiveError,
    ProbeError,
    Status,
    Verdict,
    expect,
    register_sink,
)

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


def test_pass_without_observation_is_refused() -> None:
    with pytest.raises(ValueError, match="needs an observed value"):
        Verdict("x", Status.PASS, observed=None, threshold=1)
    with pytest.raises(ValueError, match="NaN"):
        Verdict("x", Status.PASS, observed=math.nan, threshold=1)


def test_expect_maps_statuses_to_outcomes() -> None:
    ok = Verdict.passed("ok", 1, 2)
    assert expect(ok) is ok
    with pytest.raises(CriterionBreached) as failed:
        expect(Verdict.failed("error rate", 0.03, 0.01, "too high"))
    assert isinstance(failed.value, AssertionError)
    with pytest.raises(ProbeError) as err:
        expect(Verdict.error("p95", "GET http://127.0.0.1:1/metrics: connection refused"))
    assert not isinstance(err.value, AssertionError)
    with pytest.raises(InconclusiveError):
        expect(Verdict.inconclusive("error rate", "only 3 requests"))


def test_message_names_value_threshold_and_evidence() -> None:
    v = Verdict.failed(
        "p95 latency", 612.0, 500.0, "above", unit="ms",
        evidence=Evidence("prometheus", "histogram_quantile(0.95, ...)", window=300, samples=1234),
    )
    text = v.message()
    for part in ("FAIL", "p95 latency", "612 ms", "500 ms", "histogram_quantile", "window 300s", "1234 samples"):
        assert part in text


def test_sinks_see_every_verdict_and_can_be_removed() -> None:
    seen: list[Verdict] = []
    remove = register_sink(seen.append)
    expect(Verdict.passed("a", 1, 1))
    with pytest.raises(CriterionBreached):
        expect(Verdict.failed("b", 2, 1, "x"))
    remove()
    expect(Verdict.passed("c", 1, 1))
    assert [v.criterion for v in seen] == ["a", "b"]


@given(observed=finite, limit=finite)
def test_at_most_never_passes_a_value_above_its_limit(observed: float, limit: float) -> None:
    v = at_most("x", observed, limit)
    assert (v.status is Status.PASS) == (observed <= limit)
    assert v.status in (Status.PASS, Status.FAIL)


@given(observed=finite, limit=finite)
def test_at_least_never_passes_a_value_below_its_limit(observed: float, limit: float) -> None:
    v = at_least("x", observed, limit)
    assert (v.status is Status.PASS) == (observed >= limit)


@given(limit=finite, samples=st.integers(min_value=0, max_value=1000), need=st.integers(min_value=1, max_value=1000))
def test_missing_or_thin_data_never_passes(limit: float, samples: int, need: int) -> None:
    for observed in (None, math.nan):
        assert at_most("x", observed, limit).status is Status.INCONCLUSIVE
        assert at_least("x", observed, limit).status is Status.INCONCLUSIVE
    if samples < need:
        assert at_most("x", limit - 1, limit, samples=samples, min_samples=need).status is Status.INCONCLUSIVE


def test_equals() -> None:
    assert equals("v", "v1.2.0", "v1.2.0").ok
    v = equals("v", "v1.1.0", "v1.2.0")
    assert v.status is Status.FAIL and "v1.1.0" in v.message() and "v1.2.0" in v.message()
    assert equals("v", None, "v1.2.0").status is Status.INCONCLUSIVE


def test_verdict_dict_is_json_safe() -> None:
    import json

    v = Verdict.inconclusive("p95", "empty result", observed=math.nan, threshold=500.0)
    json.dumps(v.to_dict())
