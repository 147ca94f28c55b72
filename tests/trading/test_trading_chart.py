"""The per-phase trading chart renders from a phase's numbers (and from none)."""

from __future__ import annotations

from pathlib import Path

from goldgate.report.trading_chart import render_phase


def test_renders_agreement_orders_and_pnl(tmp_path: Path) -> None:
    numbers = {"phase": "canary 10 %", "min_agreement": 0.95, "max_drawdown_usd": 500, "paired_bars": 40,
               "series": [{"elapsed_s": t, "agreement": 1.0 if t else None, "canary_orders": 3 * t,
                           "stable_orders": 9 * t, "canary_pnl_usd": -t, "stable_pnl_usd": t}
                          for t in range(5)]}
    png = render_phase(numbers, tmp_path / "p.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_renders_an_empty_phase(tmp_path: Path) -> None:
    assert render_phase({"phase": "empty"}, tmp_path / "e.png").stat().st_size > 0
