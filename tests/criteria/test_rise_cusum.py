"""The window CUSUM's alarm: the budget-weighted sum over starting points."""

from __future__ import annotations

import math

from goldgate.criteria.rise_cusum import RiseCusum
from goldgate.criteria.sprt import GUIDE_DEFAULTS
from goldgate.criteria.watch_error_rate import WatchPlan

PLAN = WatchPlan(GUIDE_DEFAULTS, horizon_s=7200.0, max_gap_s=180.0)


def _run(steps: list[float]) -> RiseCusum:
    c = RiseCusum(counts=(0, 0))
    for e in steps:
        c = c.step(PLAN, e, (100, 1), 60.0)
    return c


def test_the_sum_is_at_least_the_best_starting_point_and_alarms_no_later() -> None:
    c = RiseCusum(counts=(0, 0))
    for e in [-1.0] * 30 + [0.8] * 40:
        c = c.step(PLAN, e, (100, 1), 60.0)
        assert c.total >= c.best - 1e-12
        if c.llr + c.best >= 0:  # the best starting point alone would alarm
            assert c.crossed


def test_the_sum_alarms_before_any_single_starting_point_when_several_gather_evidence() -> None:
    # evidence rising slowly from the start: every early starting point shares it
    c = RiseCusum(counts=(0, 0))
    earlier = None
    for j in range(200):
        c = c.step(PLAN, 0.12, (100, 1), 60.0)
        if c.crossed and earlier is None:
            earlier = j
        if c.llr + c.best >= 0:
            assert earlier is not None and earlier < j
            return
    raise AssertionError("the single best starting point never alarmed")


def test_a_state_saved_without_the_sum_resumes_from_its_best_starting_point() -> None:
    c = _run([-0.5] * 10 + [0.3] * 5)
    data = c.to_dict()
    assert RiseCusum.from_dict(data) == c
    del data["total"]
    old = RiseCusum.from_dict(data)
    assert old.total == c.best and not math.isinf(old.total)
