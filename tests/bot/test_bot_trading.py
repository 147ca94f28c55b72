"""The trading contract on real processes: bots on one market feed decide identically, a
closed or unreachable market means no decisions, the decision record pages and refuses bad
input, the kill switch halts (or, faulty, only says so), metrics match the record."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests

from goldgate.sandbox.bot.knobs import ErrorBursts, FaultKnobs
from goldgate.sandbox.bot.trading import parse_time

if TYPE_CHECKING:
    from tests.bot.conftest import BotFactory, BotProcess

pytestmark = pytest.mark.sandbox

BAR_S = 0.1
TIMEOUT = (1.0, 5.0)


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The market feed server on loopback, 0.1 s bars."""
    from tests.bot.conftest import _free_port

    port = _free_port()
    log = tmp_path_factory.mktemp("feed") / "feed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.market", "--port", str(port),
                                 "--bar-s", str(BAR_S)], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(url + "/health", timeout=(0.2, 1)).raise_for_status()
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"market feed did not start:\n{log.read_text()}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def trader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One bot trading on in-process bars, for the tests that only read it."""
    from tests.bot.conftest import _spawn

    bot = _spawn(tmp_path_factory.mktemp("trader"), {"BOT_WARMUP_S": "0", "MARKET_BAR_S": str(BAR_S),
                                                      "BOT_VERSION": "v1.2.0"}, [], True)
    try:
        bot.wait_listening()
        bot.wait_ready()
        yield bot
    finally:
        bot.stop()


def _trader(start_bot: BotFactory, feed_url: str | None, **env: str) -> BotProcess:
    base = {"MARKET_BAR_S": str(BAR_S), "BOT_VERSION": "v1.2.0"}
    if feed_url:
        base["MARKET_FEED_URL"] = feed_url
    return start_bot({**base, **env}, ready=True)


