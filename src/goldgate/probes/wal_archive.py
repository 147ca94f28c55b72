"""Point-in-time recovery as the running PostgreSQL reports it: archiving settings, the
archiver's own statistics (``pg_stat_archiver``) and the WAL archive folder.

A ``postgresql.conf`` says what an operator meant; the server says what happens. A server
with ``archive_mode = on`` whose ``archive_command`` fails keeps every setting right while
archiving nothing: only ``pg_stat_archiver`` (a failure after the last success) shows it.
The archive's oldest segment says how far back a replay can reach. Read only.

Example::

    state = read_archiver("postgresql://backup@db:5432/postgres", Path("/var/lib/wal-archive"))
    state.archived_count, state.last_failed_time, state.oldest_segment_at
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import redacted

__all__ = ["ARCHIVE_SETTINGS", "ArchiverState", "read_archive_folder", "read_archiver"]

ARCHIVE_SETTINGS = ("wal_level", "archive_mode", "archive_command", "archive_timeout")
#: A WAL segment file name: timeline, log and segment, 8 hex digits each.
_SEGMENT = re.compile(r"^[0-9A-F]{24}$")
_BACKUP_HISTORY = re.compile(r"^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$")
CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class ArchiverState:
    """What the server and its archive folder say about WAL archiving, at ``read_at``."""

    source: str
    read_at: dt.datetime
    settings: dict[str, str]
    archived_count: int
    failed_count: int
    last_archived_wal: str | None = None
    last_archived_time: dt.datetime | None = None
    last_failed_wal: str | None = None
    last_failed_time: dt.datetime | None = None
    in_recovery: bool = False
    archive: str | None = None  # the archive folder, when the environment names one
    segments: int | None = None  # WAL segments in it
    oldest_segment: str | None = None
    oldest_segment_at: dt.datetime | None = None  # when it was archived (the copy's modification time)
    backup_histories: list[str] = field(default_factory=list)  # base backups' ``.backup`` history files
    #: When the database cluster was initialised (``initdb``): no archive can reach back before it.
    initialised_at: dt.datetime | None = None


def _aware(moment: object) -> dt.datetime | None:
    if not isinstance(moment, dt.datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def read_archive_folder(folder: Path) -> tuple[int, str | None, dt.datetime | None, list[str]]:
    """(segments, oldest segment, when it was archived, base-backup history files) of ``folder``."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "WAL archive folder (recovery.wal_archive) not found")
    try:
        names = [p for p in folder.iterdir() if p.is_file()]
    except OSError as exc:
        raise ArtifactUnavailable(folder, f"cannot list the WAL archive: {exc.strerror}") from None
    segments = sorted((p for p in names if _SEGMENT.match(p.name)), key=lambda p: p.stat().st_mtime)
    histories = sorted(p.name for p in names if _BACKUP_HISTORY.match(p.name))
    if not segments:
        return 0, None, None, histories
    oldest = segments[0]
    return len(segments), oldest.name, dt.datetime.fromtimestamp(oldest.stat().st_mtime, dt.UTC), histories


def initialised_at(system_identifier: object) -> dt.datetime | None:
    """When ``initdb`` made the cluster: PostgreSQL builds the system identifier from that
    moment, its seconds since the epoch in the upper 32 bits (``BootStrapXLOG``)."""
    if not isinstance(system_identifier, int) or isinstance(system_identifier, bool) or system_identifier <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(system_identifier >> 32, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def seconds_until_window(state: ArchiverState, window_s: float, max_wait_s: float) -> float:
    """How long a run that started its own order database (a rehearsal environment) should wait
    before its archive can reach back the PITR window: the archive's shortfall plus a second,
    when the database is younger than the window plus ``max_wait_s`` and the shortfall fits in
    ``max_wait_s``; 0 otherwise (an older database's archive is judged as it is read)."""
    if state.initialised_at is None or not (window_s > 0) or not (max_wait_s > 0):
        return 0.0
    age = (state.read_at - state.initialised_at).total_seconds()
    if age >= window_s + max_wait_s:
        return 0.0
    reach = (state.read_at - state.oldest_segment_at).total_seconds() if state.oldest_segment_at else 0.0
    wait = window_s - reach + 1.0
    return wait if 0 < wait <= max_wait_s else 0.0


def read_archiver(url: str, archive: Path | None = None, setting: str = "database.url") -> ArchiverState:
    """``SHOW`` the archiving settings and read ``pg_stat_archiver`` on the server at ``url``
    (a SQLAlchemy or libpq URL), then the archive folder when one is named."""
    import psycopg

    dsn = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    shown = f"{setting} {redacted(url)}"
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                             options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}") as conn:
            settings = {k: str(conn.execute(f"SHOW {k}").fetchone()[0]) for k in ARCHIVE_SETTINGS}  # type: ignore[index]
            row = conn.execute("SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
                               "last_failed_wal, last_failed_time, now(), pg_is_in_recovery() "
                               "FROM pg_stat_archiver").fetchone()
            control = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
    except psycopg.Error as exc:
        raise ArtifactUnavailable(shown, f"cannot read the archiver: {type(exc).__name__}: "
                                         f"{str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}") from None
    if row is None:
        raise ArtifactUnavailable(shown, "pg_stat_archiver returned no row")
    archived, last_wal, last_time, failed, failed_wal, failed_time, now, recovering = row
    state = ArchiverState(shown, _aware(now) or dt.datetime.now(dt.UTC), settings, int(archived), int(failed),
                          last_wal, _aware(last_time), failed_wal, _aware(failed_time), bool(recovering),
                          initialised_at=initialised_at(control[0] if control else None))
    if archive is None:
        return state
    count, oldest, oldest_at, histories = read_archive_folder(archive)
    return ArchiverState(**{**state.__dict__, "archive": str(archive), "segments": count, "oldest_segment": oldest,
                            "oldest_segment_at": oldest_at, "backup_histories": histories})
