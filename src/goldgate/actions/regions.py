"""Mutations of a two-region setup (guide §9.3): the manual failback, and the drill's record.

A failback is an operator's act, never automatic: it is an HTTP call to the global
traffic manager's failback hook (``regions.failback_url``), which runs the runbook's
steps there (resynchronise the primary's database from the promoted one, switch writes
back, point the global endpoint at the primary). The drill's outcome is recorded as an
action too, so the audit trail answers "when did the last failover drill pass".
"""

from __future__ import annotations

import time
from typing import Any

from goldgate.actions.base import ActionFailed, ActionResult, SafetyLike, perform
from goldgate.probes.http import HttpProbe

__all__ = ["fail_back", "pause_standby_replication", "record_drill"]

DRILL_ACTION = "failover-drill"


def fail_back(safety: SafetyLike, hook: HttpProbe, *, reason: str = "") -> ActionResult:
    """``POST`` the failback hook; anything but 2xx is a failed action naming the answer."""
    def _post() -> None:
        obs = hook.post("", {"reason": reason or "manual failback"})
        if obs.status is None or not 200 <= obs.status < 300:
            answer = f"HTTP {obs.status}: {obs.body[:200]}" if obs.status is not None else obs.error
            raise ActionFailed(f"POST {hook.base_url} answered {answer}")

    _, result = perform(safety, "failback", hook.base_url, _post, reason=reason)
    return result


def pause_standby_replication(safety: SafetyLike, standby_url: str, *, timeout_s: float = 15.0) -> ActionResult:
    """Make the standby lag, as a rehearsal of a standby that fell behind: its WAL receiver is
    cut (``primary_conninfo`` cleared, configuration reloaded) and replay paused
    (``pg_wal_replay_pause()``), so WAL the primary writes from now on never reaches it.

    Pausing replay alone is not enough: promotion replays every record already received.
    Needs a superuser connection to the standby (``regions.standby_database_url``).
    """
    import psycopg

    dsn = standby_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _pause() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(timeout_s / 3))) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                    raise ActionFailed("the server is not a standby (pg_is_in_recovery() is false)")
                conn.execute("ALTER SYSTEM SET primary_conninfo = ''")
                conn.execute("SELECT pg_reload_conf()")
                deadline = time.monotonic() + timeout_s
                while conn.execute("SELECT count(*) FROM pg_stat_wal_receiver").fetchone()[0]:  # type: ignore[index]
                    if time.monotonic() > deadline:
                        raise ActionFailed(f"the WAL receiver is still connected {timeout_s:g}s after "
                                           "primary_conninfo was cleared")
                    time.sleep(0.1)
                conn.execute("SELECT pg_wal_replay_pause()")
        except psycopg.Error as exc:
            raise ActionFailed(f"standby database: {str(exc).strip()}") from None

    _, result = perform(safety, "pause-replication", _redacted(dsn), _pause)
    return result


def _redacted(dsn: str) -> str:
    """The URL without its password, for the audit record."""
    scheme, sep, rest = dsn.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        return f"{scheme}{sep}{creds.split(':', 1)[0]}@{host}"
    return dsn


def record_drill(safety: SafetyLike, global_url: str, result: str, **measured: Any) -> ActionResult:
    """The drill's result (``passed``/``failed``) and its numbers, into the run's audit record."""
    _, recorded = perform(safety, DRILL_ACTION, global_url, lambda: None, result=result, **measured)
    return recorded
