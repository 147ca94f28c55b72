"""Enough market to judge: a closed market or too few bars is INCONCLUSIVE, naming why.

The trading criteria compare decisions on bars. While the market is closed the feed gives
no bars and the bots make no decisions, so there is nothing to compare: a phase that falls
in a closed session must say so, never pass on silence and never roll back for it. This
check states the cause: the session the feed reports closed, no bars since a time, or fewer
bars than ``trading.min_bars`` on a track. It passes only when both tracks decided at least
``min_bars`` bars and the newest bar is recent; it never fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.records import TrackStream, problems
from goldgate.verdict import Evidence, Verdict

__all__ = ["MARKET", "trading_evidence"]

MARKET = "market open with enough bars (§8.2 trades)"


def _bars(track: TrackStream) -> tuple[int, float | None]:
    times = {(d.bar_time, d.symbol) for d in track.decisions}
    return len(times), max((t for t, _ in times), default=None)


@criterion(needs="an open market (as far as known) and at least min_bars bars decided by each track, the newest "
                 "within max_gap_s of now")
def trading_evidence(
    canary: TrackStream,
    stable: TrackStream | None,
    *,
    min_bars: int,
    market_open: bool | None = None,
    now: float | None = None,
    max_gap_s: float | None = None,
    criterion: str = MARKET,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """PASS when there is enough market to judge; INCONCLUSIVE naming the cause otherwise.
    ``stable`` is ``None`` where nothing runs beside the release (only the canary is counted)."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": "bars", "evidence": tuple(evidence)}
    if not (isinstance(min_bars, int) and not isinstance(min_bars, bool) and min_bars >= 1):
        return Verdict.error(criterion, f"min_bars must be a positive integer, got {min_bars!r}", **kw)
    tracks = [("canary", canary)] + ([("stable", stable)] if stable is not None else [])
    counts: dict[str, tuple[int, float | None]] = {}
    for name, track in tracks:
        if not isinstance(track, TrackStream):
            return Verdict.error(criterion, f"unusable {name} record: not a track ({type(track).__name__})", **kw)
        bad = problems(track.decisions, track=name)
        if bad:
            return Verdict.error(criterion, f"unusable decision record: {bad[0]}", **kw)
        counts[name] = _bars(track)
    fewest = min(n for n, _ in counts.values())
    newest = max((t for _, t in counts.values() if t is not None), default=None)
    details = {name: {"bars": n, "newest_bar": t} for name, (n, t) in counts.items()} | {
        "min_bars": min_bars, "market_open": market_open}
    kw["evidence"] = (*kw["evidence"], Evidence("decision record", "bars decided per track", None, fewest, details))
    seen = ", ".join(f"{name} {n} bars" for name, (n, _) in counts.items())
    if market_open is False:
        return Verdict.inconclusive(criterion, f"market closed: the feed produces no bars, nothing to judge ({seen})",
                                    observed=fewest, threshold=min_bars, **kw)
    timed = now is not None and max_gap_s is not None and isinstance(now, int | float) and math.isfinite(now)
    if timed and (newest is None or now - newest > max_gap_s):
        since = "during the phase" if newest is None else f"since {newest:g} ({now - newest:g}s ago)"
        return Verdict.inconclusive(
            criterion, f"no bars {since}, longer than {max_gap_s:g}s: the market is closed or the bots stopped "
                       f"deciding ({seen})", observed=fewest, threshold=min_bars, **kw)
    short = [f"{name} {n}" for name, (n, _) in counts.items() if n < min_bars]
    if short:
        return Verdict.inconclusive(criterion, f"too few bars: {', '.join(short)}, need at least {min_bars} per track",
                                    observed=fewest, threshold=min_bars, **kw)
    return Verdict.passed(criterion, fewest, min_bars, f"market open: {seen} (at least {min_bars} each)", **kw)
