"""The bot's "AI/ML" signal model: small, fixed and deterministic.

Release checks compare a signal across replicas, versions and retries, so the answer must
depend only on the symbol and the current minute: a synthetic price series indexed by the
minute since the epoch (smooth cycles plus hash-based noise — no random state), moving-
average features over its last hour, and a logistic model with fixed weights. Same minute,
same answer, in every process.

The decision loop feeds the same model the closes a market bar carries
(:func:`signal_from_history`), so a decision depends only on the bar. :data:`MODELS` holds
every model version a build can select (``BOT_MODEL``): ``logit-ma-1.0`` is the released
model; ``logit-ma-1.1`` is a legitimately retrained one whose weights and thresholds moved a
little, so it agrees with 1.0 on about 97 % of the feed's bars (measured in
tests/bot/test_bot_model.py) — the deliberate model change a signal-agreement check must
let through when the release states it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

MODEL_VERSION = "logit-ma-1.0"

# Supported symbols: base price and the size of their daily swing.
SYMBOLS: dict[str, tuple[float, float]] = {
    "XAUUSD": (2350.0, 18.0),
    "XAGUSD": (29.5, 0.35),
}



@dataclass(frozen=True)
class Weights:
    """One model version: logistic weights over (ma-gap, momentum, volatility) and the
    probability thresholds above/below which it says BUY/SELL."""

    weights: tuple[float, float, float]
    bias: float
    buy_above: float
    sell_below: float


MODELS: dict[str, Weights] = {
    MODEL_VERSION: Weights((900.0, 450.0, -120.0), 0.0, 0.6, 0.4),
    "logit-ma-1.1": Weights((830.0, 490.0, -150.0), 0.02, 0.615, 0.39),
}
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
    return features_from([price_at(symbol, minute - i) for i in range(_HISTORY - 1, -1, -1)])


def features_from(history: Sequence[float]) -> tuple[float, float, float]:
    """The features of a price history (oldest first, at least :data:`_LONG` + 1 prices)."""
    if len(history) <= max(_LONG, _MOMENTUM):
        raise ValueError(f"the model needs more than {max(_LONG, _MOMENTUM)} prices of history")
    last = history[-1]
    short = sum(history[-_SHORT:]) / _SHORT
    long = sum(history[-_LONG:]) / _LONG
    momentum = (last - history[-1 - _MOMENTUM]) / last
    returns = [(b - a) / a for a, b in itertools.pairwise(history)]
    mean = sum(returns) / len(returns)
    volatility = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
    return (short - long) / last, momentum, volatility


def _decide(feats: tuple[float, float, float], version: str) -> tuple[str, float]:
    m = MODELS[version]
    z = m.bias + sum(w * x for w, x in zip(m.weights, feats, strict=True))
    p_up = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
    if p_up >= m.buy_above:
        return "BUY", p_up
    if p_up <= m.sell_below:
        return "SELL", 1.0 - p_up
    return "HOLD", 1.0 - abs(p_up - 0.5) * 2


def signal_from_history(history: Sequence[float], version: str = MODEL_VERSION
                        ) -> tuple[str, float]:
    """(BUY/SELL/HOLD, confidence) of model ``version`` on a price history, oldest first."""
    side, confidence = _decide(features_from(history), version)
    return side, round(confidence, 4)


def predict(symbol: str, minute: int, version: str = MODEL_VERSION) -> Signal:
    """The signal for ``symbol`` during ``minute``; raises :class:`UnknownSymbolError`."""
    if symbol not in SYMBOLS:
        raise UnknownSymbolError(symbol)
    side, confidence = _decide(features(symbol, minute), version)
    as_of = dt.datetime.fromtimestamp(minute * 60, dt.UTC).isoformat().replace("+00:00", "Z")
    return Signal(symbol, side, round(confidence, 4), price_at(symbol, minute), version, as_of)
