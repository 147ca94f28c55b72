"""The trading evidence source and the kill switch against the real reference bot.

Two reference bot processes on loopback decide on the same in-process market (same seed,
same bar length): one as "stable", one as "canary" with a fault knob. goldgate reads both
through the environment's default ``trading:`` names, pairs them by bar and halts them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldgate.actions.trading import halt_trading, orders_after_halt
from goldgate.config import Timeouts, TradingSettings
from goldgate.criteria.trading_rollout import halt_verified
from goldgate.probes.metrics.base import Selector
from goldgate.probes.trading import PodEndpoint, TradingRecordSource
from goldgate.rollout.trading_monitor import pair_counts
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Status
from tests.bot.conftest import BotProcess, _spawn

TIMEOUTS = Timeouts(connect_s=1.0, read_s=3.0, retries=2, backoff_s=0.05)
MARKET = {"MARKET_SEED": "42", "MARKET_BAR_S": "0.25", "BOT_WARMUP_S": "0"}


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BotProcess]]:
    tmp: Path = tmp_path_factory.mktemp("trading-bots")
    started = {"stable": _spawn(tmp, dict(MARKET), [], True),
               "flip": _spawn(tmp, {**MARKET, "FAULT_SIGNAL_FLIP": "0.5"}, [], True),
               "nokill": _spawn(tmp, {**MARKET, "FAULT_IGNORE_KILL_SWITCH": "true"}, [], True)}
    try:
        for bot in started.values():
            bot.wait_listening()
        yield started
    finally:
        for bot in started.values():
            bot.stop()


def _source(bots: dict[str, BotProcess]) -> TradingRecordSource:
    def endpoints(selector: Selector) -> list[PodEndpoint]:
        name = selector.labels["bot"]
        return [PodEndpoint(name, bots[name].url)]

    return TradingRecordSource(TradingSettings(), TIMEOUTS, endpoints)


def _read(window, bars: int, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        reading = window.read()
        if (reading.bars >= bars and not reading.errors) or time.monotonic() > deadline:
            return reading
        time.sleep(0.2)


def test_reads_the_reference_bots_record_paired_by_bar(bots) -> None:
    source = _source(bots)
    stable = source.start(Selector({"bot": "stable"}), "stable")
    flip = source.start(Selector({"bot": "flip"}), "canary")
    time.sleep(3.0)
    s, c = _read(stable, 20), _read(flip, 20)
    assert not s.errors and not c.errors, (s.errors, c.errors)
    assert {d.symbol for d in s.decisions} >= {"XAUUSD"}
    assert all(d.signal in ("BUY", "SELL", "HOLD") for d in s.decisions)
    assert s.pnl_usd is not None and s.open_orders is not None
    paired, agreed = pair_counts(c.decisions, s.decisions)
    assert paired >= 10, "the same market: the same bars"
    assert agreed < paired, "half the canary's signals are flipped"
    own_paired, own_agreed = pair_counts(s.decisions, s.decisions)
    assert own_paired == own_agreed


def test_the_kill_switch_halts_and_the_record_confirms_it(bots) -> None:
    source = _source(bots)
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    halts = halt_trading(source, safety, [PodEndpoint("stable", bots["stable"].url)], reason="test")
    try:
        assert halts[0].halted and halts[0].open_orders == 0, halts[0]
        time.sleep(1.0)
        late = orders_after_halt(source, halts)
        assert halt_verified({"stable": True}, late).status is Status.PASS
    finally:
        bots["stable"].post("/api/v1/trading/resume")


def test_an_ignored_kill_switch_shows_in_the_record(bots) -> None:
    source = _source(bots)
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    halts = halt_trading(source, safety, [PodEndpoint("nokill", bots["nokill"].url)], reason="test")
    assert halts[0].halted, "the faulty bot answers as if it halted"
    deadline = time.monotonic() + 8
    late: dict[str, list[str]] = {}
    while time.monotonic() < deadline and not late:
        time.sleep(0.5)
        late = orders_after_halt(source, halts)
    v = halt_verified({"nokill": True}, late)
    assert v.status is Status.FAIL and "halt ignored:" in v.reason and "orders after halt" in v.reason
