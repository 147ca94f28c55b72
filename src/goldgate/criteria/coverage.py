"""How far a set of time spans covers a window without a gap: one walk for every on-call
check (the release manifest's confirmed shifts, a paging service's on-call entries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

_FAR_PAST = dt.datetime.min.replace(tzinfo=dt.UTC)
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def covered_from(spans: Iterable[tuple[dt.datetime | None, dt.datetime | None, str]], start: dt.datetime,
                 end: dt.datetime) -> tuple[dt.datetime, list[str]]:
    """How far from ``start`` the spans reach without a gap (stopping once past ``end``), and
    whose spans carry it there. A span without a start or an end is open on that side;
    empty or reversed spans cover nothing."""
    ordered = sorted(((s or _FAR_PAST, e or _FAR_FUTURE, who) for s, e, who in spans
                      if (s or _FAR_PAST) < (e or _FAR_FUTURE)), key=lambda t: t[0])
    reached, names = start, []
    for s, e, who in ordered:
        if e <= reached:
            continue
        if s > reached:
            break
        reached, names = e, [*names, who]
        if reached >= end:
            break
    return reached, names