def _record(bot: BotProcess, **params: str) -> dict:
    resp = bot.get("/api/v1/decisions", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _count(bot: BotProcess, name: str, **labels: str) -> float:
    return sum(v for lab, v in bot.metrics().get(name, []) if all(lab.get(k) == w for k, w in labels.items()))


def _wait_for(predicate, budget_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + budget_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


# ------------------------------------------------------------------- the feed


def test_two_bots_on_one_feed_decide_every_shared_bar_identically(start_bot: BotFactory, feed: str) -> None:
    a = _trader(start_bot, feed)
    b = _trader(start_bot, feed)
    _wait_for(lambda: len(_record(b)["decisions"]) >= 20)
    ra = {d["bar_time"]: d for d in _record(a)["decisions"]}
    rb = {d["bar_time"]: d for d in _record(b)["decisions"]}
    shared = sorted(set(ra) & set(rb))
    assert len(shared) >= 15
    assert all(ra[t]["signal"] == rb[t]["signal"] and ra[t]["mid"] == rb[t]["mid"]
               and ra[t]["confidence"] == rb[t]["confidence"] for t in shared)  # agreement 100 %
    first = ra[shared[0]]
    assert first["model_version"] == "logit-ma-1.0" and first["symbol"] == "XAUUSD"
    periods = parse_time(first["bar_time"]) / BAR_S
    assert abs(periods - round(periods)) < 1e-3  # bar time = k * bar_s


def test_a_closed_market_gives_no_decisions_until_it_opens(start_bot: BotFactory, feed: str) -> None:
    bot = _trader(start_bot, feed)
    _wait_for(lambda: _count(bot, "trading_bars_total") >= 3)
    closed = requests.post(feed + "/v1/market/close", timeout=TIMEOUT).json()
    try:
        assert closed["open"] is False and closed["changed"] is True
        time.sleep(3 * BAR_S)  # a bar complete before the close may still be decided
        before = _count(bot, "trading_bars_total")
        time.sleep(10 * BAR_S)
        assert _count(bot, "trading_bars_total") == before
        assert _count(bot, "trading_market_open") == 0
        market = requests.get(feed + "/v1/market", timeout=TIMEOUT).json()
        closed_from = market["sessions"][-1]["closed_from"]
        assert all(parse_time(d["bar_time"]) < closed_from for d in _record(bot)["decisions"])
    finally:
        requests.post(feed + "/v1/market/open", timeout=TIMEOUT)
    _wait_for(lambda: _count(bot, "trading_bars_total") >= before + 3)
    assert "market closed: no bars, no decisions" in bot.stderr()


def test_an_unreachable_feed_means_no_decisions_a_log_line_and_a_metric(start_bot: BotFactory) -> None:
    from tests.bot.conftest import _free_port

    bot = _trader(start_bot, f"http://127.0.0.1:{_free_port()}")
    _wait_for(lambda: _count(bot, "trading_feed_errors_total") >= 3)
    assert _record(bot)["decisions"] == []
    assert bot.get("/health").status_code == 200 and bot.proc.poll() is None
    assert bot.stderr().count("market feed unavailable") == 1  # once, not once per bar


def test_the_feed_refuses_bad_queries_naming_the_parameter(feed: str) -> None:
    for params, parameter in (({"symbol": "EURUSD"}, "symbol"), ({}, "symbol"),
                              ({"symbol": "XAUUSD", "after": "soon"}, "after")):
        resp = requests.get(feed + "/v1/bars", params=params, timeout=TIMEOUT)
        assert resp.status_code == 400 and resp.json()["parameter"] == parameter
    bar = requests.get(feed + "/v1/bars", params={"symbol": "XAGUSD"}, timeout=TIMEOUT).json()["bar"]
    assert bar["symbol"] == "XAGUSD" and len(bar["closes"]) == 60


def test_a_bot_still_loading_its_model_makes_no_decisions(start_bot: BotFactory) -> None:
    bot = start_bot({"MARKET_BAR_S": str(BAR_S), "FAULT_NEVER_READY": "true"})
    time.sleep(10 * BAR_S)
    assert _record(bot)["decisions"] == []


def test_without_a_feed_the_bot_makes_the_same_bars_itself(start_bot: BotFactory, trader: BotProcess,
                                                           feed: str) -> None:
    alone = trader
    fed = _trader(start_bot, feed)
    _wait_for(lambda: len(_record(fed)["decisions"]) >= 10)
    ra = {d["bar_time"]: (d["signal"], d["mid"]) for d in _record(alone)["decisions"]}
    rb = {d["bar_time"]: (d["signal"], d["mid"]) for d in _record(fed)["decisions"]}
    shared = set(ra) & set(rb)
    assert len(shared) >= 5 and all(ra[t] == rb[t] for t in shared)


# ----------------------------------------------------------- decision record


def test_decisions_page_by_since_and_limit(trader: BotProcess) -> None:
    bot = trader
    _wait_for(lambda: len(_record(bot)["decisions"]) >= 12)
    body = _record(bot)
    assert {"halted", "position", "pnl_usd", "open_orders", "version"} <= set(body)
    assert body["version"] == "v1.2.0" and body["halted"] is False and "XAUUSD" in body["position"]
    everything = body["decisions"]
    times = [d["bar_time"] for d in everything]
    assert times == sorted(times)
    first5 = _record(bot, limit="5")["decisions"]
    assert [d["bar_time"] for d in first5] == times[:5]
    after = _record(bot, since=times[4], limit="3")["decisions"]
    assert [d["bar_time"] for d in after] == times[5:8]
    for order in (o for d in everything for o in d["orders"]):
        assert set(order) >= {"order_id", "side", "volume", "limit_price", "status", "fill_price",
                              "reject_reason"}


@pytest.mark.parametrize(("params", "parameter"), [
    ({"since": "yesterday"}, "since"), ({"since": "2026-13-01T00:00:00Z"}, "since"),
    ({"limit": "0"}, "limit"), ({"limit": "5001"}, "limit"), ({"limit": "ten"}, "limit"),
])
def test_bad_decision_queries_are_400_naming_the_parameter(trader: BotProcess, params: dict[str, str],
                                                           parameter: str) -> None:
    resp = trader.get("/api/v1/decisions", params=params)
    assert resp.status_code == 400
    assert resp.json()["parameter"] == parameter and parameter in resp.json()["error"]


def test_metrics_agree_with_the_record(start_bot: BotFactory, feed: str) -> None:
    bot = _trader(start_bot, feed)
    _wait_for(lambda: len(_record(bot)["decisions"]) >= 10)
    requests.post(bot.url + "/api/v1/trading/halt", timeout=TIMEOUT)
    requests.post(feed + "/v1/market/close", timeout=TIMEOUT)  # freeze the counts
    try:
        time.sleep(3 * BAR_S)
        snap = bot.metrics()
        record = _record(bot, limit="5000")["decisions"]
        status = bot.get("/api/v1/trading/status").json()
    finally:
        requests.post(feed + "/v1/market/open", timeout=TIMEOUT)

    def count(name: str, **labels: str) -> float:
        return sum(v for lab, v in snap.get(name, []) if all(lab.get(k) == w for k, w in labels.items()))

    assert count("trading_bars_total") == len(record)
    orders = [o for d in record for o in d["orders"]]
    assert count("trading_orders_total") == len(orders)
    filled = sum(o["status"] == "filled" for o in orders)
    assert count("trading_fills_total") == filled == count("trades_executed_total")
    for signal in ("BUY", "SELL", "HOLD"):
        assert count("trading_signals_total", signal=signal) == sum(d["signal"] == signal for d in record)
    assert count("trading_halted") == 1 and count("trading_open_orders") == 0
    assert count("trading_position_lots", symbol="XAUUSD") == status["position"]["XAUUSD"]
    assert count("pnl_usd") == status["pnl_usd"]


# ------------------------------------------------------------- kill switch


def test_kill_switch_halts_cancels_and_resumes(start_bot: BotFactory) -> None:
    bot = _trader(start_bot, None)
    _wait_for(lambda: bot.get("/api/v1/trading/status").json()["open_orders"] > 0)
    halted = bot.post("/api/v1/trading/halt", json={"reason": "rollback"}).json()
    assert halted["halted"] is True and halted["open_orders"] == 0 and halted["cancelled_orders"]
    assert {"position", "pnl_usd"} <= set(halted)
    halt_time = time.time()
    time.sleep(10 * BAR_S)
    status = bot.get("/api/v1/trading/status").json()
    assert status["halted"] is True and status["orders_since_halt"] == 0 and status["open_orders"] == 0
    record = _record(bot, limit="5000")["decisions"]
    cancelled = {o["order_id"]: o["status"] for d in record for o in d["orders"]}
    assert all(cancelled[i] == "cancelled" for i in halted["cancelled_orders"])
    late = [d for d in record if parse_time(d["bar_time"]) > halt_time]
    assert late and all(d["orders"] == [] for d in late)
    refused = bot.post("/api/v1/orders", json={"symbol": "XAUUSD", "side": "BUY", "volume": 0.1})
    assert refused.status_code == 409
    assert bot.post("/api/v1/trading/halt", data="not json").status_code == 422
    assert bot.post("/api/v1/trading/resume").json()["halted"] is False
    _wait_for(lambda: any(d["orders"] for d in _record(bot, since=record[-1]["bar_time"])["decisions"]))
    assert _count(bot, "trading_halted") == 0


def test_an_ignored_kill_switch_says_halted_but_keeps_ordering(start_bot: BotFactory) -> None:
    bot = _trader(start_bot, None, FAULT_IGNORE_KILL_SWITCH="true")
    _wait_for(lambda: len(_record(bot)["decisions"]) >= 3)
    halted = bot.post("/api/v1/trading/halt").json()
    assert halted["halted"] is True and halted["open_orders"] == 0
    halt_time = time.time()
    _wait_for(lambda: bot.get("/api/v1/trading/status").json()["orders_since_halt"] >= 5)
    record = _record(bot, limit="5000")["decisions"]
    assert any(d["orders"] for d in record if parse_time(d["bar_time"]) > halt_time)


# ------------------------------------------------------------- client orders


def test_client_orders_still_fill_and_count_as_trades(trader: BotProcess) -> None:
    bot = trader
    before = _count(bot, "trades_executed_total", side="SELL")
    resp = bot.post("/api/v1/orders", json={"symbol": "XAUUSD", "side": "SELL", "volume": 0.3})
    assert resp.status_code == 201
    assert _count(bot, "trades_executed_total", side="SELL") >= before + 1


# -------------------------------------------------------- shared error bursts


def test_error_bursts_follow_the_wall_clock_so_pods_burst_together() -> None:
    bursts = FaultKnobs.from_env({"FAULT_ERROR_BURSTS": "0.2/5/60"}).error_bursts
    assert bursts == ErrorBursts(0.2, 5.0, 60.0)
    assert [bursts.rate_at(t) for t in (1_800_000_000, 1_800_000_004.9, 1_800_000_005, 1_800_000_059)] \
        == [0.2, 0.2, 0.0, 0.0]


def test_error_bursts_fail_api_requests_only_inside_the_window(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_ERROR_BURSTS": "1/1/2", "BOT_SIGNAL_BASE_MS": "0"}, ready=True)
    outcomes = []
    for _ in range(40):
        moment = time.time()
        code = bot.get("/api/v1/signal?symbol=XAUUSD").status_code
        if moment % 2 < 0.95 or 1.05 < moment % 2 < 1.95:  # clear of the edges
            outcomes.append((moment % 2 < 1, code))
        time.sleep(0.1)
    assert outcomes and all((code == 500) == inside for inside, code in outcomes)
    assert bot.get("/health").status_code == 200


@pytest.mark.parametrize(("value", "needle"), [("0.2/5", "<rate>/<on_s>/<period_s>"),
                                               ("2/5/60", "<= 1"), ("0.2/70/60", "on_s")])
def test_bad_error_bursts_are_refused(value: str, needle: str) -> None:
    from goldgate.sandbox.bot.knobs import KnobError

    with pytest.raises(KnobError) as caught:
        FaultKnobs.from_env({"FAULT_ERROR_BURSTS": value})
    assert caught.value.variable == "FAULT_ERROR_BURSTS" and needle in str(caught.value)


def test_settings_name_a_bad_trading_setting(start_bot: BotFactory) -> None:
    for env, needle in (({"TRADING_SYMBOL": "EURUSD"}, "TRADING_SYMBOL='EURUSD'"),
                        ({"BOT_MODEL": "gpt"}, "BOT_MODEL='gpt'"),
                        ({"MARKET_FEED_URL": "feed:1"}, "MARKET_FEED_URL='feed:1'")):
        bot = start_bot(env, listen=False)
        assert bot.proc.wait(15) == 2
        assert needle in bot.stderr()


def test_retrained_build_serves_its_model_version(start_bot: BotFactory) -> None:
    bot = _trader(start_bot, None, BOT_MODEL="logit-ma-1.1")
    assert bot.get("/version").json()["model"] == "logit-ma-1.1"
    assert bot.get("/api/v1/signal?symbol=XAUUSD").json()["model_version"] == "logit-ma-1.1"
    _wait_for(lambda: len(_record(bot)["decisions"]) >= 2)
    assert _record(bot)["decisions"][0]["model_version"] == "logit-ma-1.1"
