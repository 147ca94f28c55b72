"""The load client's own timings on the routes the server's histogram counts.

The fallback of the p95-vs-baseline rule when a target exposes no server timings: the
client's p95 minus its overhead floor (see :func:`goldgate.criteria.load.overhead_floor_ms`).
Both need the client's numbers on the same requests the server side counts, so the
records are filtered by the same route expression (``metrics.routes``, matched against
the path of each request's name, e.g. ``GET /api/v1/signal``), and the floor's candidates
(the fastest successful answer per route) are read from the whole run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from goldgate.criteria.load import ClientTimings, RouteSpread
from goldgate.load.records import RequestRecord
from goldgate.load.runner import LoadResult
from goldgate.load.stats import percentile
from goldgate.probes.metrics.base import DEFAULT_API_ROUTES

__all__ = ["client_timings", "timings_of_records"]


def _path(name: str) -> str:
    """``"GET /api/v1/signal"`` -> ``"/api/v1/signal"`` (names without a method are paths)."""
    return name.split(" ", 1)[1] if " " in name else name


def timings_of_records(records: Sequence[RequestRecord], routes: str = DEFAULT_API_ROUTES) -> ClientTimings:
    """Client p95 and count on ``routes``, their fastest success, the cheapest route's fastest, and
    every route's spread (answers, p95, fastest)."""
    pattern = re.compile(routes)
    matched = sorted(r.ms for r in records if pattern.fullmatch(_path(r.name)))
    ok: dict[str, list[float]] = {}
    for r in records:
        if r.ok and r.ms >= 0:
            ok.setdefault(r.name, []).append(r.ms)
    fastest_ok = {name: min(times) for name, times in ok.items()}
    matched_ok = [ms for name, ms in fastest_ok.items() if pattern.fullmatch(_path(name))]
    cheapest = min(fastest_ok.items(), key=lambda kv: kv[1], default=("", None))
    spreads = tuple(RouteSpread(name, len(times), float(percentile(sorted(times), 95) or 0.0), min(times))
                    for name, times in sorted(ok.items()))
    return ClientTimings(routes=routes, p95_ms=percentile(matched, 95), requests=len(matched),
                         min_ms=min(matched_ok) if matched_ok else None, cheapest_route=cheapest[0],
                         cheapest_min_ms=cheapest[1], spreads=spreads)


def client_timings(result: LoadResult, routes: str = DEFAULT_API_ROUTES) -> ClientTimings:
    """:func:`timings_of_records` of one finished run."""
    return timings_of_records(result.records, routes)
