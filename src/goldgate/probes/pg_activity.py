"""The order database's query latency and connections (guide §8.3), from PostgreSQL's own
statistics views. Read only.

Latency comes from ``pg_stat_statements`` (it needs ``shared_preload_libraries`` and the
extension in the database): its counters are cumulative since the last reset, so two reads
``window_s`` apart give the calls and execution time *of the window*, whose quotient is the
mean time per statement then, not an average over the server's lifetime. Without the
extension the latency is unknown (the check says so; ``pg_stat_database`` has no
per-statement time). Connections are the client backends ``pg_stat_activity`` lists at the
end of the window, against the server's ``max_connections``.

Example::

    sample = read_activity("postgresql://monitor@db:5432/orders", window_s=10)
    sample.mean_ms, sample.connections, sample.max_connections
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import redacted

__all__ = ["DbActivity", "read_activity"]

CONNECT_TIMEOUT_S = 3
_STATEMENTS = ("SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0) FROM pg_stat_statements "
               "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
_CONNECTIONS = ("SELECT count(*) FILTER (WHERE backend_type = 'client backend'), "
                "current_setting('max_connections')::int FROM pg_stat_activity")


@dataclass(frozen=True)
class DbActivity:
    """Statements executed and their time over ``window_s``, and the connections at its end."""

    source: str
    window_s: float
    statements: bool  # pg_stat_statements was readable
    calls: int = 0
    exec_ms: float = 0.0
    connections: int = 0
    max_connections: int = 0
    note: str = ""

    @property
    def mean_ms(self) -> float:
        return self.exec_ms / self.calls if self.calls > 0 else float("nan")


def _statements(conn: object) -> tuple[int, float] | None:
    import psycopg

    try:
        calls, ms = conn.execute(_STATEMENTS).fetchone()  # type: ignore[attr-defined]
    except psycopg.Error:
        return None
    return int(calls), float(ms)


def read_activity(url: str, window_s: float, setting: str = "database.url") -> DbActivity:
    """Two reads of the statistics views ``window_s`` apart on the database at ``url``."""
    import psycopg

    from goldgate.probes.pg_backup import connect

    shown = f"{setting} {redacted(url)}"
    try:
        with connect(url, autocommit=True) as conn:
            first = _statements(conn)
            time.sleep(max(window_s, 0))
            last = _statements(conn) if first is not None else None
            connections, max_connections = conn.execute(_CONNECTIONS).fetchone()
    except psycopg.Error as exc:
        raise ArtifactUnavailable(shown, f"cannot read the statistics views: {type(exc).__name__}: "
                                         f"{str(exc).strip()[:200]}") from None
    base = DbActivity(shown, window_s, False, connections=int(connections), max_connections=int(max_connections))
    if first is None or last is None:
        return DbActivity(**{**base.__dict__, "note": "pg_stat_statements is not readable (not in "
                                                    "shared_preload_libraries, or the extension is not created)"})
    return DbActivity(**{**base.__dict__, "statements": True, "calls": last[0] - first[0],
                         "exec_ms": round(last[1] - first[1], 3)})
