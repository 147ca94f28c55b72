"""The bot's trading desk: decisions per bar, paper limit orders, its own risk limit, the
kill switch, and the decision record ``/api/v1/decisions`` serves.

Per bar and symbol (:meth:`TradingDesk.on_bar`), in this order:

1. **settle** the orders resting since an earlier bar: a BUY fills when the bar traded at or
   below its limit, a SELL at or above; the fill is at the limit, worse by
   ``FAULT_FILL_SLIPPAGE_BPS``; otherwise the order expires. A filled entry is closed
   ``BOT_HOLD_BARS`` bars later by an exit order (an expired exit is placed again next bar).
2. **decide**: the model's signal (inverted on the ``FAULT_SIGNAL_FLIP`` share of bars).
3. **order**, unless halted: the exits that are due, then on BUY/SELL
   ``FAULT_TRADE_MULTIPLIER`` entries of ``BOT_ORDER_VOLUME`` × ``FAULT_ORDER_SIZE_MULTIPLIER``
   lots — passive limits at the bar's close ∓ half the spread. An entry that would take the
   net position (with the orders still resting) beyond ``BOT_MAX_POSITION_LOTS`` is rejected
   with reason ``position_limit``; exits only reduce risk and are never rejected.

Held positions are closed by time, not by the next opposite signal, so a healthy bot holds
only the last few bars' entries (at most 1.0 lot over two hours of the feed, measured by
bench/trading_bot.py: half its own limit) and never meets its limit: rejects then mean a
fault (too many or too large orders), not a long trend.

The desk runs on the event loop (cheap arithmetic, no I/O); the fills it returns are
written to the database off the loop by the caller.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from goldgate.sandbox.bot.knobs import FaultKnobs
from goldgate.sandbox.bot.ledger import CONTRACTS, PaperLedger
from goldgate.sandbox.bot.metrics import BotMetrics
from goldgate.sandbox.market.bars import Bar, iso_time

OPEN, FILLED, CANCELLED, REJECTED, EXPIRED = "open", "filled", "cancelled", "rejected", "expired"
POSITION_LIMIT = "position_limit"
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = 2**64 - 1
_EPS = 1e-9


def flipped(bar_index: int, symbol: str, fraction: float) -> bool:
    """Whether FAULT_SIGNAL_FLIP inverts this bar: a golden-ratio (Weyl) sequence over the
    bar index, equidistributed, so over n bars the share is ``fraction`` within about 1/n."""
    if fraction <= 0:
        return False
    offset = int.from_bytes(symbol.encode(), "big")
    return ((bar_index * _GOLDEN + offset) & _MASK) / 2**64 < fraction


def parse_time(raw: str) -> float:
    """ISO 8601 (``Z`` or offset; naive means UTC) → epoch seconds; ``ValueError`` if not."""
    moment = dt.datetime.fromisoformat(raw.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


@dataclass(slots=True)
class PaperOrder:
    order_id: str
    symbol: str
    side: str
    volume: float
    limit_price: float | None
    placed_bar: int
    placed_at: float
    purpose: str  # "entry" | "exit" | "client"
    status: str = OPEN
    fill_price: float | None = None
    reject_reason: str | None = None

    @property
    def signed(self) -> float:
        return self.volume if self.side == "BUY" else -self.volume

    def as_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "side": self.side, "volume": self.volume,
                "limit_price": self.limit_price, "status": self.status,
                "fill_price": self.fill_price, "reject_reason": self.reject_reason,
                "placed_at": iso_time(self.placed_at), "purpose": self.purpose}


@dataclass(slots=True)
class Decision:
    bar_start: float
    bar_ms: int
    symbol: str
    signal: str
    model_signal: str
    confidence: float
    model_version: str
    mid: float
    orders: list[PaperOrder] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"bar_time": iso_time(self.bar_start), "symbol": self.symbol,
                "signal": self.signal, "confidence": self.confidence,
                "model_version": self.model_version, "mid": self.mid,
                "orders": [o.as_dict() for o in self.orders]}


@dataclass(slots=True)
class _Holding:
    """A filled entry waiting for its exit bar."""

    due_bar: int
    symbol: str
    side: str  # the exit's side
    volume: float


class TradingDesk:
    def __init__(self, *, knobs: FaultKnobs, ledger: PaperLedger, metrics: BotMetrics,
                 model_version: str, order_volume: float, max_position_lots: float,
                 hold_bars: int, keep: int) -> None:
        self.knobs = knobs
        self.ledger = ledger
        self.metrics = metrics
        self.model_version = model_version
        self.order_volume = order_volume
        self.max_position_lots = max_position_lots
        self.hold_bars = hold_bars
        self.record: deque[Decision] = deque(maxlen=keep)
        self.open_orders: list[PaperOrder] = []
        self.holdings: list[_Holding] = []
        self.halted = False
        self.halt_reason: str | None = None
        self.orders_since_halt = 0
        self.last_mid: dict[str, float] = {}
        self._token = secrets.token_hex(4)
        self._seq = 0
        # The record is read by request handlers while the loop appends; both run on the
        # event loop, but the lock keeps a threadpool reader (if any) consistent too.
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ orders
    def _new_order(self, symbol: str, side: str, volume: float, limit: float | None,
                   bar: int, now: float, purpose: str) -> PaperOrder:
        self._seq += 1
        order = PaperOrder(f"o-{self._token}-{self._seq}", symbol, side, round(volume, 6),
                           limit, bar, now, purpose)
        self.metrics.trading_orders.labels(symbol=symbol, side=side).inc()
        if self.halted:
            self.orders_since_halt += 1
        return order

    def _fill(self, order: PaperOrder, price: float) -> None:
        order.status = FILLED
        order.fill_price = price
        self.ledger.fill(order.symbol, order.side, order.volume, price)
        self.metrics.trading_fills.labels(symbol=order.symbol, side=order.side).inc()
        self.metrics.trades.labels(symbol=order.symbol, side=order.side).inc()

    def _slipped(self, side: str, limit: float) -> float:
        slip = self.knobs.fill_slippage_bps / 10_000
        return round(limit * (1 + slip) if side == "BUY" else limit * (1 - slip), 4)

    def _net_open(self, symbol: str) -> float:
        return sum(o.signed for o in self.open_orders if o.symbol == symbol)

    def record_client_fill(self, symbol: str, side: str) -> None:
        """A client's order (POST /api/v1/orders) filled at once: counted like the loop's."""
        self.metrics.trading_orders.labels(symbol=symbol, side=side).inc()
        self.metrics.trading_fills.labels(symbol=symbol, side=side).inc()
        if self.halted:
            self.orders_since_halt += 1

    # --------------------------------------------------------------- the bar
    def on_bar(self, bar: Bar, model_signal: str, confidence: float, now: float) -> list[PaperOrder]:
        """Settle, decide and order on ``bar``; returns the orders filled now (to store)."""
        with self._lock:
            fills = self._settle(bar)
            signal = model_signal
            if signal != "HOLD" and flipped(bar.index, bar.symbol, self.knobs.signal_flip):
                signal = "SELL" if signal == "BUY" else "BUY"
            decision = Decision(bar.start, round(bar.start * 1000), bar.symbol, signal,
                                model_signal, confidence, self.model_version, bar.close)
            self.last_mid[bar.symbol] = bar.close
            if not self.halted or self.knobs.ignore_kill_switch:
                decision.orders.extend(self._exits(bar, now))
                if signal in ("BUY", "SELL"):
                    decision.orders.extend(self._entries(bar, signal, now))
            self.open_orders.extend(o for o in decision.orders if o.status == OPEN)
            self.record.append(decision)
            self._observe(decision)
        return fills

    def _settle(self, bar: Bar) -> list[PaperOrder]:
        fills: list[PaperOrder] = []
        still: list[PaperOrder] = []
        for order in self.open_orders:
            if order.symbol != bar.symbol or order.placed_bar >= bar.index:
                still.append(order)
                continue
            assert order.limit_price is not None
            touched = (bar.low <= order.limit_price + _EPS if order.side == "BUY"
                       else bar.high >= order.limit_price - _EPS)
            if touched:
                self._fill(order, self._slipped(order.side, order.limit_price))
                fills.append(order)
                if order.purpose == "entry":
                    self.holdings.append(_Holding(order.placed_bar + self.hold_bars, order.symbol,
                                                  "SELL" if order.side == "BUY" else "BUY",
                                                  order.volume))
            else:
                order.status = EXPIRED
                if order.purpose == "exit":  # still holding: try again on this bar
                    self.holdings.append(_Holding(bar.index, order.symbol, order.side,
                                                  order.volume))
        self.open_orders = still
        return fills

    def _limit(self, symbol: str, side: str, mid: float) -> float:
        half_spread = CONTRACTS[symbol][1] / 2
        return round(mid - half_spread if side == "BUY" else mid + half_spread, 2)

    def _exits(self, bar: Bar, now: float) -> list[PaperOrder]:
        due = [h for h in self.holdings if h.symbol == bar.symbol and h.due_bar <= bar.index]
        if not due:
            return []
        self.holdings = [h for h in self.holdings if h not in due]
        return [self._new_order(h.symbol, h.side, h.volume, self._limit(h.symbol, h.side, bar.close),
                                bar.index, now, "exit") for h in due]

    def _entries(self, bar: Bar, side: str, now: float) -> list[PaperOrder]:
        volume = self.order_volume * self.knobs.order_size_multiplier
        orders = []
        for _ in range(self.knobs.trade_multiplier):
            order = self._new_order(bar.symbol, side, volume, self._limit(bar.symbol, side, bar.close),
                                    bar.index, now, "entry")
            pending = self._net_open(bar.symbol) + sum(o.signed for o in orders if o.status == OPEN)
            projected = self.ledger.lots(bar.symbol) + pending + order.signed
            if abs(projected) > self.max_position_lots + _EPS:
                order.status = REJECTED
                order.reject_reason = POSITION_LIMIT
                self.metrics.trading_rejects.labels(symbol=bar.symbol, reason=POSITION_LIMIT).inc()
            orders.append(order)
        return orders

    def _observe(self, decision: Decision) -> None:
        m = self.metrics
        m.trading_bars.labels(symbol=decision.symbol).inc()
        m.trading_signals.labels(symbol=decision.symbol, signal=decision.signal).inc()
        m.trading_open_orders.set(len(self.open_orders))
        m.trading_position.labels(symbol=decision.symbol).set(round(self.ledger.lots(decision.symbol), 6))

    # ----------------------------------------------------------- kill switch
    def halt(self, reason: str | None) -> list[str]:
        """Stop new orders and cancel the resting ones; returns the ids reported cancelled.

        With FAULT_IGNORE_KILL_SWITCH the ids are reported but nothing is cancelled and the
        loop keeps ordering: the faulty bot a rollback must not trust.
        """
        with self._lock:
            if not self.halted:
                self.orders_since_halt = 0
            self.halted = True
            self.halt_reason = reason
            ids = [o.order_id for o in self.open_orders]
            if not self.knobs.ignore_kill_switch:
                for order in self.open_orders:
                    order.status = CANCELLED
                self.open_orders = []
            self.metrics.trading_halted.set(1)
            self.metrics.trading_open_orders.set(len(self.open_orders))
        return ids

    def resume(self) -> None:
        with self._lock:
            self.halted = False
            self.halt_reason = None
            self.metrics.trading_halted.set(0)

    def reported_open_orders(self) -> int:
        """Resting orders as the bot reports them (the kill-switch-ignoring bot says 0)."""
        if self.halted and self.knobs.ignore_kill_switch:
            return 0
        return len(self.open_orders)

    def positions(self, symbols: tuple[str, ...]) -> dict[str, float]:
        return {s: round(self.ledger.lots(s), 6) for s in symbols}

    # ------------------------------------------------------------ the record
    def decisions(self, since: float | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` decisions with bar time after ``since`` (epoch s), oldest first.

        A page never ends inside a bar: the other symbols' decisions of its last bar come
        with it (so ``since`` = the last ``bar_time`` skips none), even beyond ``limit``.
        """
        with self._lock:
            start = 0
            if since is not None:
                since_ms = round(since * 1000)
                start = bisect.bisect_right(self.record, since_ms, key=lambda d: d.bar_ms)
            page = list(itertools.islice(self.record, start, start + limit))
            if page:
                rest = itertools.islice(self.record, start + len(page), None)
                page += itertools.takewhile(lambda d: d.bar_ms == page[-1].bar_ms, rest)
            return [d.as_dict() for d in page]
