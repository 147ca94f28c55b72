"""Guide §8.3 "Database: query latency, connection count", judged on the statistics the
order database keeps about itself (goldgate.probes.pg_activity). Pure."""

from __future__ import annotations

import math

from goldgate.criteria.registry import criterion
from goldgate.probes.pg_activity import DbActivity
from goldgate.verdict import Evidence, Verdict

__all__ = ["db_connections", "db_query_latency"]


def _evidence(sample: DbActivity) -> Evidence:
    return Evidence("postgresql statistics", sample.source, window=sample.window_s, samples=sample.calls, details={
        "pg_stat_statements": sample.statements, "calls": sample.calls, "exec_ms": sample.exec_ms,
        "connections": sample.connections, "max_connections": sample.max_connections, "note": sample.note})


def _limit(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf


@criterion(needs="pg_stat_statements readable and at least `min_statements` statements in the window")
def db_query_latency(sample: DbActivity, max_ms: float, min_statements: int) -> Verdict:
    """The mean execution time per statement over the window (the window's calls and time,
    not the server's lifetime averages) below ``max_ms``. A quiet window is INCONCLUSIVE."""
    crit = "database query latency below its limit"
    ev = _evidence(sample)
    if not _limit(max_ms):
        return Verdict.error(crit, f"thresholds.db_query_latency_ms = {max_ms!r} is not a positive finite number")
    if not sample.statements:
        return Verdict.error(crit, f"{sample.source}: {sample.note or 'pg_stat_statements is not readable'}",
                             threshold=max_ms, evidence=ev)
    if sample.calls < max(min_statements, 1) or not math.isfinite(sample.exec_ms) or sample.exec_ms < 0:
        return Verdict.inconclusive(crit, f"{sample.source}: {sample.calls} statements in {sample.window_s:g} s, "
                                    f"at least {max(min_statements, 1)} are needed", observed=sample.calls,
                                    threshold=min_statements, evidence=ev)
    mean = round(sample.mean_ms, 3)
    text = f"{sample.calls} statements in {sample.window_s:g} s took {sample.exec_ms:g} ms: {mean:g} ms each on average"
    if mean < max_ms:
        return Verdict.passed(crit, mean, max_ms, text, unit="ms", evidence=ev)
    return Verdict.failed(crit, mean, max_ms, f"{text}, limit {max_ms:g} ms", unit="ms", evidence=ev)


@criterion(needs="a connection count and a positive max_connections")
def db_connections(sample: DbActivity, max_ratio: float) -> Verdict:
    """Client connections at most ``max_ratio`` of ``max_connections``: a pool that grows
    towards the server's limit refuses the next order's connection."""
    crit = "database connections below their share of max_connections"
    ev = _evidence(sample)
    if not (_limit(max_ratio) and max_ratio <= 1):
        return Verdict.error(crit, f"thresholds.db_connections_ratio = {max_ratio!r} is not a share in (0, 1]")
    if sample.max_connections <= 0 or sample.connections < 0:
        return Verdict.error(crit, f"{sample.source}: {sample.connections} connections of max_connections "
                                   f"{sample.max_connections} is not a measurement", evidence=ev)
    limit = max_ratio * sample.max_connections
    text = f"{sample.connections} client connections of max_connections {sample.max_connections}"
    if sample.connections <= limit:
        return Verdict.passed(crit, sample.connections, round(limit, 1), f"{text} (limit {limit:g})", evidence=ev)
    return Verdict.failed(crit, sample.connections, round(limit, 1),
                          f"{text}, more than {max_ratio:.0%} of it ({limit:g})", evidence=ev)
