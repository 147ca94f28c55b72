"""The signal model and the paper book, in-process (no server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.ledger import PaperLedger

MINUTE = 29_000_000  # a fixed minute in 2025


def test_same_minute_same_signal_even_in_another_process() -> None:
    here = model.predict("XAUUSD", MINUTE).as_dict()
    code = (f"from goldgate.sandbox.bot import model; "
            f"print(model.predict('XAUUSD', {MINUTE}).as_dict())")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=30).stdout.strip()
    assert there == str(here)


def test_a_day_of_signals_uses_every_side_with_sane_values() -> None:
    signals = [model.predict("XAUUSD", MINUTE + i) for i in range(0, 1440, 7)]
    assert {s.signal for s in signals} == {"BUY", "SELL", "HOLD"}
    assert all(0 <= s.confidence <= 1 for s in signals)
    assert all(2200 < s.price < 2500 for s in signals)
    assert signals[0].as_of == "2025-02-19T21:20:00Z"


def test_unknown_symbol_is_refused() -> None:
    with pytest.raises(model.UnknownSymbolError):
        model.predict("EURUSD", MINUTE)


def test_pnl_pays_half_the_spread_then_follows_the_price() -> None:
    book = PaperLedger()
    fill = book.fill_price("XAUUSD", "BUY", 2000.0)
    assert fill == 2000.15
    book.fill("XAUUSD", "BUY", 1.0, fill)  # 1 lot = 100 oz
    assert book.pnl(lambda _s: 2000.0) == pytest.approx(-15.0)
    assert book.pnl(lambda _s: 2010.0) == pytest.approx(985.0)
    book.fill("XAUUSD", "SELL", 1.0, book.fill_price("XAUUSD", "SELL", 2010.0))
    assert book.pnl(lambda _s: 1.0) == pytest.approx(970.0)  # flat: price no longer matters
