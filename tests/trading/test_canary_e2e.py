"""End to end on one sandbox: each trading fault rolls the canary back on the right trigger,
with the value and the threshold shown and the canary's trading halted before the undo; a
healthy canary is promoted with every trading check passed in every phase."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldgate.criteria.trading_rollout import HALT, halted_before_rollback, trading_judged_per_phase
from goldgate.rollout import canary
from goldgate.rollout.base import Release, RolloutContext, RolloutReport
from goldgate.rollout.traffic import TrafficStream
from goldgate.verdict import Status
from tests.rollout.conftest import run_image

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(300)]
PREVIOUS = "trading-bot:v1.1.0"
RELEASE = "trading-bot:v1.2.0"


def _halted_then_rolled_back(report: RolloutReport, prefix: str) -> None:
    assert report.outcome == "rolled back", (report.outcome, report.reason)
    assert report.trigger is not None and report.trigger.status is Status.FAIL, report.reason
    assert report.trigger.criterion.lower().startswith(prefix), report.trigger.message()
    assert "vs threshold" in report.trigger.message() and report.trigger.threshold is not None
    halt = next(p for p in report.phases if p.get("phase") == "trading halt")
    assert "cancelled_orders" in halt and "position_left" in halt
    rollback = report.actions[halt["rollback_from_action"]:]
    assert halted_before_rollback([(a.action, a.outcome) for a in rollback]).status is Status.PASS


def test_healthy_canary_trades_like_stable_and_is_promoted(trading_ctx: RolloutContext,
                                                           trading_traffic: Callable[..., TrafficStream]) -> None:
    run_image(trading_ctx, PREVIOUS)
    trading_traffic()
    report = canary.canary(trading_ctx, Release(RELEASE))
    assert report.outcome == "promoted", (report.reason, report.trigger and report.trigger.message())
    assert trading_judged_per_phase(report.phases).status is Status.PASS, report.phases
    assert "halt trading" not in [a.action for a in report.actions]


@pytest.mark.parametrize(("knobs", "trigger"), [
    # Half the BUY/SELL bars flipped: caught well inside these tests' 40 s phase deadline (the 20 %
    # build is rehearsed in features/trading with the environment's 96 s deadline).
    ({"FAULT_SIGNAL_FLIP": "0.5"}, "signal agreement"),
    ({"FAULT_TRADE_MULTIPLIER": "3"}, "trade rate"),
    ({"FAULT_ORDER_SIZE_MULTIPLIER": "10"}, "pre-trade limits"),
    ({"FAULT_FILL_SLIPPAGE_BPS": "50"}, "p&l drawdown"),
], ids=["flip", "overtrade", "oversize", "slippage"])
def test_a_trading_fault_halts_and_rolls_the_canary_back(knobs: dict[str, str], trigger: str,
                                                         trading_ctx: RolloutContext,
                                                         trading_traffic: Callable[..., TrafficStream]) -> None:
    run_image(trading_ctx, PREVIOUS)
    trading_traffic()
    report = canary.canary(trading_ctx, Release(RELEASE, knobs))
    _halted_then_rolled_back(report, trigger)
    halt = {v.criterion: v for v in report.checks}[HALT]
    assert halt.status is Status.PASS, halt.message()


def test_an_ignored_kill_switch_scales_the_canary_to_zero_first(trading_ctx: RolloutContext,
                                                                trading_traffic: Callable[..., TrafficStream]) -> None:
    run_image(trading_ctx, PREVIOUS)
    trading_traffic()
    report = canary.canary(trading_ctx, Release(RELEASE, {"FAULT_IGNORE_KILL_SWITCH": "true",
                                                          "FAULT_ORDER_SIZE_MULTIPLIER": "10"}))
    _halted_then_rolled_back(report, "pre-trade limits")
    halt = {v.criterion: v for v in report.checks}[HALT]
    assert halt.status is Status.FAIL and "halt ignored:" in halt.reason, halt.message()
    names = [(a.action, a.details.get("replicas")) for a in report.actions]
    assert names.index(("scale", 0)) < names.index(("delete deployment", None)), names
