"""Pre-trade limits (hard guards), P&L drawdown and the closed-market rule: each fault fails
at once naming the order or sample, the value and the limit; healthy streams pass; a closed
market or too few bars is INCONCLUSIVE naming the cause."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from goldgate.criteria.trading import (
    Decision,
    TrackStream,
    TradingLimits,
    pnl_drawdown,
    pre_trade_limits,
    trading_evidence,
)
from goldgate.verdict import Status
from tests.criteria.trading_streams import MIDS, T0, order, track

LIMITS = TradingLimits(max_order_volume=1.0, max_notional_usd=250_000, price_collar_bps=50, max_position_lots=3.0,
                       max_orders_per_minute=120)


def test_healthy_orders_pass() -> None:
    # 2 bars a second (the sandbox's scaled M1 bars): 40 bars are 20 s, about 50 orders
    v = pre_trade_limits(track(40, trades=True), LIMITS)
    assert v.status is Status.PASS, v.message()
    assert v.observed == 0.1 and v.threshold == 1.0 and v.rollback


def test_an_order_above_the_volume_limit_fails_at_once_naming_it() -> None:
    stream = track(50, trades=True)
    first = next(i for i, d in enumerate(stream) if d.orders and d.symbol == "XAUUSD")
    big = replace(stream[first].orders[0], volume=1.5, order_id="o-big")
    stream[first] = replace(stream[first], orders=(big,))
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.FAIL and v.rollback
    assert (v.observed, v.threshold) == (1.5, 1.0)
    assert "order o-big" in v.reason and "order volume 1.5 lots is above the limit 1 lots" in v.reason


def test_notional_uses_the_contract_size_as_a_parameter() -> None:
    stream = track(20, trades=True, volume=1.0)  # 1 lot x 100 oz x 2350 = 235,000 USD
    assert pre_trade_limits(stream, LIMITS).status is Status.PASS
    v = pre_trade_limits(stream, replace(LIMITS, contract_size={"XAUUSD": 120.0, "XAGUSD": 5000.0}))
    assert v.status is Status.FAIL and "notional" in v.reason and v.threshold == 250_000
    assert v.observed == pytest.approx(1.0 * 120 * MIDS["XAUUSD"] * (1 + 2e-4), rel=1e-6) or \
        v.observed == pytest.approx(1.0 * 120 * MIDS["XAUUSD"] * (1 - 2e-4), rel=1e-6)


def test_a_price_outside_the_collar_fails() -> None:
    bad = order(3, "XAUUSD", "BUY", offset_bps=80)
    stream = [*track(3, trades=True), Decision(T0 + 1.5, "XAUUSD", "BUY", (bad,), MIDS["XAUUSD"])]
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.FAIL and "price collar" in v.reason
    assert v.observed == pytest.approx(80.0) and v.threshold == 50


def test_the_position_limit_is_checked_before_the_fill() -> None:
    stream = track(40, trades=True, alternate=False, volume=0.5)  # every BUY adds 0.5 lot
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.FAIL and "net position if filled" in v.reason
    assert v.observed == pytest.approx(3.5) and v.threshold == 3.0


def test_a_reported_position_above_the_limit_fails() -> None:
    canary = TrackStream("canary", tuple(track(20, trades=True)), positions={"XAUUSD": -4.0})
    v = pre_trade_limits(canary, LIMITS)
    assert v.status is Status.FAIL and "reported net position" in v.reason and v.observed == 4.0


def test_the_message_rate_counts_orders_per_pod_per_minute() -> None:
    stream = track(100, trades=True, orders_per_signal=3)  # 2 bars/s -> far more than 120 orders a minute
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.FAIL and "message rate" in v.reason and v.threshold == 120
    assert pre_trade_limits(stream, replace(LIMITS, max_orders_per_minute=10_000)).status is Status.PASS


def test_the_first_breach_is_named_and_the_others_counted() -> None:
    stream = track(30, trades=True, volume=2.0)
    v = pre_trade_limits(stream, LIMITS)
    first = min((o for d in stream for o in d.orders), key=lambda o: o.placed_at)
    assert v.status is Status.FAIL and first.order_id in v.reason and "more orders in breach" in v.reason


def test_rejected_orders_are_only_messages() -> None:
    stream = track(20, trades=True)
    i = next(i for i, d in enumerate(stream) if d.orders)
    stream[i] = replace(stream[i], orders=(replace(stream[i].orders[0], volume=50.0, status="rejected",
                                                   fill_price=None),))
    assert pre_trade_limits(stream, LIMITS).status is Status.PASS


def test_no_orders_or_no_mid_never_pass() -> None:
    assert pre_trade_limits(track(20), LIMITS).status is Status.INCONCLUSIVE
    stream = [replace(d, mid=None, orders=tuple(replace(o, mid=None) for o in d.orders))
              for d in track(20, trades=True)]
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.INCONCLUSIVE and "collar" in v.reason


def test_unusable_limits_or_records_are_errors_naming_the_field() -> None:
    v = pre_trade_limits(track(5, trades=True), replace(LIMITS, max_order_volume=math.nan))
    assert v.status is Status.ERROR and "limits.max_order_volume" in v.reason
    stream = track(5, trades=True)
    i = next(i for i, d in enumerate(stream) if d.orders)
    stream[i] = replace(stream[i], orders=(replace(stream[i].orders[0], volume=-1.0),))
    v = pre_trade_limits(stream, LIMITS)
    assert v.status is Status.ERROR and f"canary decision #{i}" in v.reason and "volume -1.0" in v.reason


# ----------------------------------------------------------------------------- P&L drawdown
def test_a_drawdown_above_the_budget_fails() -> None:
    pnl = [(T0 + i, 20.0 - 7.0 * i) for i in range(100)]  # bleeding 7 USD a second
    v = pnl_drawdown(pnl, 500.0)
    assert v.status is Status.FAIL and v.rollback and v.threshold == 500.0
    assert v.observed == pytest.approx(693.0) and "above the budget 500 USD" in v.reason


def test_a_drawdown_within_the_budget_passes_and_shows_the_difference_to_stable() -> None:
    canary = TrackStream("canary", pnl=tuple((T0 + i, 10.0 * math.sin(i / 5)) for i in range(60)))
    stable = TrackStream("stable", replicas=3, pnl=tuple((T0 + i - 30, 3.0 * i) for i in range(200)))
    v = pnl_drawdown(canary, 500.0, stable=stable)
    assert v.status is Status.PASS and v.observed < 20 and "shown, not judged" in v.reason
    assert "difference_per_replica_usd" in v.evidence[-1].details


def test_pnl_without_samples_or_with_nan_never_passes() -> None:
    assert pnl_drawdown([], 500.0).status is Status.INCONCLUSIVE
    assert pnl_drawdown([(T0, 1.0)], 500.0).status is Status.INCONCLUSIVE
    v = pnl_drawdown([(T0, 1.0), (T0 + 1, math.nan)], 500.0)
    assert v.status is Status.ERROR and "sample #1" in v.reason and "pnl_usd nan" in v.reason
    assert pnl_drawdown([(T0, 1.0), (T0 + 1, 2.0)], -5.0).status is Status.ERROR


# ----------------------------------------------------------------------------- closed market
def test_a_closed_market_is_inconclusive_naming_the_cause() -> None:
    canary, stable = TrackStream("canary", tuple(track(50))), TrackStream("stable", tuple(track(50, pods=3)))
    v = trading_evidence(canary, stable, min_bars=20, market_open=False)
    assert v.status is Status.INCONCLUSIVE and "market closed" in v.reason
    v = trading_evidence(canary, stable, min_bars=20, now=T0 + 600, max_gap_s=30)
    assert v.status is Status.INCONCLUSIVE and "no bars since" in v.reason
    v = trading_evidence(TrackStream("canary", tuple(track(5))), stable, min_bars=20)
    assert v.status is Status.INCONCLUSIVE and "too few bars: canary 10" in v.reason
    v = trading_evidence(canary, stable, min_bars=20, now=T0 + 30, max_gap_s=30)
    assert v.status is Status.PASS and v.observed == 100 and v.threshold == 20


def test_exposure_is_bars_or_traffic_share_times_duration() -> None:
    own = TrackStream("canary", tuple(track(10, pods=2)))
    assert own.exposure(60.0) == 40.0  # 10 bars x 2 symbols x 2 pods
    clients = TrackStream("canary", tuple(track(10)), traffic_share=0.1)
    assert clients.exposure(60.0) == pytest.approx(6.0)
