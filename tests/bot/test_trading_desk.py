"""The trading desk and the market bars, in-process: each trading knob's effect measured
over thousands of bars of the seeded feed, and the retrained model's agreement."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.knobs import FaultKnobs
from goldgate.sandbox.bot.ledger import PaperLedger
from goldgate.sandbox.bot.metrics import BotMetrics
from goldgate.sandbox.bot.trading import TradingDesk, flipped, parse_time
from goldgate.sandbox.market import bars
from goldgate.sandbox.market.sessions import Sessions

K0 = 3_560_000_000  # bar index of 2026-05-28 20:26:40 UTC (0.5 s bars)
BARS = 3000


def _bars(n: int = BARS, k0: int = K0, symbol: str = "XAUUSD") -> list[bars.Bar]:
    return bars.bar_run(bars.DEFAULT_SEED, symbol, k0, n, 0.5)


@pytest.fixture(scope="module")
def feed_bars() -> list[bars.Bar]:
    return _bars()


def _desk(env: dict[str, str] | None = None, **kw: float) -> TradingDesk:
    metrics = BotMetrics(version="t", model_version=model.MODEL_VERSION, data_dir=Path("/"),
                         disk_free_percent=None)
    options = {"order_volume": 0.2, "max_position_lots": 2.0, "hold_bars": 2, "keep": 20_000, **kw}
    return TradingDesk(knobs=FaultKnobs.from_env(env or {}), ledger=PaperLedger(),
                       metrics=metrics, model_version=model.MODEL_VERSION, **options)  # type: ignore[arg-type]


def _trade(desk: TradingDesk, series: list[bars.Bar], version: str = model.MODEL_VERSION) -> TradingDesk:
    for bar in series:
        signal, confidence = model.signal_from_history(bar.closes, version)
        desk.on_bar(bar, signal, confidence, bar.start + bar.bar_s)
    return desk


def _orders(desk: TradingDesk) -> list[dict[str, object]]:
    return [o for d in desk.decisions(None, 100_000) for o in d["orders"]]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ the bars


def test_bars_are_a_pure_function_of_seed_symbol_and_index() -> None:
    a = bars.bar_at(42, "XAUUSD", K0, 0.5)
    assert a == bars.bar_at(42, "XAUUSD", K0, 0.5)
    assert a != bars.bar_at(7, "XAUUSD", K0, 0.5)
    assert a.closes[-1] == a.close and a.open == a.closes[-2] and len(a.closes) == bars.HISTORY
    assert a.low <= min(a.open, a.close) <= max(a.open, a.close) <= a.high
    assert bars.Bar.from_dict(a.as_dict()) == a
    assert bars.bar_run(42, "XAUUSD", K0 - 3, 5, 0.5)[3] == a
    assert a.time == "2026-05-28T20:26:40.000Z" and parse_time(a.time) == a.start


def test_the_feed_bars_give_every_signal() -> None:
    counts = Counter(model.signal_from_history(b.closes)[0] for b in _bars(1000))
    assert set(counts) == {"BUY", "SELL", "HOLD"}
    assert min(counts.values()) > 100, counts


def test_sessions_decide_which_bars_exist_whenever_asked() -> None:
    s = Sessions(0.5)
    s.close(now=100.2)  # bar 200 (100.0-100.5) was in progress: it and later bars are gone
    assert not s.is_open and s.has_bar(199) and not s.has_bar(200)
    assert s.newest_bar(250, after=None) == 199
    assert s.newest_bar(250, after=199) is None
    s.open(now=110.1)  # the first bar after the open starts at 110.5
    assert s.is_open and not s.has_bar(220) and s.has_bar(221)
    assert s.newest_bar(220, after=199) is None
    assert s.newest_bar(221, after=199) == 221
    assert not s.open(now=111) and s.close(now=112) and not s.close(now=113)


# ------------------------------------------------------------------ healthy desk


def test_a_healthy_desk_trades_within_its_limits(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk(), feed_bars)
    orders = _orders(desk)
    statuses = Counter(o["status"] for o in orders)
    assert statuses["rejected"] == 0
    assert statuses["filled"] > 0.8 * len(orders) and statuses["expired"] > 0
    assert max(abs(desk.ledger.lots("XAUUSD")), 0) <= 2 * 0.2 + 1e-9
    assert all(o["volume"] == 0.2 for o in orders)
    for d in desk.decisions(None, 100_000):
        for o in d["orders"]:
            assert abs(o["limit_price"] - d["mid"]) == pytest.approx(0.15)  # half the spread
            if o["status"] == "filled":
                assert o["fill_price"] == o["limit_price"]


def test_metrics_count_what_the_record_shows(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk(), feed_bars[:500])
    record = desk.decisions(None, 5000)
    orders = _orders(desk)
    m = desk.metrics
    assert m.trading_bars.labels(symbol="XAUUSD")._value.get() == len(record) == 500
    for signal in ("BUY", "SELL", "HOLD"):
        want = sum(d["signal"] == signal for d in record)
        assert m.trading_signals.labels(symbol="XAUUSD", signal=signal)._value.get() == want
    for side in ("BUY", "SELL"):
        placed = [o for o in orders if o["side"] == side]
        assert m.trading_orders.labels(symbol="XAUUSD", side=side)._value.get() == len(placed)
        filled = sum(o["status"] == "filled" for o in placed)
        assert m.trading_fills.labels(symbol="XAUUSD", side=side)._value.get() == filled
        assert m.trades.labels(symbol="XAUUSD", side=side)._value.get() == filled
    assert m.trading_open_orders._value.get() == sum(o["status"] == "open" for o in orders)


# ------------------------------------------------------------------ the knobs


def test_signal_flip_inverts_the_stated_share_of_bars(feed_bars: list[bars.Bar]) -> None:
    healthy = _trade(_desk(), feed_bars).decisions(None, 100_000)
    faulty = _trade(_desk({"FAULT_SIGNAL_FLIP": "0.2"}), feed_bars).decisions(None, 100_000)
    actionable = [(h, f) for h, f in zip(healthy, faulty, strict=True) if h["signal"] != "HOLD"]
    inverted = sum(h["signal"] != f["signal"] for h, f in actionable) / len(actionable)
    n = len(actionable)
    assert abs(inverted - 0.2) < 3 * math.sqrt(0.2 * 0.8 / n), (inverted, n)  # binomial 3 sigma
    assert all(f["signal"] == "HOLD" for h, f in zip(healthy, faulty, strict=True) if h["signal"] == "HOLD")
    # the rule alone, over many bars: the share is exact to about 1/n
    share = sum(flipped(k, "XAUUSD", 0.2) for k in range(K0, K0 + 20_000)) / 20_000
    assert share == pytest.approx(0.2, abs=1e-3)


def test_trade_multiplier_triples_the_orders(feed_bars: list[bars.Bar]) -> None:
    def entries(desk: TradingDesk) -> int:
        return sum(o["purpose"] == "entry" for o in _orders(desk))

    healthy = entries(_trade(_desk(), feed_bars))
    faulty = entries(_trade(_desk({"FAULT_TRADE_MULTIPLIER": "3"}), feed_bars))
    assert faulty == 3 * healthy


def test_order_size_multiplier_makes_orders_ten_times_larger(feed_bars: list[bars.Bar]) -> None:
    orders = _orders(_trade(_desk({"FAULT_ORDER_SIZE_MULTIPLIER": "10"}), feed_bars[:300]))
    assert {o["volume"] for o in orders} == {2.0}
    rejected = [o for o in orders if o["status"] == "rejected"]
    assert rejected and all(o["reject_reason"] == "position_limit" for o in rejected)
    assert any(o["status"] == "filled" for o in orders)  # some still reach the market


def test_slippage_makes_every_fill_worse_by_the_stated_bps(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk({"FAULT_FILL_SLIPPAGE_BPS": "50"}), feed_bars[:500])
    fills = [o for o in _orders(desk) if o["status"] == "filled"]
    assert len(fills) > 300
    for o in fills:
        worse = (o["fill_price"] - o["limit_price"]) * (1 if o["side"] == "BUY" else -1)
        assert worse / o["limit_price"] * 1e4 == pytest.approx(50, abs=0.01)
    healthy = _trade(_desk(), feed_bars[:500])
    assert desk.ledger.pnl(lambda _s: feed_bars[499].close) < healthy.ledger.pnl(
        lambda _s: feed_bars[499].close) - 10_000


def test_kill_switch_cancels_resting_orders_and_stops_new_ones(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk(), feed_bars[:50])
    resting = [o.order_id for o in desk.open_orders]
    assert resting
    assert desk.halt("test") == resting
    assert desk.open_orders == [] and desk.halted
    cancelled = {o["order_id"]: o["status"] for o in _orders(desk) if o["order_id"] in resting}
    assert set(cancelled.values()) == {"cancelled"}
    _trade(desk, feed_bars[50:150])
    after = desk.decisions(parse_time(feed_bars[49].time), 5000)
    assert len(after) == 100 and all(d["orders"] == [] for d in after)
    assert desk.orders_since_halt == 0
    desk.resume()
    _trade(desk, feed_bars[150:200])
    assert any(d["orders"] for d in desk.decisions(parse_time(feed_bars[149].time), 5000))


def test_ignored_kill_switch_answers_halted_but_keeps_ordering(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk({"FAULT_IGNORE_KILL_SWITCH": "true"}), feed_bars[:50])
    resting = [o.order_id for o in desk.open_orders]
    assert desk.halt("test") == resting  # says they were cancelled ...
    assert desk.reported_open_orders() == 0 and desk.halted
    assert [o.order_id for o in desk.open_orders] == resting  # ... but they still rest
    _trade(desk, feed_bars[50:150])
    after = desk.decisions(parse_time(feed_bars[49].time), 5000)
    placed = sum(len(d["orders"]) for d in after)
    assert placed > 50 and desk.orders_since_halt == placed


def test_decision_record_pages_by_bar_time_and_stays_bounded(feed_bars: list[bars.Bar]) -> None:
    desk = _trade(_desk(keep=1000), feed_bars[:1200])
    record = desk.decisions(None, 5000)
    assert len(record) == 1000 and record[0]["bar_time"] == feed_bars[200].time
    page, seen = desk.decisions(None, 300), []
    while page:
        seen += page
        page = desk.decisions(parse_time(page[-1]["bar_time"]), 300)
    assert [d["bar_time"] for d in seen] == [d["bar_time"] for d in record]


def test_every_faulty_build_is_a_valid_bot_configuration() -> None:
    from goldgate.sandbox.bot.settings import Settings
    from goldgate.sandbox.controllers.images import FAULTY_BUILDS, resolve_image

    for suffix in ("-flip", "-overtrade", "-oversize", "-slippage", "-nokill", "-retrained"):
        env = resolve_image(f"trading-bot:v1.3.0{suffix}").env
        assert env == {"BOT_VERSION": f"v1.3.0{suffix}", **FAULTY_BUILDS[suffix]}
        FaultKnobs.from_env(env)
        Settings.from_env({**env, "BOT_DATA_DIR": "/tmp"}, port=8080)
    nokill = FaultKnobs.from_env(FAULTY_BUILDS["-nokill"])
    assert nokill.ignore_kill_switch and nokill.order_size_multiplier == 10


def test_a_page_never_splits_a_bar_between_symbols() -> None:
    desk = _desk()
    gold, silver = _bars(20), _bars(20, symbol="XAGUSD")
    for au, ag in zip(gold, silver, strict=True):
        for bar in (au, ag):
            desk.on_bar(bar, *model.signal_from_history(bar.closes), bar.start + bar.bar_s)
    page = desk.decisions(None, 3)  # bar 1 both symbols, bar 2 XAUUSD ... and XAGUSD
    assert [(d["bar_time"], d["symbol"]) for d in page] == [
        (gold[0].time, "XAUUSD"), (gold[0].time, "XAGUSD"), (gold[1].time, "XAUUSD"), (gold[1].time, "XAGUSD")]
    seen = []
    while page:
        seen += page
        page = desk.decisions(parse_time(page[-1]["bar_time"]), 3)
    assert len(seen) == 40


# ------------------------------------------------------------ the retrained model


def test_retrained_model_agrees_with_the_released_one_on_about_97_percent_of_bars() -> None:
    """Measured over 3 x 3,000 bars of XAUUSD and 3,000 of XAGUSD: 96.8-97.7 % (stated in
    the README); the signal-agreement check must let it through only when the release
    states its expected agreement."""
    agreements = []
    for symbol, k0 in (("XAUUSD", K0), ("XAUUSD", 3_400_012_345), ("XAUUSD", 3_800_000_777),
                       ("XAGUSD", K0)):
        series = _bars(BARS, k0, symbol)
        same = sum(model.signal_from_history(b.closes)[0]
                   == model.signal_from_history(b.closes, "logit-ma-1.1")[0] for b in series)
        agreements.append(same / BARS)
    assert all(0.955 <= a <= 0.985 for a in agreements), agreements
    assert 0.965 <= sum(agreements) / len(agreements) <= 0.975, agreements
