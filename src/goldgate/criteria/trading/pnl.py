"""P&L drawdown of the canary since it started trading (guide §8.2 P&L).

A release that bleeds money on every fill (``FAULT_FILL_SLIPPAGE_BPS``) agrees on every
signal and trades at the right rate; its mark-to-market P&L shows it. The rule is a budget,
not a statistic: the canary's drawdown - the largest fall of its P&L from its running peak,
the peak starting at its first sample - above ``trading.max_drawdown_usd`` rolls back at
once. A drawdown within the budget passes once ``min_points`` samples span the phase.

The P&L difference versus the stable version (change over the same span, per replica) is
shown with the verdict and not decided: P&L is heavy-tailed and autocorrelated, and a
phase of minutes holds too little of it to tell skill from luck at a bounded error rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.records import TrackStream
from goldgate.verdict import Evidence, Verdict

__all__ = ["DRAWDOWN", "drawdown_of", "pnl_drawdown"]

DRAWDOWN = "P&L drawdown (§8.2 P&L)"

Series = Sequence[tuple[float, float]]


def _series(side: TrackStream | Series | None, name: str) -> tuple[list[tuple[float, float]], str]:
    """The samples in time order, or a sentence naming the first unusable one."""
    if side is None:
        return [], ""
    raw = side.pnl if isinstance(side, TrackStream) else side
    out = []
    try:
        for i, point in enumerate(raw):
            t, v = point
            for what, x in (("time", t), ("pnl_usd", v)):
                if not (isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)):
                    return [], f"{name} P&L sample #{i}: {what} {x!r} is not a finite number"
            out.append((float(t), float(v)))
    except (TypeError, ValueError):
        return [], f"{name} P&L samples are not (time, USD) pairs"
    out.sort()
    return out, ""


def drawdown_of(series: Series) -> tuple[float, float, float]:
    """(drawdown USD, time of its trough, peak before it) of a time-ordered series."""
    peak, worst, at, worst_peak = -math.inf, 0.0, math.nan, math.nan
    for t, v in series:
        peak = max(peak, v)
        if peak - v > worst:
            worst, at, worst_peak = peak - v, t, peak
    return worst, at, worst_peak


def _change(series: Series, start: float, end: float) -> float | None:
    inside = [v for t, v in series if start <= t <= end]
    return inside[-1] - inside[0] if len(inside) >= 2 else None


@criterion(needs="at least min_points finite P&L samples of the canary since it started trading, with the "
                 "drawdown within the budget")
def pnl_drawdown(
    canary: TrackStream | Series,
    budget_usd: float,
    *,
    stable: TrackStream | Series | None = None,
    min_points: int = 2,
    criterion: str = DRAWDOWN,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) when the canary's drawdown exceeds ``budget_usd``; the P&L difference
    versus the stable version is shown, not decided."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": "USD", "evidence": tuple(evidence)}
    if not (isinstance(budget_usd, int | float) and not isinstance(budget_usd, bool) and math.isfinite(budget_usd)
            and budget_usd > 0):
        return Verdict.error(criterion, f"max_drawdown_usd must be a positive number, got {budget_usd!r}",
                             threshold=budget_usd, **kw)
    points, problem = _series(canary, "canary")
    if not problem:
        other, problem = _series(stable, "stable")
    if problem:
        return Verdict.error(criterion, f"unusable P&L record: {problem}", threshold=budget_usd, **kw)
    drawdown, at, peak = drawdown_of(points)
    details: dict[str, Any] = {"samples": len(points), "drawdown_usd": drawdown, "trough_at": at, "peak_usd": peak,
                               "budget_usd": budget_usd}
    span = (points[0][0], points[-1][0]) if points else None
    if span:
        mine = points[-1][1] - points[0][1]
        details |= {"canary_change_usd": mine, "from": span[0], "to": span[1]}
        theirs = _change(other, *span)
        if theirs is not None:
            per = (stable.replicas if isinstance(stable, TrackStream) and stable.replicas > 0 else 1)
            mine_per = mine / (canary.replicas if isinstance(canary, TrackStream) and canary.replicas > 0 else 1)
            details |= {"stable_change_usd": theirs, "difference_per_replica_usd": mine_per - theirs / per}
    window = None if not span else span[1] - span[0]
    kw["evidence"] = (*kw["evidence"], Evidence("canary P&L", "mark-to-market since it started trading", window,
                                                len(points), details))
    diff = details.get("difference_per_replica_usd")
    shown = "" if diff is None else f"; P&L vs the stable version {diff:+.2f} USD per replica (shown, not judged)"
    if drawdown > budget_usd:
        return Verdict.failed(criterion, drawdown, budget_usd,
                              f"canary drawdown {drawdown:.2f} USD (from {peak:.2f} to {peak - drawdown:.2f} at "
                              f"{at:g}) is above the budget {budget_usd:g} USD{shown}", **kw)
    if len(points) < min_points:
        return Verdict.inconclusive(criterion, f"only {len(points)} canary P&L samples, need at least {min_points}"
                                               f"{shown}", observed=drawdown if points else None,
                                    threshold=budget_usd, **kw)
    return Verdict.passed(criterion, drawdown, budget_usd,
                          f"canary drawdown {drawdown:.2f} USD over {len(points)} samples is within the budget "
                          f"{budget_usd:g} USD{shown}", **kw)
