"""The sequential error-rate test: properties, edge cases, streaming form."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldgate.criteria.sprt import (
    GUIDE_DEFAULTS,
    Decision,
    SequentialErrorRate,
    SprtParams,
    error_rate_sprt,
    sprt_state,
)
from goldgate.verdict import Status

RANK = {Status.PASS: 0, Status.INCONCLUSIVE: 1, Status.FAIL: 2}


@st.composite
def params(draw: st.DrawFn) -> SprtParams:
    limit = draw(st.floats(0.001, 0.2))
    p0 = limit * draw(st.floats(0.1, 0.9))
    p1 = min(0.9, limit * draw(st.floats(1.2, 5.0)))
    alpha = draw(st.floats(0.001, 0.2))
    beta = draw(st.floats(0.001, 0.2))
    max_requests = draw(st.none() | st.integers(1, 100_000))
    return SprtParams(limit=limit, p0=p0, p1=p1, alpha=alpha, beta=beta, max_requests=max_requests)


counts = st.integers(0, 200_000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@given(params(), counts)
def test_observed_rate_on_the_wrong_side_never_passes(p: SprtParams, nk: tuple[int, int]) -> None:
    n, k = nk
    v = error_rate_sprt(n, k, p)
    if n and k / n > p.limit:
        assert v.status is not Status.PASS
    if n and k / n <= p.limit:
        assert v.status is not Status.FAIL


@given(params())
def test_no_data_never_passes(p: SprtParams) -> None:
    v = error_rate_sprt(0, 0, p)
    assert v.status is Status.INCONCLUSIVE
    assert "no requests" in v.reason


@given(params(), st.integers(0, 1_000_000))
def test_zero_errors_never_fail(p: SprtParams, n: int) -> None:
    assert error_rate_sprt(n, 0, p).status is not Status.FAIL


@given(params())
def test_enough_error_free_requests_pass(p: SprtParams) -> None:
    enough = math.ceil(p.lower / p.per_success) + 1
    assert error_rate_sprt(enough, 0, p).status is Status.PASS


@given(params(), counts)
def test_more_errors_never_move_toward_pass(p: SprtParams, nk: tuple[int, int]) -> None:
    n, k = nk
    if k < n:
        assert RANK[error_rate_sprt(n, k + 1, p).status] >= RANK[error_rate_sprt(n, k, p).status]


@given(params())
def test_streaming_never_fails_an_error_free_stream(p: SprtParams) -> None:
    s = SequentialErrorRate(p)
    s.update_each([False] * 400)
    assert s.verdict().status is not Status.FAIL


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31))
def test_streaming_stops_at_first_crossing_and_stays(seed: int) -> None:
    rng = random.Random(seed)
    s = SequentialErrorRate(GUIDE_DEFAULTS)
    stream = [rng.random() < 0.03 for _ in range(5000)]
    first = s.update_each(stream)
    assert first.decision is not Decision.CONTINUE  # 5000 requests at 3 % always decide
    # the stopping point is the first look at which the batch test decides
    assert sprt_state(first.requests, first.errors, GUIDE_DEFAULTS).decision is first.decision
    for n in range(1, first.requests):
        k = sum(stream[:n])
        assert sprt_state(n, k, GUIDE_DEFAULTS).decision is Decision.CONTINUE
    after = s.update(10_000, 0)  # later healthy traffic does not undo the decision
    assert after == first


def test_one_5xx_at_low_traffic_is_inconclusive_not_a_rollback() -> None:
    v = error_rate_sprt(40, 1, GUIDE_DEFAULTS, window_s=60)
    assert v.status is Status.INCONCLUSIVE
    assert "2.5 %" in v.reason and "1 %" in v.reason and "40 requests" in v.reason


def test_clear_breach_fails_with_rollback_and_numbers() -> None:
    v = error_rate_sprt(1000, 31, GUIDE_DEFAULTS, window_s=30)
    assert v.status is Status.FAIL and v.rollback
    assert v.observed == pytest.approx(0.031) and v.threshold == 0.01
    msg = v.message()
    for text in ("3.1 %", "1 %", "31 errors in 1000 requests", "30s", "LLR", "bounds"):
        assert text in msg
    details = v.evidence[-1].details
    assert details["requests"] == 1000 and details["errors"] == 31
    assert details["accept_h1_at"] == pytest.approx(math.log(0.95 / 0.01), abs=1e-3)


def test_healthy_traffic_passes() -> None:
    v = error_rate_sprt(2000, 4, GUIDE_DEFAULTS, window_s=30)
    assert v.status is Status.PASS
    assert "0.2 %" in v.reason


def test_truncation_decides_by_the_limit() -> None:
    p = SprtParams(limit=0.01, p0=0.005, p1=0.02, alpha=0.01, beta=0.05, max_requests=300)
    assert error_rate_sprt(299, 3, p).status is Status.INCONCLUSIVE
    assert error_rate_sprt(300, 3, p).status is Status.PASS
    v = error_rate_sprt(300, 4, p)
    assert v.status is Status.FAIL and "truncated" in v.reason


@pytest.mark.parametrize("bad", [
    {"p0": 0.01}, {"p1": 0.01}, {"p0": 0.02, "p1": 0.005}, {"alpha": 0}, {"beta": 0.7},
    {"max_requests": 0},
])
def test_parameters_are_validated(bad: dict[str, float]) -> None:
    base = {"limit": 0.01, "p0": 0.005, "p1": 0.02, "alpha": 0.01, "beta": 0.05}
    with pytest.raises(ValueError):
        SprtParams(**(base | bad))


def test_counts_are_validated() -> None:
    with pytest.raises(ValueError):
        sprt_state(3, 4, GUIDE_DEFAULTS)


def test_wald_expected_sample_sizes() -> None:
    p = GUIDE_DEFAULTS
    assert p.expected_requests(p.p1) == pytest.approx(325, abs=2)
    assert p.expected_requests(p.p0) == pytest.approx(356, abs=2)
    assert p.operating_characteristic(p.p0) == pytest.approx(1 - p.alpha)
    # the OC curve falls from 1 - alpha to beta between p0 and p1
    assert p.operating_characteristic(0.004) > p.operating_characteristic(0.01) > p.operating_characteristic(0.03)
