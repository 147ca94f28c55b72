"""The migration applied to the database the release runs on: the revision alembic recorded
in ``alembic_version`` and, where the server keeps commit times, when it committed.

A post-migration watch (guide §3.2 "monitor for 1+ hour") is only about a migration if the
live database carries it. The deploy pipeline migrates the live database; goldgate only
reads it, in a read-only transaction (``default_transaction_read_only``) with bounded
connect and statement times, and retries a refused connection once.

The commit time is ``pg_xact_commit_timestamp(xmin)`` of the ``alembic_version`` row: the
transaction that last wrote the row is the one ``alembic upgrade`` committed. PostgreSQL
keeps it only with ``track_commit_timestamp = on`` and only for transactions since it was
turned on; otherwise the time is unknown and :attr:`AppliedMigration.commit_note` says why.
The database's own ``now()`` is read in the same statement, so the commit can be placed on
this machine's clock by its age (:meth:`AppliedMigration.committed_locally_at`), whatever
the skew between the two clocks. Other engines (SQLite) report the revision only.

Example::

    applied = read_applied("postgresql://monitor@db:5432/orders")
    applied.revision, applied.committed_at, applied.commit_note
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import engine_of, redacted

__all__ = ["AppliedMigration", "read_applied", "since"]

STATEMENT_TIMEOUT_MS = 5000
#: A refused or reset connection is tried this many times in all (the read is idempotent).
ATTEMPTS = 2
RETRY_PAUSE_S = 0.5
_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class AppliedMigration:
    """What the live database says about its migrations, read at ``read_locally_at``."""

    source: str
    has_version_table: bool
    revisions: tuple[str, ...] = ()  # alembic_version rows (several when branches are merged in)
    committed_at: dt.datetime | None = None  # on the database's clock
    commit_note: str = ""  # why the commit time is unknown; empty when it is known
    read_at: dt.datetime | None = None  # the database's now() when read (same clock as committed_at)
    read_locally_at: float = field(default_factory=time.time)  # this machine's clock (epoch seconds)
    #: The earliest read (this machine's clock) that already saw this revision (see :func:`since`).
    seen_since: float | None = None

    @property
    def revision(self) -> str | None:
        """The revision (several joined by ``,``), or None when none is recorded."""
        return ",".join(sorted(self.revisions)) or None

    def committed_locally_at(self) -> float | None:
        """The commit time on this machine's clock: the read time minus the commit's age."""
        if self.committed_at is None or self.read_at is None:
            return None
        return self.read_locally_at - (self.read_at - self.committed_at).total_seconds()


def since(earlier: AppliedMigration, later: AppliedMigration) -> AppliedMigration:
    """``later``, remembering that ``earlier`` already saw the same revision.

    Without a commit time, the first read that saw the revision is the latest the
    migration can have committed; a different revision later means it changed in between.
    """
    if later.revision is None or later.revision != earlier.revision:
        return later
    first = earlier.seen_since if earlier.seen_since is not None else earlier.read_locally_at
    return replace(later, seen_since=min(first, later.read_locally_at))


def _aware(moment: object) -> dt.datetime | None:
    if not isinstance(moment, dt.datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__


def _read_postgres(url: str, shown: str) -> AppliedMigration:
    import psycopg

    from goldgate.probes.pg_backup import connect

    options = f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            with connect(url, autocommit=True, options=options) as conn:
                return _read_connected(conn, shown)
        except psycopg.OperationalError as exc:  # refused, reset, timed out: worth one more try
            last = exc
            if attempt + 1 < ATTEMPTS:
                time.sleep(RETRY_PAUSE_S)
        except psycopg.Error as exc:
            raise ArtifactUnavailable(shown, f"cannot read {_VERSION_TABLE}: {_first_line(exc)}") from None
    raise ArtifactUnavailable(shown, f"cannot connect after {ATTEMPTS} attempts: {_first_line(last)}"
                                     if last else "cannot connect") from None


def _read_connected(conn: object, shown: str) -> AppliedMigration:
    import psycopg

    run = conn.execute  # type: ignore[attr-defined]
    local = time.time()
    exists, now, tracking = run(f"SELECT to_regclass('{_VERSION_TABLE}') IS NOT NULL, now(), "
                                "current_setting('track_commit_timestamp')").fetchone()
    if not exists:
        return AppliedMigration(shown, False, read_at=_aware(now), read_locally_at=local,
                                commit_note="no alembic_version table")
    rows = run(f"SELECT version_num FROM {_VERSION_TABLE}").fetchall()  # noqa: S608 - a constant name
    revisions = tuple(str(r[0]) for r in rows)
    if not revisions:
        return AppliedMigration(shown, True, (), read_at=_aware(now), read_locally_at=local,
                                commit_note="alembic_version is empty")
    if str(tracking).lower() != "on":
        return AppliedMigration(shown, True, revisions, read_at=_aware(now), read_locally_at=local,
                                commit_note="track_commit_timestamp is off on the server")
    try:
        committed = run(f"SELECT max(pg_xact_commit_timestamp(xmin)) FROM {_VERSION_TABLE}").fetchone()[0]  # noqa: S608
    except psycopg.Error as exc:
        return AppliedMigration(shown, True, revisions, read_at=_aware(now), read_locally_at=local,
                                commit_note=f"the server keeps no commit time ({_first_line(exc)})")
    note = "" if committed is not None else ("the server kept no commit time for that transaction (committed "
                                             "before track_commit_timestamp was on, or too long ago)")
    return AppliedMigration(shown, True, revisions, _aware(committed), note, _aware(now), local)


def _read_other(url: str, shown: str) -> AppliedMigration:
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    local = time.time()
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise ArtifactUnavailable(shown, f"unusable database URL: {_first_line(exc)}") from None
    try:
        with engine.connect() as conn:
            if _VERSION_TABLE not in inspect(conn).get_table_names():
                return AppliedMigration(shown, False, read_locally_at=local, commit_note="no alembic_version table")
            rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).fetchall()  # noqa: S608
    except SQLAlchemyError as exc:
        raise ArtifactUnavailable(shown, f"cannot read {_VERSION_TABLE}: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    return AppliedMigration(shown, True, tuple(str(r[0]) for r in rows), read_locally_at=local,
                            commit_note=f"{engine_of(url)} keeps no commit times")


def read_applied(url: str, setting: str = "database.url") -> AppliedMigration:
    """Read ``alembic_version`` (and its commit time) of the database at ``url``.

    ``setting`` names the environment field the URL came from, for messages. A database
    that cannot be reached or read is :class:`ArtifactUnavailable` naming it (password
    masked); a database without the table is an answer (``has_version_table=False``).
    """
    shown = f"{setting} {redacted(url)}"
    if engine_of(url) == "postgresql":
        return _read_postgres(url, shown)
    return _read_other(url, shown)
