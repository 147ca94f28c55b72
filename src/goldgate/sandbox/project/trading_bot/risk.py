"""Risk limits: position size from account equity, stop distance and the per-trade risk."""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_OUNCES = 100.0  # one XAUUSD lot is 100 troy ounces


@dataclass(frozen=True)
class RiskLimits:
    risk_per_trade: float = 0.01
    max_lots: float = 5.0
    min_lots: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.risk_per_trade <= 0.05:
            raise ValueError("risk_per_trade must be in (0, 0.05]")
        if not 0 < self.min_lots <= self.max_lots:
            raise ValueError("need 0 < min_lots <= max_lots")


def position_size(equity: float, stop_distance: float, limits: RiskLimits) -> float:
    """Lots such that hitting the stop loses ``risk_per_trade`` of equity, clamped to limits."""
    if equity <= 0:
        raise ValueError("equity must be positive")
    if stop_distance <= 0:
        raise ValueError("stop distance must be positive")
    lots = equity * limits.risk_per_trade / (stop_distance * CONTRACT_OUNCES)
    lots = max(limits.min_lots, min(limits.max_lots, lots))
    return round(lots, 2)


def daily_loss_breached(realised_pnl: float, equity: float, max_daily_loss: float) -> bool:
    """True once the day's realised loss reaches ``max_daily_loss`` of equity."""
    return realised_pnl < 0 and -realised_pnl >= equity * max_daily_loss
