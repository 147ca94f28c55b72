"""The trading triggers continued from a snapshot decide exactly as if never interrupted.

The same polls are fed to an uninterrupted :class:`TradingTriggers` and to one snapshotted
after poll ``k``, passed through JSON (as the judge's store does) and restored into a new
instance: every later verdict must be identical. A snapshot that cannot be continued (another
version, other settings, malformed) is a fresh start with the reason, never a crash, never PASS.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from goldgate.config import TradingSettings
from goldgate.criteria.trading import Decision, TrackStream
from goldgate.criteria.trading.agreement import AGREEMENT, AgreementPlan
from goldgate.criteria.trading.rejects import REJECTS
from goldgate.criteria.trading.triggers import TradingTriggers
from goldgate.verdict import Status
from tests.criteria.trading_streams import BAR_S, T0, track

SETTINGS = TradingSettings()
#: the agreement test's pairing horizon (its plan's ``max_lag_s``)
HORIZON_S = AgreementPlan().max_lag_s


def _rejecting(decisions: list[Decision], share: float, seed: int) -> list[Decision]:
    rng = random.Random(seed)
    return [replace(d, orders=tuple(replace(o, status="rejected", fill_price=None) if rng.random() < share else o
                                    for o in d.orders)) for d in decisions]


def polls(seed: int, *, differ: float, rejects: float, bars: int = 160, step: int = 8
          ) -> Iterator[tuple[TrackStream, TrackStream, float]]:
    """Cumulative readings of both tracks, ``step`` more bars per poll (as a window reads them)."""
    can = _rejecting(track(bars, differ=differ, trades=True, seed=seed), rejects, seed)
    sta = _rejecting(track(bars, trades=True, seed=seed + 1000), 0.01, seed + 1)
    for i in range(1, bars // step + 1):
        end = T0 + i * step * BAR_S
        yield (TrackStream("canary", tuple(d for d in can if d.bar_time < end)),
               TrackStream("stable", tuple(d for d in sta if d.bar_time < end)), end)


def _key(verdicts: list[Any]) -> list[tuple[Any, ...]]:
    return [(v.criterion, v.status, repr(v.observed), repr(v.threshold), v.reason) for v in verdicts]


def _fresh() -> TradingTriggers:
    return TradingTriggers(SETTINGS, max_gap_s=60.0)


@pytest.mark.parametrize(("seed", "differ", "rejects", "cut"), [
    (1, 0.0, 0.0, 3), (2, 0.3, 0.0, 2), (3, 0.05, 0.25, 7), (4, 0.1, 0.1, 12), (5, 0.0, 0.3, 1)])
def test_a_restored_instance_decides_exactly_as_the_uninterrupted_one(seed: int, differ: float, rejects: float,
                                                                     cut: int) -> None:
    plain, interrupted = _fresh(), _fresh()
    seen: set[Status] = set()
    for i, (c, s, now) in enumerate(polls(seed, differ=differ, rejects=rejects)):
        if i == cut:
            snap = json.loads(json.dumps(interrupted.snapshot(), allow_nan=False))
            interrupted = _fresh()
            assert interrupted.restore(snap) == ""
        a, b = plain.judge(c, s, now=now), interrupted.judge(c, s, now=now)
        assert _key(a) == _key(b), f"poll {i}"
        seen.update(v.status for v in a)
    assert Status.INCONCLUSIVE in seen  # the sequences reach decisions, not only holds
    assert Status.PASS in seen or Status.FAIL in seen


def test_a_fail_needs_the_bars_before_the_restart_and_the_restored_test_reaches_it() -> None:
    """The agreement test crosses only on bars before and after the restart together: a test
    started afresh on the bars after it alone is still INCONCLUSIVE there."""
    readings = list(polls(2, differ=0.2, rejects=0.0))
    restored, fresh = _fresh(), _fresh()
    for c, s, now in readings[:2]:
        assert next(v for v in restored.judge(c, s, now=now) if v.criterion == AGREEMENT).status != Status.FAIL
    snap = json.loads(json.dumps(restored.snapshot()))
    restored = _fresh()
    assert restored.restore(snap) == ""
    cut = readings[1][2]
    for c, s, now in readings[2:5]:
        both = next(v for v in restored.judge(c, s, now=now) if v.criterion == AGREEMENT)
        after = (TrackStream("canary", tuple(d for d in c.decisions if d.bar_time >= cut)),
                 TrackStream("stable", tuple(d for d in s.decisions if d.bar_time >= cut)))
        only_after = next(v for v in fresh.judge(*after, now=now) if v.criterion == AGREEMENT)
    assert only_after.status == Status.INCONCLUSIVE
    assert both.status == Status.FAIL and both.threshold is not None


def _snap_after(polls_n: int, **kw: Any) -> dict[str, Any]:
    t = _fresh()
    for i, (c, s, now) in enumerate(polls(6, differ=0.0, rejects=0.0, **kw)):
        if i == polls_n:
            break
        t.judge(c, s, now=now)
    return json.loads(json.dumps(t.snapshot()))


def _broken() -> list[tuple[str, Any, str]]:
    good = _snap_after(6)
    cases: list[tuple[str, Any, str]] = [
        ("not an object", ["x"], "not one of the trading triggers"),
        ("none", None, "not one of the trading triggers"),
        ("another version", {**good, "version": 99}, "version 99"),
        ("another expected agreement", {**good, "expected_agreement": 0.9}, "expected agreement changed"),
    ]
    c = good["comparisons"]
    cases += [
        ("another plan", {**good, "comparisons": {**c, "agreement": {**c["agreement"], "plan": {
            **c["agreement"]["plan"], "min_agreement": 0.5}}}}, "settings changed"),
        ("a negative count", {**good, "comparisons": {**c, "rate": {**c["rate"], "state": {
            **c["rate"]["state"], "polls": -3}}}}, "non-negative"),
        ("a missing field", {**good, "comparisons": {**c, "rejects": {**c["rejects"], "state": {
            k: v for k, v in c["rejects"]["state"].items() if k != "log_wealth"}}}}, "malformed"),
        ("a wrong mixture", {**good, "comparisons": {**c, "rate": {**c["rate"], "state": {
            **c["rate"]["state"], "loglik": [0.0]}}}}, "does not match"),
        ("text for a number", {**good, "comparisons": {**c, "counted": ["a", 0, 0, 0, 0, 0]}}, "not a number"),
        ("counted missing", {**good, "comparisons": {**c, "counted": None}}, "malformed"),
        ("more disagreements than pairs", {**good, "comparisons": {**c, "agreement": {**c["agreement"], "state": {
            **c["agreement"]["state"], "disagreements": 10**6}}}}, "disagreements in"),
        ("a bad key", {**good, "comparisons": {**c, "agreement": {**c["agreement"], "done": [[1.0]]}}}, "key"),
    ]
    return cases


@pytest.mark.parametrize(("name", "snap", "why"), _broken(), ids=[c[0] for c in _broken()])
def test_a_snapshot_that_cannot_continue_is_a_fresh_start_with_the_reason(name: str, snap: Any, why: str) -> None:
    t = _fresh()
    reason = t.restore(snap)
    assert why in reason, reason
    # fresh: the first poll after the restart has too little evidence to pass anything compared
    c, s, now = next(polls(6, differ=0.0, rejects=0.0))
    verdicts = {v.criterion: v for v in t.judge(c, s, now=now)}
    assert verdicts[AGREEMENT].status == Status.INCONCLUSIVE
    assert verdicts[REJECTS].status != Status.PASS


def test_a_snapshot_before_any_comparison_restores_to_the_same_fresh_state() -> None:
    t = _fresh()
    snap = json.loads(json.dumps(t.snapshot()))
    assert snap["comparisons"] is None
    assert t.restore(snap) == "" and t.snapshot() == snap


def test_the_agreement_snapshot_keeps_only_keys_inside_the_pairing_horizon() -> None:
    """A long run's snapshot is no larger than a short one's, and still continues exactly: bars
    older than the pairing horizon are settled wholesale, not remembered key by key."""
    plain, interrupted = _fresh(), _fresh()
    sizes: dict[int, int] = {}
    readings = list(polls(8, differ=0.05, rejects=0.0, bars=1200, step=40))  # 600 s of bars, 60 s horizon
    for i, (c, s, now) in enumerate(readings):
        a = plain.judge(c, s, now=now)
        snap = json.loads(json.dumps(interrupted.snapshot(), allow_nan=False))
        sizes[i] = len(json.dumps(snap))
        if i == 20:  # the restarted judge reads every bar since the window opened again
            interrupted = _fresh()
            assert interrupted.restore(snap) == ""
        b = interrupted.judge(c, s, now=now)
        if i > 20:
            assert _key(a) == _key(b), f"poll {i}"
    agreement = plain.snapshot()["comparisons"]["agreement"]
    horizon_keys = 2 * (HORIZON_S / BAR_S + 40)  # two symbols, the horizon and one poll's bars
    assert len(agreement["done"]) <= horizon_keys, len(agreement["done"])
    assert plain.snapshot()["comparisons"]["agreement"]["state"]["pairs"] > 4 * horizon_keys
    assert sizes[len(readings) - 1] < 1.5 * sizes[8], sizes  # flat, not growing with the run
