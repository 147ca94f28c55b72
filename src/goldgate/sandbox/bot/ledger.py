"""The paper book behind ``pnl_usd``: positions and cash, marked to the model's price.

A fill pays half the spread, so a fresh order moves P&L slightly negative and later
minutes move it with the synthetic price — enough for a P&L gauge that is alive and
plausible without any market connection. State is per process, like a real bot's
in-memory risk view.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# Contract size (units per lot) and quoted spread of each supported symbol.
CONTRACTS: dict[str, tuple[float, float]] = {
    "XAUUSD": (100.0, 0.30),
    "XAGUSD": (5000.0, 0.02),
}


class PaperLedger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, float] = {}
        self._cash = 0.0

    @staticmethod
    def fill_price(symbol: str, side: str, mid: float) -> float:
        """Buy at the ask, sell at the bid."""
        half_spread = CONTRACTS[symbol][1] / 2
        return round(mid + half_spread if side == "BUY" else mid - half_spread, 2)

    def fill(self, symbol: str, side: str, volume: float, price: float) -> None:
        units = volume * CONTRACTS[symbol][0] * (1 if side == "BUY" else -1)
        with self._lock:
            self._units[symbol] = self._units.get(symbol, 0.0) + units
            self._cash -= units * price

    def lots(self, symbol: str) -> float:
        """The signed net position of ``symbol`` in lots."""
        with self._lock:
            return self._units.get(symbol, 0.0) / CONTRACTS[symbol][0]

    def pnl(self, mid: Callable[[str], float]) -> float:
        """Cash plus every open position valued at ``mid(symbol)``."""
        with self._lock:
            return self._cash + sum(u * mid(s) for s, u in self._units.items() if u)
