"""Chart of a phase's trading: canary beside stable, with every number behind the verdict.

One PNG per phase (matplotlib Agg, as :mod:`goldgate.load.charts`): signal agreement
over the phase against the minimum, orders of canary and stable per bar per pod, and the
P&L of both over time. The same numbers go beside it as JSON, so a reader of the Allure
report can re-check any verdict without the picture.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no display here
import matplotlib.pyplot as plt

__all__ = ["attach_phase", "attach_report", "render_phase"]


def render_phase(numbers: Mapping[str, Any], path: Path) -> Path:
    """Write a three-panel PNG from a phase's trading numbers (see TradingMonitor.numbers)."""
    fig, (agree, trades, pnl) = plt.subplots(1, 3, figsize=(14, 4.2))
    series: Sequence[Mapping[str, Any]] = numbers.get("series") or []
    xs = [p.get("elapsed_s", i) for i, p in enumerate(series)]
    agree.plot(xs, [p.get("agreement") if p.get("agreement") is not None else float("nan") for p in series],
               marker="o", label="agreement (paired bars)")
    if numbers.get("min_agreement") is not None:
        agree.axhline(numbers["min_agreement"], color="red", linestyle="--", linewidth=1,
                      label=f"minimum {numbers['min_agreement']:g}")
    agree.set(title=f"signal agreement ({numbers.get('paired_bars', 0)} paired bars)", xlabel="seconds",
              ylabel="share of bars", ylim=(0, 1.02))
    for side in ("canary", "stable"):
        trades.plot(xs, [p.get(f"{side}_orders", float("nan")) for p in series], marker=".", label=f"{side} orders")
        pnl.plot(xs, [p.get(f"{side}_pnl_usd") if p.get(f"{side}_pnl_usd") is not None else float("nan")
                      for p in series], marker=".", label=f"{side} P&L (USD)")
    trades.set(title="orders placed", xlabel="seconds", ylabel="orders")
    if numbers.get("max_drawdown_usd") is not None:
        pnl.axhline(-float(numbers["max_drawdown_usd"]), color="red", linestyle="--", linewidth=1,
                    label=f"drawdown budget {numbers['max_drawdown_usd']:g} USD")
    pnl.set(title="mark-to-market P&L", xlabel="seconds", ylabel="USD")
    for ax in (agree, trades, pnl):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(str(numbers.get("phase", "trading")))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def attach_phase(numbers: Mapping[str, Any], directory: Path) -> None:
    """Attach the phase's chart and its numbers to the current Allure step (no-op without Allure)."""
    try:
        import allure
    except ImportError:
        return
    name = str(numbers.get("phase", "trading")).replace("/", "-").replace(" ", "_")
    try:
        png = render_phase(numbers, directory / f"trading-{name}.png")
        allure.attach.file(str(png), name=f"trading: {numbers.get('phase')}",
                           attachment_type=allure.attachment_type.PNG)
    except Exception:  # noqa: S110 - a chart that cannot be drawn never changes the outcome
        pass
    with contextlib.suppress(Exception):
        allure.attach(json.dumps(dict(numbers), indent=2, default=str), name=f"trading numbers: {numbers.get('phase')}",
                      attachment_type=allure.attachment_type.JSON)


def attach_report(report: Any, directory: Path | None = None) -> None:
    """Attach a chart and the numbers of every phase of a rollout report that judged trading."""
    import tempfile

    phases = [p["trading"] for p in getattr(report, "phases", ())
              if isinstance(p, Mapping) and isinstance(p.get("trading"), Mapping)]
    if not phases:
        return
    with tempfile.TemporaryDirectory(prefix="goldgate-trading-") as tmp:
        for numbers in phases:  # Allure copies each file into its results
            attach_phase(numbers, directory or Path(tmp))
