"""Paper orders: validation before anything reaches the ``orders`` table."""

from __future__ import annotations

from dataclasses import dataclass

SYMBOLS = frozenset({"XAUUSD", "XAGUSD"})
SIDES = frozenset({"BUY", "SELL"})


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    volume: float
    client_order_id: str | None = None


def validate(request: OrderRequest) -> list[str]:
    """Every reason the order would be refused; empty when it may be placed."""
    problems = []
    if request.symbol not in SYMBOLS:
        problems.append(f"unknown symbol {request.symbol}")
    if request.side not in SIDES:
        problems.append(f"side must be BUY or SELL, got {request.side}")
    if not request.volume > 0:
        problems.append("volume must be positive")
    if request.client_order_id is not None and not 0 < len(request.client_order_id) <= 64:
        problems.append("client_order_id must be 1 to 64 characters")
    return problems


def fill_price(side: str, mid: float, spread: float) -> float:
    """Paper fill: buyers pay half the spread above mid, sellers receive half below."""
    half = spread / 2
    return round(mid + half if side == "BUY" else mid - half, 2)
