"""The trading-bot traffic mix follows the environment's weights."""

from __future__ import annotations

from collections import Counter

import pytest

from goldgate.load.mix import TrafficMix


def test_kinds_follow_the_weights_and_orders_are_valid_and_unique() -> None:
    mix = TrafficMix({"signal": 10, "order": 2, "health": 1, "ready": 0}, seed=1)
    reqs = [mix.next() for _ in range(13_000)]
    counts = Counter(r.kind for r in reqs)
    assert "ready" not in counts
    assert counts["signal"] / len(reqs) == pytest.approx(10 / 13, abs=0.02)
    assert counts["order"] / len(reqs) == pytest.approx(2 / 13, abs=0.02)
    orders = [r.json for r in reqs if r.kind == "order"]
    assert all(o["symbol"] == "XAUUSD" and o["side"] in ("BUY", "SELL") and o["volume"] > 0 for o in orders)
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    assert all(len(o["client_order_id"]) <= 64 for o in orders)
    assert next(r for r in reqs if r.kind == "signal").path == "/api/v1/signal?symbol=XAUUSD"


def test_no_positive_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="positive weight"):
        TrafficMix({"signal": 0})
    with pytest.raises(ValueError, match="unknown"):
        TrafficMix({"withdraw": 1})
