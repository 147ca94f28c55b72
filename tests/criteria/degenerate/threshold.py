"""Degenerate inputs of the plain threshold criteria (the pattern every area follows)."""

from __future__ import annotations

from hypothesis import strategies as st

NOT_A_MEASUREMENT = st.sampled_from([None, float("nan"), float("inf"), float("-inf")])
FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
NOT_A_LIMIT = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def _threshold_cases():
    # no value at all, or a value resting on fewer samples than needed, or an unusable limit
    no_value = st.tuples(st.just("c"), NOT_A_MEASUREMENT, FINITE).map(lambda a: (a, {}))
    thin = st.tuples(st.just("c"), FINITE, FINITE, st.integers(0, 9)).map(
        lambda a: ((a[0], a[1], a[2]), {"samples": a[3], "min_samples": 10}))
    bad_limit = st.tuples(st.just("c"), FINITE, NOT_A_LIMIT).map(lambda a: (a, {}))
    return st.one_of(no_value, thin, bad_limit)


CASES = {
    "threshold.at_most": _threshold_cases(),
    "threshold.at_least": _threshold_cases(),
    "threshold.equals": st.tuples(st.just("c"), st.none(), st.integers()).map(lambda a: (a, {})),
}
