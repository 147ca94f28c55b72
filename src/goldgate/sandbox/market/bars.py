"""The replayable bar series: OHLC of bar ``k`` is a pure function of (seed, symbol, k).

Bar ``k`` covers ``[k*bar_s, (k+1)*bar_s)`` seconds since the Unix epoch. Nothing here
keeps state, so the feed server and a bot's in-process fallback produce the very same
bars, and two bot versions reading at the same moment decide on identical inputs — the
premise of comparing a canary's decisions with the stable version's bar by bar.

The close follows a few slow cycles with seeded phases (trends a moving-average model can
read) plus hash noise (the jitter of real M1 bars); the open is the previous close, and
high/low widen the body by a seeded amount. Each bar also carries the closes of the
:data:`HISTORY` bars up to itself, the whole input of the signal model, so a bot's decision
depends on the bar it was served and nothing it remembered.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

#: Bars of history each bar carries (the signal model's look-back).
HISTORY = 60
#: The sandbox's bar period: the guide's M1 bars scaled down to half a second.
DEFAULT_BAR_S = 0.5
DEFAULT_SEED = 42

#: Symbol → (base price, size of its slowest swing), the same levels as the bot's model.
SYMBOLS: dict[str, tuple[float, float]] = {
    "XAUUSD": (2350.0, 18.0),
    "XAGUSD": (29.5, 0.35),
}
#: (period in bars, share of the swing) of the cycles that make the trends.
_CYCLES = ((1440.0, 1.0), (233.0, 0.35), (61.0, 0.16), (17.0, 0.05))
_NOISE = 0.035
_MASK = 2**64 - 1


class UnknownSymbolError(ValueError):
    """The feed only knows the symbols in :data:`SYMBOLS`."""


def _mix(*parts: int) -> int:
    """A 64-bit integer hash (splitmix64 finaliser over the parts): no random state."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (part & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        x ^= x >> 30
        x = (x * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
    return x


def unit(*parts: int) -> float:
    """A deterministic number in [0, 1) from integer parts."""
    return _mix(*parts) / 2**64


def _symbol_id(symbol: str) -> int:
    return int.from_bytes(symbol.encode(), "big")


def close_at(seed: int, symbol: str, k: int) -> float:
    """The close of bar ``k`` (rounded to the cent, as quoted)."""
    try:
        base, swing = SYMBOLS[symbol]
    except KeyError:
        raise UnknownSymbolError(symbol) from None
    sid = _symbol_id(symbol)
    level = base
    for i, (period, share) in enumerate(_CYCLES):
        phase = 2 * math.pi * unit(seed, sid, 1000 + i)
        level += swing * share * math.sin(2 * math.pi * k / period + phase)
    level += swing * _NOISE * (2 * unit(seed, sid, k) - 1)
    return round(level, 2)


@dataclass(frozen=True)
class Bar:
    symbol: str
    index: int
    bar_s: float
    open: float
    high: float
    low: float
    close: float
    #: Closes of bars ``index-HISTORY+1 .. index``, oldest first.
    closes: tuple[float, ...]

    @property
    def start(self) -> float:
        return self.index * self.bar_s

    @property
    def time(self) -> str:
        return iso_time(self.start)

    def as_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "index": self.index, "bar_time": self.time,
                "bar_s": self.bar_s, "open": self.open, "high": self.high, "low": self.low,
                "close": self.close, "closes": list(self.closes)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Bar:
        """The bar a feed served; raises ``KeyError``/``TypeError``/``ValueError`` when malformed."""
        closes = tuple(float(c) for c in data["closes"])  # type: ignore[attr-defined]
        if not closes:
            raise ValueError("a bar without history")
        return cls(str(data["symbol"]), int(data["index"]), float(data["bar_s"]),  # type: ignore[arg-type]
                   float(data["open"]), float(data["high"]), float(data["low"]),  # type: ignore[arg-type]
                   float(data["close"]), closes)  # type: ignore[arg-type]


def iso_time(epoch_s: float) -> str:
    """``2026-12-06T08:30:00.500Z``: the bar time format of the decision record."""
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bar_at(seed: int, symbol: str, k: int, bar_s: float) -> Bar:
    """Bar ``k`` of ``symbol``: OHLC plus the history the model reads."""
    closes = tuple(close_at(seed, symbol, i) for i in range(k - HISTORY + 1, k + 1))
    opened, closed = closes[-2], closes[-1]
    _, swing = SYMBOLS[symbol]
    sid = _symbol_id(symbol)
    wick = swing * _NOISE
    high = round(max(opened, closed) + wick * unit(seed, sid, k, 1), 2)
    low = round(min(opened, closed) - wick * unit(seed, sid, k, 2), 2)
    return Bar(symbol, k, bar_s, opened, high, low, closed, closes)


def last_complete(now: float, bar_s: float) -> int:
    """Index of the newest bar whose period has ended at ``now`` (epoch seconds)."""
    return math.floor(now / bar_s + 1e-9) - 1


def bar_run(seed: int, symbol: str, first: int, count: int, bar_s: float) -> list[Bar]:
    """``count`` consecutive bars from ``first``, equal to :func:`bar_at` of each index but
    computing every close once (replays and benchmarks read thousands of bars)."""
    closes = [close_at(seed, symbol, i) for i in range(first - HISTORY + 1, first + count)]
    _, swing = SYMBOLS[symbol]
    sid = _symbol_id(symbol)
    wick = swing * _NOISE
    out = []
    for j in range(count):
        k = first + j
        window = tuple(closes[j:j + HISTORY])
        opened, closed = window[-2], window[-1]
        out.append(Bar(symbol, k, bar_s, opened,
                       round(max(opened, closed) + wick * unit(seed, sid, k, 1), 2),
                       round(min(opened, closed) - wick * unit(seed, sid, k, 2), 2), closed, window))
    return out
