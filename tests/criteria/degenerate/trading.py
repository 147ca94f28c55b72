"""Degenerate inputs of the trading canary's criteria: no bars, one track missing, thin
phases, NaN/inf/negative numbers, malformed decisions and orders, unusable limits."""

from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType

from hypothesis import strategies as st

from goldgate.config import TradingSettings
from goldgate.criteria.trading import (
    AgreementPlan,
    AgreementState,
    Decision,
    Order,
    OrderRejects,
    RejectPlan,
    RejectState,
    SignalAgreement,
    TrackStream,
    TradeRate,
    TradeRatePlan,
    TradeRateState,
    TradingLimits,
)
from goldgate.criteria.trading.triggers import TradingTriggers

PLAN = AgreementPlan()
RATE = TradeRatePlan()
REJ = RejectPlan()
LIMITS = TradingLimits(max_order_volume=1.0, max_notional_usd=250_000, price_collar_bps=50, max_position_lots=3.0,
                       max_orders_per_minute=120)
NOT_A_NUMBER = st.sampled_from([math.nan, math.inf, -math.inf, -1.0])
SIGNAL = st.sampled_from(["BUY", "SELL", "HOLD"])


def _order(i: int, side: str = "BUY", **kw: object) -> Order:
    base = {"order_id": f"o-{i}", "side": side, "volume": 0.1, "limit_price": 2350.5, "status": "filled",
            "fill_price": 2350.4, "mid": 2350.0, "placed_at": 1_000.0 + i}
    return Order(**(base | kw))  # type: ignore[arg-type]


def _decision(i: int, signal: str = "BUY", symbol: str = "XAUUSD", orders: tuple = (), **kw: object) -> Decision:
    return Decision(**({"bar_time": 1_000.0 + i, "symbol": symbol, "signal": signal, "orders": orders,
                        "mid": 2350.0} | kw))  # type: ignore[arg-type]


def _stream(n: int, signal: str = "BUY") -> list[Decision]:
    return [_decision(i, signal) for i in range(n)]


BAD_ORDERS = st.sampled_from([
    {"volume": math.nan}, {"volume": -0.1}, {"volume": 0.0}, {"volume": math.inf}, {"side": "HOLD"},
    {"side": ""}, {"status": "weird"}, {"limit_price": math.nan}, {"limit_price": -1.0}, {"mid": math.inf},
    {"placed_at": math.nan}, {"order_id": ""}, {"status": "filled", "fill_price": None},
])
BAD_DECISIONS = st.one_of(
    st.sampled_from([{"bar_time": math.nan}, {"bar_time": math.inf}, {"bar_time": -1.0}, {"signal": "FLIP"},
                     {"signal": ""}, {"symbol": ""}, {"mid": math.nan}, {"mid": -2.0}]),
    BAD_ORDERS.map(lambda o: {"orders": (_order(0, **o),)}),
)


def _malformed() -> st.SearchStrategy[list]:
    """A mostly fine stream with one unusable record (or a non-record) somewhere in it."""
    def build(args: tuple) -> list:
        n, at, bad = args
        items: list = _stream(n)
        items.insert(min(at, n), _decision(at, **bad) if isinstance(bad, dict) else bad)
        return items
    # A raw mapping is a record that is not a Decision (a dict would be read as the fields of one).
    junk = st.sampled_from([None, "BUY", 42, MappingProxyType({"bar_time": 1.0})])
    return st.tuples(st.integers(0, 60), st.integers(0, 60), st.one_of(BAD_DECISIONS, junk)).map(build)


def _agreement_inputs() -> st.SearchStrategy[tuple[list, list]]:
    healthy = st.integers(100, 300).map(_stream)
    thin = st.integers(0, 15).map(_stream)
    return st.one_of(
        st.tuples(st.just([]), st.just([])),                       # market closed: no bars at all
        st.tuples(st.just([]), healthy), st.tuples(healthy, st.just([])),  # one track missing
        st.tuples(thin, thin),                                      # too few paired bars
        st.tuples(_malformed(), healthy), st.tuples(healthy, _malformed()),
        # the tracks decided on different bars: nothing pairs
        st.integers(50, 200).map(lambda n: (_stream(n), [_decision(i + 10_000) for i in range(n)])),
    )


def _agreement_states() -> st.SearchStrategy[AgreementState]:
    fed = _agreement_inputs().map(lambda a: SignalAgreement(PLAN).observe(*a))
    garbage = st.sampled_from([
        AgreementState(PLAN, pairs=10, disagreements=11),
        AgreementState(PLAN, pairs=-5, disagreements=0),
        AgreementState(PLAN, pairs=500, disagreements=-1),
        AgreementState(PLAN, pairs=500, disagreements=0, problem="canary decision #3: bar_time nan is not a time"),
        AgreementState(PLAN, pairs=True, disagreements=False),  # type: ignore[arg-type]
    ])
    return st.one_of(fed, garbage, st.just("not a state"))


