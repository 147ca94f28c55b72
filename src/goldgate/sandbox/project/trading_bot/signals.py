"""Moving-average crossover signal over a price series.

The live model scores the same features; this module keeps the decision rule small and
deterministic so it can be tested bar by bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean


@dataclass(frozen=True)
class Signal:
    action: str  # BUY, SELL or HOLD
    confidence: float


def moving_average(prices: list[float], window: int) -> float:
    if window <= 0:
        raise ValueError("window must be positive")
    if len(prices) < window:
        raise ValueError(f"need {window} prices, got {len(prices)}")
    return fmean(prices[-window:])


def crossover(prices: list[float], short: int = 5, long: int = 20, band: float = 0.0005) -> Signal:
    """BUY when the short average is above the long one by more than ``band`` (relative)."""
    fast = moving_average(prices, short)
    slow = moving_average(prices, long)
    gap = (fast - slow) / slow
    confidence = min(1.0, abs(gap) / (band * 10))
    if gap > band:
        return Signal("BUY", round(confidence, 3))
    if gap < -band:
        return Signal("SELL", round(confidence, 3))
    return Signal("HOLD", round(confidence, 3))
