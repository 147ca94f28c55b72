"""Pre-trade limits: the hard guards of EU RTS 6 Art. 15, checked on every canary order.

No statistics and no waiting: an order above the volume limit is a breach the first time
it is sent, and the canary's trading must stop (rollback, kill switch first). The controls,
each from the environment's ``trading.limits``:

* max order volume (lots);
* max notional: volume x contract size (units per lot: XAUUSD 100 oz) x price (the order's
  limit price, else the bar's mid), in USD;
* price collar: ``|limit price - mid| / mid`` in basis points, around the mid of the bar the
  order was placed on;
* net position: the signed position per pod and symbol, starting from the position at the
  phase's start plus every earlier fill, *as it would be if this order filled* (a pre-trade
  check), and any position the bot reports;
* message rate: orders sent by one pod in any 60-second window (rejected orders count: they
  are messages).

Orders are checked in the order they were sent; the verdict names the FIRST breach (order,
value, limit) and counts the others. Rejected orders never reached the market and are held
only to the message rate. PASS needs at least one order checked on every control (an order
without a mid cannot be held to the collar: INCONCLUSIVE naming it).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.records import Decision, Order, TrackStream, TradingLimits, problems
from goldgate.verdict import Evidence, Verdict

__all__ = ["LIMITS", "Breach", "find_breaches", "pre_trade_limits"]

LIMITS = "pre-trade limits (EU RTS 6 Art. 15)"
WINDOW_S = 60.0


@dataclass(frozen=True)
class Breach:
    """One control an order broke: what, by how much, against which limit."""

    control: str
    order_id: str
    symbol: str
    source: str
    value: float
    limit: float
    unit: str
    at: float

    def sentence(self) -> str:
        pod = f" from {self.source}" if self.source else ""
        return (f"order {self.order_id} ({self.symbol}{pod}, sent at {self.at:g}): {self.control} "
                f"{self.value:.6g}{self.unit} is above the limit {self.limit:.6g}{self.unit}")


def _sent(decisions: Sequence[Decision]) -> list[tuple[float, int, Decision, Order]]:
    rows = []
    for d in decisions:
        for o in d.orders:
            rows.append((o.placed_at or d.bar_time, len(rows), d, o))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def find_breaches(decisions: Sequence[Decision], limits: TradingLimits,
                  start_position: Mapping[str, float] | None = None) -> tuple[list[Breach], dict[str, int]]:
    """Every breach in the order sent, and how many orders each control checked."""
    breaches: list[Breach] = []
    checked = {"volume": 0, "notional": 0, "collar": 0, "position": 0, "message rate": 0}
    position: dict[tuple[str, str], float] = defaultdict(float)
    sent: dict[str, deque[float]] = defaultdict(deque)
    start = dict(start_position or {})
    for at, _, d, o in _sent(decisions):
        key = (d.source, d.symbol)
        if key not in position:
            position[key] = float(start.get(d.symbol, 0.0))
        window = sent[d.source]
        window.append(at)
        while window and window[0] <= at - WINDOW_S:
            window.popleft()
        checked["message rate"] += 1
        if len(window) > limits.max_orders_per_minute:
            breaches.append(Breach("message rate (orders in 60 s)", o.order_id, d.symbol, d.source,
                                   float(len(window)), limits.max_orders_per_minute, "", at))
        if o.status == "rejected":
            continue
        checked["volume"] += 1
        if o.volume > limits.max_order_volume:
            breaches.append(Breach("order volume", o.order_id, d.symbol, d.source, o.volume,
                                   limits.max_order_volume, " lots", at))
        mid = o.mid if o.mid is not None else d.mid
        price = o.limit_price if o.limit_price is not None else mid
        if price is not None:
            checked["notional"] += 1
            notional = o.volume * limits.size_of(d.symbol) * price
            if notional > limits.max_notional_usd:
                breaches.append(Breach("notional", o.order_id, d.symbol, d.source, notional,
                                       limits.max_notional_usd, " USD", at))
        if mid is not None and o.limit_price is not None:
            checked["collar"] += 1
            bps = abs(o.limit_price - mid) / mid * 1e4
            if bps > limits.price_collar_bps:
                breaches.append(Breach("price collar (distance from the bar's mid)", o.order_id, d.symbol,
                                       d.source, bps, limits.price_collar_bps, " bps", at))
        elif o.limit_price is None:
            checked["collar"] += 1  # a market order has no price to collar
        checked["position"] += 1
        would = position[key] + o.signed_volume
        if abs(would) > limits.max_position_lots:
            breaches.append(Breach("net position if filled", o.order_id, d.symbol, d.source, abs(would),
                                   limits.max_position_lots, " lots", at))
        if o.status == "filled":
            position[key] = would
    return breaches, checked


@criterion(needs="at least one canary order, every order with a usable record (side, volume, prices), each "
                 "control checked on at least one order, and no breach")
def pre_trade_limits(
    canary: TrackStream | Sequence[Decision],
    limits: TradingLimits,
    *,
    start_position: Mapping[str, float] | None = None,
    criterion: str = LIMITS,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) on the first order that breaks a pre-trade control, naming it."""
    kw: dict[str, Any] = {"rollback": rollback, "evidence": tuple(evidence)}
    if not isinstance(limits, TradingLimits) or limits.problem():
        what = limits.problem() if isinstance(limits, TradingLimits) else f"not limits: {type(limits).__name__}"
        return Verdict.error(criterion, f"unusable limits: {what}", **kw)
    try:
        decisions = canary.decisions if isinstance(canary, TrackStream) else tuple(canary)
    except TypeError:
        return Verdict.error(criterion, f"unusable decision record: not a list ({type(canary).__name__})", **kw)
    bad = problems(decisions, track="canary")
    if bad:
        return Verdict.error(criterion, f"unusable decision record: {bad[0]}", **kw)
    reported = canary.positions if isinstance(canary, TrackStream) else {}
    start = start_position or {}
    for name, mapping in (("start_position", start), ("reported position", reported)):
        for symbol, lots in mapping.items():
            if not (isinstance(lots, int | float) and not isinstance(lots, bool) and math.isfinite(lots)):
                return Verdict.error(criterion, f"unusable {name}: {symbol} {lots!r} is not a number of lots", **kw)
    breaches, checked = find_breaches(decisions, limits, start)
    for symbol, lots in sorted(reported.items()):
        if abs(lots) > limits.max_position_lots:
            breaches.append(Breach("reported net position", "(position)", symbol, "", abs(lots),
                                   limits.max_position_lots, " lots", math.inf))
    orders = sum(len(d.orders) for d in decisions)
    details = {"orders": orders, "checked": checked, "breaches": len(breaches),
               "limits": {"max_order_volume": limits.max_order_volume, "max_notional_usd": limits.max_notional_usd,
                          "price_collar_bps": limits.price_collar_bps,
                          "max_position_lots": limits.max_position_lots,
                          "max_orders_per_minute": limits.max_orders_per_minute},
               "first_breaches": [vars(b) | {"at": None if math.isinf(b.at) else b.at} for b in breaches[:5]]}
    kw["evidence"] = (*kw["evidence"], Evidence("canary orders", "pre-trade controls in the order sent", None,
                                                orders, details))
    if breaches:
        b = breaches[0]
        worse = {x.order_id for x in breaches} - {b.order_id}
        others = f"; {len(worse)} more orders in breach after it" if worse else ""
        return Verdict.failed(criterion, b.value, b.limit, f"{b.sentence()}{others} (of {orders} canary orders)",
                              unit=b.unit.strip(), **kw)
    if orders == 0:
        return Verdict.inconclusive(criterion, "no canary orders to check against the pre-trade limits yet", **kw)
    unchecked = [name for name, n in checked.items() if n == 0]
    if unchecked:
        return Verdict.inconclusive(
            criterion, f"{orders} canary orders within the limits, but no order could be held to: "
                       f"{', '.join(unchecked)} (orders without a mid or limit price, or all rejected)", **kw)
    largest = max((o.volume for d in decisions for o in d.orders if o.status != "rejected"), default=0.0)
    return Verdict.passed(criterion, largest, limits.max_order_volume,
                          f"largest order {largest:g} lots; all {orders} canary orders within the pre-trade limits (volume <= "
                          f"{limits.max_order_volume:g} lots, notional <= {limits.max_notional_usd:g} USD, collar <= "
                          f"{limits.price_collar_bps:g} bps, position <= {limits.max_position_lots:g} lots, <= "
                          f"{limits.max_orders_per_minute:g} orders per minute)", unit="lots", **kw)