def _rate_states() -> st.SearchStrategy[TradeRateState]:
    def fed(polls: list[tuple[int, float, int, float]]) -> TradeRateState:
        t = TradeRate(RATE)
        for p in polls:
            t.observe(*p)
        return t.state
    poll = st.tuples(st.integers(0, 2), st.floats(0, 10), st.integers(0, 2), st.floats(0, 10))
    closed = st.lists(st.tuples(st.just(0), st.just(0.0), st.just(0), st.just(0.0)), max_size=5).map(fed)
    thin = st.lists(poll, max_size=4).map(fed)
    no_stable = st.lists(st.tuples(st.integers(0, 20), st.just(5.0), st.just(0), st.just(5.0)), max_size=20).map(fed)
    no_canary_bars = st.lists(st.tuples(st.just(0), st.just(0.0), st.integers(0, 20), st.just(5.0)),
                              max_size=20).map(fed)
    garbage = st.one_of(
        NOT_A_NUMBER.map(lambda x: replace(TradeRateState(RATE), polls=3, canary_orders=30, stable_orders=30,
                                           canary_exposure=x, stable_exposure=10.0)),
        st.just(replace(TradeRateState(RATE), polls=3, canary_orders=-30, stable_orders=30, canary_exposure=10.0,
                        stable_exposure=10.0)),
        st.just(replace(TradeRateState(RATE), polls=3, canary_orders=30, stable_orders=30, canary_exposure=0.0,
                        stable_exposure=10.0)),
        st.just(replace(TradeRateState(RATE), polls=3, canary_orders=300, stable_orders=300, canary_exposure=10.0,
                        stable_exposure=10.0, loglik=(math.nan,) * len(RATE.ratios()))),
        st.just(replace(TradeRateState(RATE), polls=3, canary_orders=300, stable_orders=300, canary_exposure=10.0,
                        stable_exposure=10.0, loglik=(0.0,))),
    )
    return st.one_of(closed, thin, no_stable, no_canary_bars, garbage, st.just(None))


def _reject_states() -> st.SearchStrategy[RejectState]:
    def fed(polls: list[tuple[int, int, int, int]]) -> RejectState:
        t = OrderRejects(REJ)
        for rc, oc, rs, os_ in polls:
            t.observe(min(rc, oc), oc, min(rs, os_), os_)
        return t.state
    thin = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 2), st.integers(0, 3)),
                    max_size=10).map(fed)
    one_side = st.lists(st.tuples(st.just(0), st.integers(0, 20), st.just(0), st.just(0)), max_size=20).map(fed)
    garbage = st.sampled_from([
        replace(RejectState(REJ), polls=5, canary_rejects=10, canary_orders=5, stable_orders=100),
        replace(RejectState(REJ), polls=5, canary_rejects=-1, canary_orders=500, stable_orders=1000),
        replace(RejectState(REJ), polls=5, canary_orders=500, stable_orders=1000, log_wealth=(math.nan,) * 5),
        replace(RejectState(REJ), polls=5, canary_orders=500, stable_orders=1000, log_wealth=(0.0,)),
    ])
    return st.one_of(thin, one_side, garbage, st.just(3))


def _limit_cases() -> st.SearchStrategy[tuple[tuple, dict]]:
    fine = st.integers(1, 30).map(lambda n: [_decision(i, orders=(_order(i, "BUY" if i % 2 else "SELL"),))
                                             for i in range(n)])
    empty = st.sampled_from([[], _stream(20)])  # no orders at all
    bad_limits = st.tuples(st.sampled_from(["max_order_volume", "max_notional_usd", "price_collar_bps",
                                            "max_position_lots", "max_orders_per_minute"]),
                           st.sampled_from([math.nan, math.inf, 0.0, -1.0])).map(
        lambda a: replace(LIMITS, **{a[0]: a[1]}))
    no_mid = st.integers(1, 10).map(lambda n: [_decision(i, mid=None, orders=(_order(i, mid=None),))
                                               for i in range(n)])
    bad_size = st.just(replace(LIMITS, contract_size={"XAUUSD": math.nan}))
    orders_malformed = _malformed().map(lambda ds: [d if not isinstance(d, Decision) or d.orders else
                                                    replace(d, orders=(_order(i),)) for i, d in enumerate(ds)])
    return st.one_of(
        empty.map(lambda d: ((d, LIMITS), {})),
        st.tuples(fine, bad_limits).map(lambda a: ((a[0], a[1]), {})),
        st.tuples(fine, bad_size).map(lambda a: ((a[0], a[1]), {})),
        no_mid.map(lambda d: ((d, LIMITS), {})),
        orders_malformed.map(lambda d: ((d, LIMITS), {})),
        st.tuples(fine, st.sampled_from([math.nan, math.inf, -math.inf, None, "1"])).map(
            lambda a: ((a[0], LIMITS), {"start_position": {"XAUUSD": a[1]}})),
        st.just(((None, LIMITS), {})),
        st.just(((_stream(3), None), {})),
    )


