"""Decision streams for the trading criteria's tests: one replayable market, two tracks.

The stable model's signal on a bar is a deterministic function of (seed, bar, symbol), as the
sandbox feed makes it; a canary is the same model with a share of bars answered differently
(a retrained model) and/or a share of BUY/SELL signals inverted (``FAULT_SIGNAL_FLIP``).
Which bars differ is drawn from a seeded generator, so every test sees the same stream.
"""

from __future__ import annotations

import random

from goldgate.criteria.trading import Decision, Order

SYMBOLS = ("XAUUSD", "XAGUSD")
MIDS = {"XAUUSD": 2350.0, "XAGUSD": 28.5}
BAR_S = 0.5
T0 = 1_796_000_000.0


def stable_signal(bar: int, symbol: str, seed: int = 42) -> str:
    return random.Random(f"{seed}:{bar}:{symbol}").choice(("BUY", "SELL", "HOLD"))


def _other(signal: str, rng: random.Random) -> str:
    return rng.choice([s for s in ("BUY", "SELL", "HOLD") if s != signal])


def order(bar: int, symbol: str, side: str, i: int = 0, *, volume: float = 0.1, pod: str = "p0",
          offset_bps: float = 2.0, status: str = "filled") -> Order:
    mid = MIDS[symbol]
    price = mid * (1 + offset_bps / 1e4 * (1 if side == "BUY" else -1))
    return Order(f"o-{pod}-{bar}-{symbol}-{i}", side, volume, round(price, 4), status,
                 round(price, 4) if status == "filled" else None, mid, T0 + bar * BAR_S + 0.01)


def track(bars: int, *, differ: float = 0.0, flip: float = 0.0, pods: int = 1, seed: int = 7,
          trades: bool = False, orders_per_signal: int = 1, start: int = 0, volume: float = 0.1,
          alternate: bool = True) -> list[Decision]:
    """``bars`` bars x both symbols x ``pods`` pods. ``differ``: share of bars the model answers
    otherwise than the stable model; ``flip``: share of BUY/SELL signals inverted. With
    ``trades``, every BUY/SELL places ``orders_per_signal`` orders (filled; with ``alternate``
    the sides alternate per pod and symbol so the position stays within one order)."""
    rng = random.Random(seed)
    out = []
    last: dict[tuple[int, str], str] = {}
    for bar in range(start, start + bars):
        for symbol in SYMBOLS:
            signal = stable_signal(bar, symbol)
            if rng.random() < differ:
                signal = _other(signal, rng)
            if signal != "HOLD" and rng.random() < flip:
                signal = "SELL" if signal == "BUY" else "BUY"
            for p in range(pods):
                side = signal
                if alternate and signal != "HOLD" and trades:
                    side = "SELL" if last.get((p, symbol), "SELL") == "BUY" else "BUY"
                    if orders_per_signal % 2:
                        last[(p, symbol)] = side
                orders = tuple(order(bar, symbol, side, i, volume=volume, pod=f"p{p}")
                               for i in range(orders_per_signal)) if trades and signal != "HOLD" else ()
                out.append(Decision(T0 + bar * BAR_S, symbol, signal, orders, MIDS[symbol], "logit-ma-1.0",
                                    0.7, f"p{p}"))
    return out
