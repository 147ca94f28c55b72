"""What the trading criteria read: a bot's decisions and orders, one track at a time.

The probes (the decision record ``GET /api/v1/decisions`` or the ``trading:`` metrics of the
environment) turn a team's bot's answer into these plain, frozen records; the criteria never
see JSON, field names or URLs. One *track* is every pod of one version (canary or stable):
its decisions on every bar and symbol, in bar order. Times are seconds since the Unix epoch.

Nothing here decides. :func:`problems` lists what makes a record unusable (a NaN bar time,
an unknown signal, a negative volume...) so each criterion can answer ERROR naming the record
and the field instead of computing on garbage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "SIDES",
    "SIGNALS",
    "Decision",
    "Order",
    "TrackStream",
    "TradingLimits",
    "problems",
]

SIGNALS = ("BUY", "SELL", "HOLD")
SIDES = ("BUY", "SELL")
#: statuses of the contract's decision record; ``rejected`` orders never reached the market
STATUSES = ("open", "filled", "cancelled", "rejected", "expired")


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Order:
    """One paper order as the bot recorded it. ``mid`` is the market mid of the bar it was
    placed on (the price collar's reference); ``placed_at`` when it was sent (epoch s)."""

    order_id: str
    side: str
    volume: float
    limit_price: float | None
    status: str
    fill_price: float | None = None
    mid: float | None = None
    placed_at: float = 0.0
    reject_reason: str | None = None

    @property
    def signed_volume(self) -> float:
        return self.volume if self.side == "BUY" else -self.volume


@dataclass(frozen=True)
class Decision:
    """One bot decision: bar (its start, epoch s), symbol, signal, the orders it placed.

    ``source`` names the pod that decided (empty when the record does not say): every pod of
    a track decides on every bar, and per-instance limits (position, message rate) are per pod.
    """

    bar_time: float
    symbol: str
    signal: str
    orders: tuple[Order, ...] = ()
    mid: float | None = None
    model_version: str = ""
    confidence: float | None = None
    source: str = ""

    @property
    def key(self) -> tuple[float, str]:
        """What pairs a canary decision with the stable version's: the bar and the symbol."""
        return (self.bar_time, self.symbol)


@dataclass(frozen=True)
class TrackStream:
    """Everything one track (canary or stable) showed during a phase.

    ``replicas`` is how many pods decided (trades per bar per replica); ``traffic_share`` the
    track's share of client traffic where orders come from clients (``None``: the bot trades on
    its own, and its exposure is the bars it decided on); ``pnl`` the mark-to-market P&L samples
    ``(epoch s, USD)`` since the track started trading; ``positions`` the last reported signed
    net position per symbol (lots); ``halted`` the kill switch as last reported.
    """

    track: str
    decisions: tuple[Decision, ...] = ()
    replicas: int = 1
    traffic_share: float | None = None
    pnl: tuple[tuple[float, float], ...] = ()
    positions: Mapping[str, float] = field(default_factory=dict)
    halted: bool | None = None

    @property
    def orders(self) -> tuple[Order, ...]:
        return tuple(o for d in self.decisions for o in d.orders)

    @property
    def bars(self) -> int:
        """Decisions taken (one per pod, bar and symbol): the exposure of a self-trading bot."""
        return len(self.decisions)

    def exposure(self, duration_s: float) -> float:
        """What the track had the chance to trade on over ``duration_s``: its bars decided by all
        pods (trades per bar per replica) or, where orders come from clients, its traffic share
        times the duration (the trade-rate test's exposure)."""
        if self.traffic_share is None:
            return float(self.bars)
        return float(self.traffic_share) * float(duration_s)


@dataclass(frozen=True)
class TradingLimits:
    """The pre-trade controls EU RTS 6 Art. 15 names, as the environment's ``trading.limits``.

    ``contract_size`` is units of the underlying per lot by symbol (XAUUSD: 100 oz); a symbol
    not listed uses ``default_contract_size``. ``max_orders_per_minute`` counts every order sent
    (rejected ones too: they are messages) in any 60-second window, per pod.
    """

    max_order_volume: float
    max_notional_usd: float
    price_collar_bps: float
    max_position_lots: float
    max_orders_per_minute: float
    contract_size: Mapping[str, float] = field(default_factory=lambda: {"XAUUSD": 100.0, "XAGUSD": 5000.0})
    default_contract_size: float = 100.0

    def size_of(self, symbol: str) -> float:
        return float(self.contract_size.get(symbol, self.default_contract_size))

    def problem(self) -> str:
        for name in ("max_order_volume", "max_notional_usd", "price_collar_bps", "max_position_lots",
                     "max_orders_per_minute", "default_contract_size"):
            value = getattr(self, name)
            if not _finite(value) or value <= 0:
                return f"limits.{name} must be a positive finite number, got {value!r}"
        for symbol, size in self.contract_size.items():
            if not _finite(size) or size <= 0:
                return f"limits.contract_size[{symbol!r}] must be a positive finite number, got {size!r}"
        return ""


def _order_problem(o: object, where: str) -> str:
    if not isinstance(o, Order):
        return f"{where}: not an order ({type(o).__name__})"
    w = f"{where} order {o.order_id!r}"
    if not isinstance(o.order_id, str) or not o.order_id:
        return f"{where}: order without an order_id"
    if o.side not in SIDES:
        return f"{w}: side {o.side!r} is not one of {', '.join(SIDES)}"
    if not _finite(o.volume) or o.volume <= 0:
        return f"{w}: volume {o.volume!r} is not a positive number"
    if o.status not in STATUSES:
        return f"{w}: status {o.status!r} is not one of {', '.join(STATUSES)}"
    for name in ("limit_price", "fill_price", "mid"):
        value = getattr(o, name)
        if value is not None and (not _finite(value) or value <= 0):
            return f"{w}: {name} {value!r} is not a positive price"
    if o.status == "filled" and o.fill_price is None:
        return f"{w}: filled without a fill_price"
    if not _finite(o.placed_at) or o.placed_at < 0:
        return f"{w}: placed_at {o.placed_at!r} is not a time"
    return ""


def problems(decisions: Iterable[object], *, track: str = "", limit: int = 1) -> list[str]:
    """What makes records unusable, one line each naming the record and the field (at most
    ``limit`` lines: the first problem is what a reader needs)."""
    out: list[str] = []
    prefix = f"{track} " if track else ""
    try:
        items: Sequence[object] = tuple(decisions)
    except TypeError:
        return [f"{prefix}decisions are not a list ({type(decisions).__name__})"]
    for i, d in enumerate(items):
        where = f"{prefix}decision #{i}"
        if not isinstance(d, Decision):
            out.append(f"{where}: not a decision ({type(d).__name__})")
        elif not _finite(d.bar_time) or d.bar_time < 0:
            out.append(f"{where}: bar_time {d.bar_time!r} is not a time")
        elif not isinstance(d.symbol, str) or not d.symbol:
            out.append(f"{where}: symbol {d.symbol!r} is empty")
        elif d.signal not in SIGNALS:
            out.append(f"{where} ({d.symbol} bar {d.bar_time:g}): signal {d.signal!r} is not one of "
                       f"{', '.join(SIGNALS)}")
        elif d.mid is not None and (not _finite(d.mid) or d.mid <= 0):
            out.append(f"{where} ({d.symbol} bar {d.bar_time:g}): mid {d.mid!r} is not a positive price")
        elif not isinstance(d.orders, tuple | list):
            out.append(f"{where}: orders is not a list ({type(d.orders).__name__})")
        else:
            for o in d.orders:
                problem = _order_problem(o, f"{where} ({d.symbol} bar {d.bar_time:g})")
                if problem:
                    out.append(problem)
                    break
        if len(out) >= limit:
            break
    return out