def _pnl_cases() -> st.SearchStrategy[tuple[tuple, dict]]:
    fine = st.lists(st.floats(-100, 100), min_size=2, max_size=20).map(lambda v: [(float(i), x) for i, x in
                                                                                  enumerate(v)])
    one = st.floats(-100, 100).map(lambda x: [(0.0, x)])
    with_nan = st.tuples(fine, st.sampled_from([math.nan, math.inf, -math.inf]), st.booleans()).map(
        lambda a: [*a[0], (a[1], 1.0) if a[2] else (99.0, a[1])])
    malformed = st.sampled_from([[(1.0,)], [None], ["x"], [(1.0, "5")], [(True, 1.0), (2.0, 1.0)], 7])
    return st.one_of(
        st.just((([], 500.0), {})),
        one.map(lambda s: ((s, 500.0), {})),
        with_nan.map(lambda s: ((s, 500.0), {})),
        malformed.map(lambda s: ((s, 500.0), {})),
        st.tuples(fine, NOT_A_NUMBER).map(lambda a: ((a[0], a[1]), {})),
        st.tuples(fine, st.just(0.0)).map(lambda a: ((a[0], a[1]), {})),
        st.tuples(fine, with_nan).map(lambda a: ((a[0], 500.0), {"stable": a[1]})),
        fine.map(lambda s: ((s, 500.0), {"min_points": 1000})),
    )


def _market_cases() -> st.SearchStrategy[tuple[tuple, dict]]:
    def track(name: str, items: list) -> TrackStream:
        return TrackStream(name, tuple(items))
    healthy = st.integers(30, 80).map(lambda n: track("stable", _stream(n)))
    thin = st.integers(0, 19).map(lambda n: track("canary", _stream(n)))
    return st.one_of(
        st.tuples(thin, healthy).map(lambda a: (a, {"min_bars": 20})),
        st.tuples(healthy, thin).map(lambda a: (a, {"min_bars": 20})),
        st.tuples(healthy, healthy).map(lambda a: (a, {"min_bars": 20, "market_open": False})),
        st.tuples(healthy, healthy).map(lambda a: (a, {"min_bars": 20, "now": 1e9, "max_gap_s": 10.0})),
        st.tuples(healthy, st.sampled_from([0, -3, True, 1.5])).map(lambda a: ((a[0], a[0]), {"min_bars": a[1]})),
        st.tuples(_malformed().map(lambda d: track("canary", d)), healthy).map(lambda a: (a, {"min_bars": 20})),
        healthy.map(lambda h: ((None, h), {"min_bars": 20})),
        st.just(((track("canary", []), None), {"min_bars": 20})),
    )


CASES = {
    "trading.agreement.signal_agreement": _agreement_states().map(lambda s: ((s,), {})),
    "trading.agreement.signal_agreement_of": _agreement_inputs().map(lambda a: ((a[0], a[1], PLAN), {})),
    "trading.rates.trade_rate": _rate_states().map(lambda s: ((s,), {})),
    "trading.rejects.order_rejects": _reject_states().map(lambda s: ((s,), {})),
    "trading.limits.pre_trade_limits": _limit_cases(),
    "trading.pnl.pnl_drawdown": _pnl_cases(),
    "trading.market.trading_evidence": _market_cases(),
}


def _triggers_cases() -> st.SearchStrategy:
    """The trading triggers of one evaluation on empty or thin records, alone or beside a stable track."""
    def call(n: int, with_stable: bool) -> tuple:
        canary = TrackStream(track="canary", decisions=tuple(_stream(n)))
        stable = TrackStream(track="stable", decisions=tuple(_stream(n))) if with_stable else None
        return ((TradingTriggers(TradingSettings(), max_gap_s=60.0), canary, stable), {"now": 1_000.0 + n})

    return st.tuples(st.integers(0, 3), st.booleans()).map(lambda a: call(*a))


CASES["trading.triggers.TradingTriggers.judge"] = _triggers_cases()
CASES["trading.triggers.records_unreadable"] = st.tuples(st.text(max_size=40), st.booleans()).map(
    lambda a: ((a[0],), {"with_stable": a[1]}))
