"""Degenerate inputs of the judge's verdict mapping and of Kayenta's remote-judge statistics."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from goldgate.criteria.kayenta import MetricResult
from goldgate.verdict import Status, Verdict

NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, None, "x", True])

UNDECIDED = st.sampled_from([
    Verdict.inconclusive("error rate", "too few requests", rollback=True),
    Verdict.error("error rate", "http://127.0.0.1:1/metrics: refused", rollback=True),
    Verdict.inconclusive("p95 vs baseline", "no baseline", rollback=True),
])
ALERT_PASS = Verdict.passed("CPU", 0.1, 0.7)

CASES = {
    "judge.judge_triggers": st.one_of(
        st.just((([],), {})),
        st.just((([ALERT_PASS],), {})),  # only alerts: no rollback trigger evaluated
        st.lists(UNDECIDED, min_size=1, max_size=4).map(lambda vs: (([*vs, ALERT_PASS],), {})),
        st.lists(st.sampled_from([None, "PASS", 1.0]), max_size=3).map(lambda vs: ((vs,), {})),
    ),
    "kayenta.classify_metric": st.one_of(
        st.tuples(st.lists(NOT_FINITE, max_size=30), st.lists(NOT_FINITE, max_size=30)).map(
            lambda p: ((p[0], p[1]), {"confidence": 0.98, "min_points": 10})),
        st.tuples(st.lists(st.floats(0, 10), max_size=9), st.lists(st.floats(0, 10), min_size=10, max_size=20)).map(
            lambda p: ((p[0], p[1]), {"confidence": 0.98, "min_points": 10})),
        st.just((([1.0] * 20, [1.0] * 20), {"confidence": math.nan, "min_points": 10})),
        st.just((([1.0] * 20, [1.0] * 20), {"confidence": 0.98, "min_points": 10, "direction": "sideways"})),
    ),
    "kayenta.score_metrics": st.one_of(
        st.just((((),), {"pass_threshold": 95.0, "marginal_threshold": 75.0})),
        st.lists(st.sampled_from([Verdict.inconclusive("m", "Nodata"), Verdict.error("m", "bad")]), max_size=5).map(
            lambda vs: (([MetricResult(v) for v in vs],), {"pass_threshold": 95.0, "marginal_threshold": 75.0})),
        st.just((([MetricResult(Verdict.passed("m", 1.0, "band"))],),
                 {"pass_threshold": math.nan, "marginal_threshold": 75.0})),
        st.just((([MetricResult(Verdict.passed("m", 1.0, "band"))],),
                 {"pass_threshold": 95.0, "marginal_threshold": 75.0, "group_weights": {"default": -1.0}})),
    ),
}

__all__ = ["CASES", "Status"]
