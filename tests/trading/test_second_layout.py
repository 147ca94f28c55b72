"""The trading evidence source and the kill switch on a bot whose names differ.

A real HTTP server on loopback (tests/trading/layout_bot.py) keeps its decision record
and kill switch under other paths and field names; goldgate reads it through nothing but
the ``trading:`` settings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from goldgate.actions.trading import halt_trading, orders_after_halt
from goldgate.config import Timeouts
from goldgate.criteria.trading_rollout import halt_verified
from goldgate.probes.metrics.base import Selector
from goldgate.probes.trading import (
    PodEndpoint,
    RecordUnreadable,
    TradingRecordSource,
    parse_decisions,
)
from goldgate.safety import MutationRefused, SafetyPolicy
from goldgate.verdict import Status
from tests.trading.layout_bot import SETTINGS, LayoutBot

TIMEOUTS = Timeouts(connect_s=0.5, read_s=1.0, retries=2, backoff_s=0.01)


@pytest.fixture
def bot() -> Iterator[tuple[LayoutBot, str]]:
    b = LayoutBot()
    url = b.start()
    yield b, url
    b.stop()


def _source(url: str, settings=SETTINGS) -> TradingRecordSource:
    return TradingRecordSource(settings, TIMEOUTS, lambda sel: [PodEndpoint("bot-a", url)])


def _read_until(window, bars: int, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while True:
        reading = window.read()
        if reading.bars >= bars or time.monotonic() > deadline:
            return reading
        time.sleep(0.05)


def test_reads_decisions_orders_and_state_through_the_configured_names(bot) -> None:
    _b, url = bot
    window = _source(url).start(Selector({"app": "bot"}), "canary")
    reading = _read_until(window, 30)
    assert not reading.errors
    assert reading.bars >= 30
    assert {d.symbol for d in reading.decisions} == {"XAUUSD"}
    assert {d.signal for d in reading.decisions} <= {"BUY", "SELL", "HOLD"}
    assert all(d.bar_time >= window.opened_wall - 1e-3 for d in reading.decisions), "bars before the window"
    assert reading.orders and all(o.volume == pytest.approx(0.1) for o in reading.orders)
    assert any(o.status == "filled" for o in reading.orders), "re-read bars show fills"
    assert reading.pnl_usd is not None and reading.pnl_series
    assert "XAUUSD" in reading.position
    times = [d.bar_time for d in reading.decisions]
    assert times == sorted(times) and len(set(times)) == len(times), "no bar read twice"
    assert reading.evidence().query.startswith("canary")


def test_pages_through_a_record_larger_than_one_page(bot) -> None:
    _b, url = bot
    window = _source(url, SETTINGS.model_copy(update={"page_size": 5})).start(Selector(), "t")
    time.sleep(1.2)  # ~24 bars: five pages
    reading = window.read()
    assert not reading.errors and reading.bars >= 20


def test_a_record_without_a_configured_field_is_an_error_naming_the_field(bot) -> None:
    b, url = bot
    b.malformed = True
    reading = _source(url).start(Selector(), "canary").read()
    assert "bot-a" in reading.errors
    assert "'ts' missing" in reading.errors["bot-a"] and "journal[0]" in reading.errors["bot-a"]


def test_the_reference_names_on_the_second_layout_read_nothing_and_say_so(bot) -> None:
    from goldgate.config import TradingSettings

    _, url = bot
    reading = _source(url, TradingSettings()).start(Selector(), "canary").read()
    assert "HTTP 404" in reading.errors["bot-a"]


def test_error_bursts_are_retried_within_the_budget(bot) -> None:
    b, url = bot
    b.fail_every = 2  # every second request answers 503
    reading = _read_until(_source(url).start(Selector(), "c"), 5)
    assert not reading.errors and reading.bars >= 5


def test_an_unreachable_pod_costs_at_most_its_timeouts() -> None:
    source = TradingRecordSource(SETTINGS, TIMEOUTS, lambda sel: [PodEndpoint("gone", "http://127.0.0.1:9")])
    t0 = time.monotonic()
    reading = source.start(Selector(), "c").read()
    assert time.monotonic() - t0 < (TIMEOUTS.retries + 1) * (TIMEOUTS.connect_s + TIMEOUTS.read_s) + 1
    assert "gone" in reading.errors and reading.pnl_usd is None


def test_parse_rejects_a_non_finite_time() -> None:
    with pytest.raises(RecordUnreadable, match="ts"):
        parse_decisions({"journal": [{"ts": float("nan"), "instrument": "X", "action": "BUY"}]}, SETTINGS.fields)


def _safety(allowed: bool = True) -> SafetyPolicy:
    return SafetyPolicy("local", production=False, allow_mutations=allowed)


def test_halt_stops_the_orders_and_the_record_confirms_it(bot) -> None:
    _b, url = bot
    source = _source(url)
    _read_until(source.start(Selector(), "c"), 4)
    safety = _safety()
    halts = halt_trading(source, safety, [PodEndpoint("bot-a", url)], reason="rehearsal")
    assert halts[0].halted and not halts[0].error
    assert safety.actions and safety.actions[0]["action"] == "halt trading"
    time.sleep(0.4)
    late = orders_after_halt(source, halts)
    assert late == {}
    v = halt_verified({h.pod: h.halted for h in halts}, late, cancelled=len(halts[0].cancelled_orders))
    assert v.status is Status.PASS


def test_an_ignored_halt_shows_the_orders_placed_after_it(bot) -> None:
    b, url = bot
    b.ignore_kill = True
    source = _source(url)
    halts = halt_trading(source, _safety(), [PodEndpoint("bot-a", url)], reason="rehearsal")
    time.sleep(0.5)
    late = orders_after_halt(source, halts)
    v = halt_verified({h.pod: h.halted for h in halts}, late)
    assert v.status is Status.FAIL and v.rollback
    assert v.message().count("halt ignored:") == 1 and "orders after halt" in v.message()


def test_halt_needs_permission_to_mutate(bot) -> None:
    _, url = bot
    with pytest.raises(MutationRefused):
        halt_trading(_source(url), _safety(False), [PodEndpoint("bot-a", url)], reason="x")


def test_the_trading_checks_run_on_the_second_layout(tmp_path) -> None:
    """The whole trading monitor (criteria included) on two bots of the second layout."""
    from pathlib import Path

    from goldgate.config import load_environment
    from goldgate.rollout.monitor import Group
    from goldgate.rollout.trading_monitor import TradingMonitor

    env = load_environment("local", Path(__file__).resolve().parents[2] / "environments")
    env = env.model_copy(update={"trading": SETTINGS.model_copy(update={"min_bars": 5})})
    bots = {"canary": LayoutBot(), "stable": LayoutBot()}
    urls = {name: b.start() for name, b in bots.items()}
    try:
        source = TradingRecordSource(env.trading, TIMEOUTS,
                                     lambda sel: [PodEndpoint(sel.labels["track"], urls[sel.labels["track"]])])
        monitor = TradingMonitor(env, source, Group("canary", {"track": "canary"}, "t"),
                                 Group("stable", {"track": "stable"}, "t"))
        monitor.start()
        for _ in range(6):
            time.sleep(0.4)
            verdicts = {v.criterion.split(" (")[0]: v for v in monitor.evaluate()}
        assert {"pre-trade limits", "P&L drawdown", "market open with enough bars",
                "signal agreement with the stable version", "trade rate vs the stable version",
                "order rejects vs the stable version"} <= set(verdicts)
        assert not [v.message() for v in verdicts.values() if v.status is Status.ERROR]
        assert verdicts["market open with enough bars"].status is Status.PASS
        assert verdicts["pre-trade limits"].status is Status.PASS
        assert monitor.numbers("test")["paired_bars"] > 5
    finally:
        for b in bots.values():
            b.stop()
