"""The bot's "AI/ML" signal model: small, fixed and deterministic.

Release checks compare a signal across replicas, versions and retries, so the answer must
depend only on the symbol and the current minute: a synthetic price series indexed by the
minute since the epoch (smooth cycles plus hash-based noise — no random state), moving-
average features over its last hour, and a logistic model with fixed weights. Same minute,
same answer, in every process.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

MODEL_VERSION = "logit-ma-1.0"

# Supported symbols: base price and the size of their daily swing.
SYMBOLS: dict[str, tuple[float, float]] = {
    "XAUUSD": (2350.0, 18.0),
    "XAGUSD": (29.5, 0.35),
}

# Fixed weights of the logistic model over (ma-gap, momentum, volatility).
_WEIGHTS = (900.0, 450.0, -120.0)
_BIAS = 0.0
_BUY_ABOVE = 0.6
_SELL_BELOW = 0.4
_SHORT, _LONG, _MOMENTUM = 5, 20, 10
_HISTORY = 60


class UnknownSymbolError(ValueError):
    """The model only knows the symbols in :data:`SYMBOLS`."""


@dataclass(frozen=True)
class Signal:
    symbol: str
    signal: str
    confidence: float
    price: float
    model_version: str
    as_of: str

    def as_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "signal": self.signal,
            "confidence": self.confidence,
            "price": self.price,
            "model_version": self.model_version,
            "as_of": self.as_of,
        }


def _noise(symbol: str, minute: int) -> float:
    """Deterministic noise in [-1, 1): a 64-bit integer mix of symbol and minute."""
    x = (minute * 0x9E3779B97F4A7C15 + sum(map(ord, symbol)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & (2**64 - 1)
    x ^= x >> 31
    return (x / 2**63) - 1.0


def price_at(symbol: str, minute: int) -> float:
    """Synthetic mid price of ``symbol`` at ``minute`` (minutes since the Unix epoch)."""
    if symbol not in SYMBOLS:
        raise UnknownSymbolError(symbol)
    base, swing = SYMBOLS[symbol]
    cycles = (
        swing * math.sin(2 * math.pi * minute / 1440)
        + 0.45 * swing * math.sin(2 * math.pi * minute / 97)
        + 0.2 * swing * math.sin(2 * math.pi * minute / 13.7)
    )
    return round(base + cycles + 0.05 * swing * _noise(symbol, minute), 2)


def current_minute(now: dt.datetime | None = None) -> int:
    moment = now or dt.datetime.now(dt.UTC)
    return int(moment.timestamp() // 60)


def features(symbol: str, minute: int) -> tuple[float, float, float]:
    """(short/long moving-average gap, momentum, volatility), all relative to price."""
    history = [price_at(symbol, minute - i) for i in range(_HISTORY - 1, -1, -1)]
    last = history[-1]
    short = sum(history[-_SHORT:]) / _SHORT
    long = sum(history[-_LONG:]) / _LONG
    momentum = (last - history[-1 - _MOMENTUM]) / last
    returns = [(b - a) / a for a, b in itertools.pairwise(history)]
    mean = sum(returns) / len(returns)
    volatility = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
    return (short - long) / last, momentum, volatility


def predict(symbol: str, minute: int) -> Signal:
    """The signal for ``symbol`` during ``minute``; raises :class:`UnknownSymbolError`."""
    if symbol not in SYMBOLS:
        raise UnknownSymbolError(symbol)
    z = _BIAS + sum(w * x for w, x in zip(_WEIGHTS, features(symbol, minute), strict=True))
    p_up = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
    if p_up >= _BUY_ABOVE:
        side, confidence = "BUY", p_up
    elif p_up <= _SELL_BELOW:
        side, confidence = "SELL", 1.0 - p_up
    else:
        side, confidence = "HOLD", 1.0 - abs(p_up - 0.5) * 2
    as_of = dt.datetime.fromtimestamp(minute * 60, dt.UTC).isoformat().replace("+00:00", "Z")
    return Signal(symbol, side, round(confidence, 4), price_at(symbol, minute), MODEL_VERSION,
                  as_of)
