"""Mutations of the order database's server settings, for the archiving rehearsal.

A rehearsal proves that the point-in-time-recovery check sees an archiver that stopped
working while every setting still reads ``archive_mode = on``: ``archive_command`` is set
to a command that always fails (``ALTER SYSTEM`` plus a configuration reload, as an
operator's mistake would be), a WAL switch makes the archiver try it, and the action
returns once ``pg_stat_archiver`` records the failure. :func:`restore_archive_command`
puts the server's own setting back and lets the archiver catch up. Both need a superuser
connection and go through the safety policy like every mutation.
"""

from __future__ import annotations

import time
from typing import Any

from goldgate.actions.base import ActionFailed, ActionResult, SafetyLike, perform
from goldgate.probes.database import redacted

__all__ = ["FAILING_COMMAND", "fail_archive_command", "restore_archive_command"]

FAILING_COMMAND = "/bin/false"


def _connect(url: str) -> Any:
    from goldgate.probes.pg_backup import connect

    return connect(url, autocommit=True)


def _switch_and_wait(conn: Any, column: str, before: int, timeout_s: float) -> int:
    """Write a commit record, switch WAL segment, and wait until ``column`` grows past ``before``."""
    deadline = time.monotonic() + timeout_s
    while True:
        conn.execute("SELECT txid_current()")
        conn.execute("SELECT pg_switch_wal()")
        now = int(conn.execute(f"SELECT {column} FROM pg_stat_archiver").fetchone()[0])  # noqa: S608 - our column
        if now > before:
            return now
        if time.monotonic() > deadline:
            raise ActionFailed(f"pg_stat_archiver.{column} still {now} after {timeout_s:g} s")
        time.sleep(0.3)


def fail_archive_command(safety: SafetyLike, url: str, *, timeout_s: float = 20.0) -> ActionResult:
    """Break WAL archiving (``archive_command = '/bin/false'``) until the archiver records a failure."""
    import psycopg

    def _break() -> None:
        try:
            with _connect(url) as conn:
                failed = int(conn.execute("SELECT failed_count FROM pg_stat_archiver").fetchone()[0])
                conn.execute(f"ALTER SYSTEM SET archive_command = '{FAILING_COMMAND}'")
                conn.execute("SELECT pg_reload_conf()")
                _switch_and_wait(conn, "failed_count", failed, timeout_s)
        except psycopg.Error as exc:
            raise ActionFailed(f"order database: {str(exc).strip()[:200]}") from None

    _, result = perform(safety, "break-wal-archiving", redacted(url), _break, archive_command=FAILING_COMMAND)
    return result


def restore_archive_command(safety: SafetyLike, url: str, *, timeout_s: float = 30.0) -> ActionResult:
    """Undo :func:`fail_archive_command` (``ALTER SYSTEM RESET``) and wait for a segment to archive again."""
    import psycopg

    def _restore() -> None:
        try:
            with _connect(url) as conn:
                archived = int(conn.execute("SELECT archived_count FROM pg_stat_archiver").fetchone()[0])
                conn.execute("ALTER SYSTEM RESET archive_command")
                conn.execute("SELECT pg_reload_conf()")
                _switch_and_wait(conn, "archived_count", archived, timeout_s)
        except psycopg.Error as exc:
            raise ActionFailed(f"order database: {str(exc).strip()[:200]}") from None

    _, result = perform(safety, "restore-wal-archiving", redacted(url), _restore)
    return result
