"""Every endpoint of the reference bot, against one real healthy process."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING

import pytest

from goldgate.sandbox.bot.metrics import DURATION_BUCKETS

if TYPE_CHECKING:
    from tests.bot.conftest import BotProcess

pytestmark = pytest.mark.sandbox


def test_health_is_ok(shared_bot: BotProcess) -> None:
    resp = shared_bot.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_ready_reports_model_and_database(shared_bot: BotProcess) -> None:
    resp = shared_bot.get("/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "checks": {"model": True, "database": True}}


def test_version_names_release_and_model(shared_bot: BotProcess) -> None:
    body = shared_bot.get("/version").json()
    assert body["version"] == "1.2.3"
    assert body["model"] == "logit-ma-1.0"
    assert body["started_at"].endswith("Z")


@pytest.mark.parametrize("symbol", ["XAUUSD", "XAGUSD"])
def test_signal_is_deterministic_within_a_minute(shared_bot: BotProcess, symbol: str) -> None:
    for _ in range(3):  # a minute boundary between the two calls changes the answer
        first = shared_bot.get("/api/v1/signal", params={"symbol": symbol}).json()
        second = shared_bot.get("/api/v1/signal", params={"symbol": symbol}).json()
        if first["as_of"] == second["as_of"]:
            break
    assert first == second
    assert first["symbol"] == symbol
    assert first["signal"] in {"BUY", "SELL", "HOLD"}
    assert 0.0 <= first["confidence"] <= 1.0
    assert first["price"] > 0
    assert first["model_version"] == "logit-ma-1.0"


@pytest.mark.parametrize("params", [{"symbol": "EURUSD"}, {}])
def test_signal_rejects_unknown_or_missing_symbol(shared_bot: BotProcess, params: dict) -> None:
    resp = shared_bot.get("/api/v1/signal", params=params)
    assert resp.status_code == 400
    assert "symbol" in resp.json()["error"]


def test_order_is_stored_and_read_back(shared_bot: BotProcess) -> None:
    resp = shared_bot.post("/api/v1/orders", json={"symbol": "XAUUSD", "side": "BUY",
                                                   "volume": 0.25, "client_order_id": "t-1"})
    assert resp.status_code == 201
    order = resp.json()
    assert set(order) == {"id", "symbol", "side", "volume", "price", "status",
                          "client_order_id", "created_at"}
    assert (order["symbol"], order["side"], order["volume"], order["status"]) == (
        "XAUUSD", "BUY", 0.25, "FILLED")
    assert order["price"] > 0
    assert shared_bot.get(f"/api/v1/orders/{order['id']}").json() == order


def test_same_client_order_id_is_idempotent_or_conflicting(shared_bot: BotProcess) -> None:
    body = {"symbol": "XAUUSD", "side": "SELL", "volume": 1, "client_order_id": "t-dup"}
    first = shared_bot.post("/api/v1/orders", json=body)
    again = shared_bot.post("/api/v1/orders", json=body)
    other = shared_bot.post("/api/v1/orders", json={**body, "side": "BUY"})
    assert first.status_code == 201
    assert (again.status_code, again.json()) == (200, first.json())
    assert other.status_code == 409


@pytest.mark.parametrize("body", [
    {"symbol": "XAUUSD", "side": "BUY", "volume": 0},
    {"symbol": "XAUUSD", "side": "BUY", "volume": -1},
    {"symbol": "XAUUSD", "side": "BUY", "volume": "1"},
    {"symbol": "XAUUSD", "side": "BUY", "volume": True},
    {"symbol": "XAUUSD", "side": "HOLD", "volume": 1},
    {"symbol": "EURUSD", "side": "BUY", "volume": 1},
    {"side": "BUY", "volume": 1},
    {"symbol": "XAUUSD", "side": "BUY", "volume": 1, "client_order_id": "x" * 65},
    [1, 2],
])
def test_invalid_order_is_422(shared_bot: BotProcess, body: object) -> None:
    resp = shared_bot.post("/api/v1/orders", json=body)
    assert resp.status_code == 422
    assert resp.json()["error"]


def test_non_json_order_is_422(shared_bot: BotProcess) -> None:
    resp = shared_bot.post("/api/v1/orders", data=b"not json",
                           headers={"content-type": "application/json"})
    assert resp.status_code == 422


@pytest.mark.parametrize("order_id", ["999999", "abc"])
def test_absent_order_is_404(shared_bot: BotProcess, order_id: str) -> None:
    resp = shared_bot.get(f"/api/v1/orders/{order_id}")
    assert resp.status_code == 404
    assert resp.json()["error"] == "order not found"


def test_unknown_path_is_json_404(shared_bot: BotProcess) -> None:
    resp = shared_bot.get("/nowhere")
    assert resp.status_code == 404
    assert resp.json() == {"error": "Not Found"}


def test_metrics_carry_every_contract_series(shared_bot: BotProcess) -> None:
    shared_bot.get("/health")
    shared_bot.post("/api/v1/orders", json={"symbol": "XAGUSD", "side": "BUY", "volume": 2})
    samples = shared_bot.metrics()

    for name in ("process_resident_memory_bytes", "pnl_usd", "broker_connected", "bot_ready",
                 "model_inference_seconds_count", "model_inference_seconds_bucket"):
        assert name in samples, name
    assert samples["broker_connected"][0][1] == 1
    assert samples["bot_ready"][0][1] == 1
    assert math.isfinite(samples["pnl_usd"][0][1])
    assert samples["bot_build_info"] == [({"version": "1.2.3", "model": "logit-ma-1.0"}, 1.0)]

    requests_ = {(lb["route"], lb["method"], lb["code"]): v
                 for lb, v in samples["http_requests_total"]}
    assert requests_[("/health", "GET", "200")] >= 1
    assert requests_[("/ready", "GET", "200")] >= 1
    assert requests_[("/api/v1/orders", "POST", "201")] >= 1

    trades = {(lb["symbol"], lb["side"]): v for lb, v in samples["trades_executed_total"]}
    assert trades[("XAGUSD", "BUY")] >= 1

    buckets = {lb["le"] for lb, _ in samples["http_request_duration_seconds_bucket"]
               if lb["route"] == "/health"}
    assert buckets == {str(float(b)) for b in DURATION_BUCKETS} | {"+Inf"}

    disk = {(n, lb["mountpoint"]): v for n in ("node_filesystem_avail_bytes",
                                               "node_filesystem_size_bytes")
            for lb, v in samples[n]}
    assert 0 < disk[("node_filesystem_avail_bytes", "/data")] <= disk[
        ("node_filesystem_size_bytes", "/data")]


def test_request_log_has_one_line_per_request(shared_bot: BotProcess) -> None:
    path = shared_bot.stderr_path.parent / "requests.jsonl"
    before = len(path.read_text().splitlines())
    shared_bot.get("/api/v1/signal", params={"symbol": "XAUUSD"})
    shared_bot.get("/nowhere")
    # The line is written once the response has gone out: allow the writer a moment.
    deadline = time.monotonic() + 3
    while len(path.read_text().splitlines()) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == before + 2
    signal_line, missing = lines[-2:]
    assert set(signal_line) == {"ts", "route", "method", "status", "duration_ms"}
    assert (signal_line["route"], signal_line["method"], signal_line["status"]) == (
        "/api/v1/signal", "GET", 200)
    assert signal_line["duration_ms"] >= 20  # BOT_SIGNAL_BASE_MS default
    assert (missing["route"], missing["status"]) == ("unmatched", 404)
