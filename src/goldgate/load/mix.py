"""The trading bot's traffic mix: what a realistic client of the bot sends, and how often.

A bot in production mostly asks for XAUUSD signals, places paper orders now and then, and
is polled by its orchestrator for liveness and readiness. The weights come from the
environment file (``load.weights``); this module only knows what each kind of request
looks like, so the locustfile (inside locust) and the tests (outside) share one
definition of the traffic.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from typing import Any

SYMBOL = "XAUUSD"


@dataclass(frozen=True)
class BotRequest:
    """One request as the generator sends it; ``name`` groups it in the statistics."""

    kind: str
    method: str
    path: str
    name: str
    json: dict[str, Any] | None = None


def signal(_seq: int, _rng: random.Random) -> BotRequest:
    return BotRequest("signal", "GET", f"/api/v1/signal?symbol={SYMBOL}", "GET /api/v1/signal")


def order(seq: int, rng: random.Random) -> BotRequest:
    # A unique client_order_id per request: every order is a new paper trade, never an
    # idempotent replay, so the order route does its full work under load.
    body = {
        "symbol": SYMBOL,
        "side": rng.choice(("BUY", "SELL")),
        "volume": round(rng.uniform(0.01, 0.1), 2),
        "client_order_id": f"load-{rng.getrandbits(40):010x}-{seq}",
    }
    return BotRequest("order", "POST", "/api/v1/orders", "POST /api/v1/orders", body)


def health(_seq: int, _rng: random.Random) -> BotRequest:
    return BotRequest("health", "GET", "/health", "GET /health")


def ready(_seq: int, _rng: random.Random) -> BotRequest:
    return BotRequest("ready", "GET", "/ready", "GET /ready")


BUILDERS = {"signal": signal, "order": order, "health": health, "ready": ready}


class TrafficMix:
    """Draws request kinds in proportion to their weights (zero weight = never)."""

    def __init__(self, weights: dict[str, int], seed: int | None = None) -> None:
        kinds = [k for k, w in weights.items() if w > 0]
        if not kinds:
            raise ValueError(f"no request kind has a positive weight: {weights}")
        unknown = set(kinds) - set(BUILDERS)
        if unknown:
            raise ValueError(f"unknown request kinds: {sorted(unknown)}")
        self.kinds = kinds
        self._cumulative = list(itertools.accumulate(weights[k] for k in kinds))
        self._rng = random.Random(seed)
        self._seq = itertools.count(1)

    def next(self) -> BotRequest:
        point = self._rng.random() * self._cumulative[-1]
        kind = self.kinds[bisect.bisect_right(self._cumulative, point)]
        return BUILDERS[kind](next(self._seq), self._rng)
