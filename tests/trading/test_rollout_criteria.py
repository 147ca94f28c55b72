"""The rollout-side trading criteria: halt verified from the record, halt before the
rollback steps, trading judged in every phase, a closed market never passing."""

from __future__ import annotations

from goldgate.criteria.trading_rollout import (
    closed_market_held,
    halt_verified,
    halted_before_rollback,
    trading_judged_per_phase,
)
from goldgate.verdict import Status, Verdict


def test_halt_verified_passes_on_a_quiet_record_and_fails_on_late_orders() -> None:
    ok = halt_verified({"a": True, "b": True}, {}, cancelled=3)
    assert ok.status is Status.PASS and "3 open orders cancelled" in ok.reason
    bad = halt_verified({"a": True}, {"a": ["o-1", "o-2"]})
    assert bad.status is Status.FAIL and bad.rollback and bad.observed == 2 and bad.threshold == 0
    assert "halt ignored: 2 orders after halt" in bad.message()


def test_halt_not_verifiable_is_an_error() -> None:
    assert halt_verified({"a": True}, {"a": ["?: GET ... refused"]}).status is Status.ERROR
    assert halt_verified({}, {}, unreachable={"a": "timeout"}).status is Status.ERROR


def test_halt_must_come_before_the_first_rollback_step() -> None:
    first = [("halt trading", "done"), ("set route weights", "done"), ("delete deployment", "done")]
    v = halted_before_rollback(first, cancelled_orders=["o-1"], position_left={"XAUUSD": 0.4})
    assert v.status is Status.PASS and "1 open orders cancelled" in v.reason and "XAUUSD" in v.reason
    late = halted_before_rollback([("set route weights", "done"), ("halt trading", "done")])
    assert late.status is Status.FAIL and "before the trading halt" in late.reason
    assert halted_before_rollback([("delete deployment", "done")]).status is Status.FAIL


def _phase(**statuses: str) -> dict:
    return {"weight": 10, "trading": {"last": {"verdicts": {k.replace("_", " "): {"status": s}
                                                          for k, s in statuses.items()}}}}


def test_trading_judged_in_every_phase() -> None:
    good = _phase(signal_agreement="PASS", pre_trade_limits="PASS")
    assert trading_judged_per_phase([good, good]).status is Status.PASS
    v = trading_judged_per_phase([good, _phase(signal_agreement="FAIL")])
    assert v.status is Status.FAIL and "signal agreement" in v.reason
    assert trading_judged_per_phase([good, {"weight": 50}]).status is Status.INCONCLUSIVE
    assert trading_judged_per_phase([_phase(pre_trade_limits="PASS")]).status is Status.INCONCLUSIVE


def test_a_closed_market_is_inconclusive_never_pass() -> None:
    closed = Verdict.inconclusive("market", "market closed: the feed produces no bars", threshold=20)
    assert closed_market_held([closed], outcome="HOLD", market="market").status is Status.PASS
    passed = Verdict.passed("market", 40, 20)
    v = closed_market_held([passed], outcome="PASS", market="market")
    assert v.status is Status.FAIL and v.threshold == "INCONCLUSIVE"


def test_a_halt_with_no_buy_or_sell_bar_since_is_not_yet_verified() -> None:
    """A bot ignoring its kill switch orders on a BUY/SELL bar: without one, no order proves nothing."""
    v = halt_verified({"a": True, "b": True}, {}, actionable_after={"a": 3, "b": 0})
    assert v.status is Status.INCONCLUSIVE and "b" in v.reason and "no BUY or SELL bar" in v.reason
    assert halt_verified({"a": True}, {}, actionable_after={"a": 2}).status is Status.PASS
    assert halt_verified({"a": True}, {}, actionable_after={}).status is Status.INCONCLUSIVE
    # an order after the halt is a breach whatever else the record shows
    assert halt_verified({"a": True}, {"a": ["o-1"]}, actionable_after={"a": 0}).status is Status.FAIL
