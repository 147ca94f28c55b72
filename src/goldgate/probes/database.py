"""The order database's recovery evidence: backups, restores into scratch, PITR settings.

Restores only ever write to a scratch database (a temporary SQLite file, or the
environment's ``database.scratch_url``); the live database is read, never written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable

BACKUP_SUFFIXES = (".sqlite3", ".sqlite", ".db", ".dump", ".pgdump")
POSTGRES_HINT = "apt-get install postgresql-client (pg_dump, pg_restore)"


@dataclass(frozen=True)
class Backup:
    path: str
    kind: str
    taken_at: dt.datetime
    tables: dict[str, int] | None  # row counts recorded when the backup was taken


@dataclass(frozen=True)
class RestoreResult:
    backup: str
    target: str
    ok: bool
    duration_s: float
    tables: dict[str, int] = field(default_factory=dict)
    error: str = ""


def _parse_time(path: Path, value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ArtifactUnavailable(path, f"taken_at {value!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def list_backups(folder: Path) -> list[Backup]:
    """Backups oldest first: from ``catalogue.json`` when present, else file modification times."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "backup folder not found")
    catalogue = folder / "catalogue.json"
    if catalogue.is_file():
        try:
            entries = json.loads(catalogue.read_text(encoding="utf-8"))["backups"]
            backups = [Backup(str(folder / e["file"]), e.get("kind", "full"), _parse_time(catalogue, e["taken_at"]),
                              e.get("tables")) for e in entries]
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactUnavailable(catalogue, f"unreadable backup catalogue: {exc}") from None
    else:
        backups = [
            Backup(str(p), "full", dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC), None)
            for p in folder.iterdir() if p.suffix in BACKUP_SUFFIXES
        ]
    return sorted(backups, key=lambda b: b.taken_at)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it instead
    (a password on a command line is visible to every process listing)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def count_rows(url: str) -> dict[str, int]:
    """Row count of every table in the database at ``url`` (SQLAlchemy URL)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            return {n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names}  # noqa: S608 - names from the catalogue of the scratch copy
    finally:
        engine.dispose()


def restore(backup: Path, scratch_url: str | None = None, *, timeout_s: float = 900) -> RestoreResult:
    """Restore ``backup`` into scratch and count its rows; times the whole restore.

    A missing backup file is :class:`ArtifactUnavailable` (nothing to measure); a backup
    that exists but does not restore is a measured failure (``ok=False`` with the cause).
    """
    if not backup.is_file():
        raise ArtifactUnavailable(backup, "backup file not found")
    started = time.monotonic()
    if backup.suffix in (".dump", ".pgdump"):
        return _restore_postgres(backup, scratch_url, started, timeout_s)
    scratch_dir = Path(tempfile.mkdtemp(prefix="goldgate-restore-"))
    target = scratch_dir / "restored.sqlite3"
    try:
        try:
            src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                dst.close()
                src.close()
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            tables = count_rows(f"sqlite:///{target}")
        except sqlite3.Error as exc:
            return RestoreResult(str(backup), "sqlite scratch", False, time.monotonic() - started, error=str(exc))
        return RestoreResult(str(backup), "sqlite scratch", True, time.monotonic() - started, tables)
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)


def _restore_postgres(backup: Path, scratch_url: str | None, started: float, timeout_s: float) -> RestoreResult:
    if not scratch_url:
        raise ArtifactUnavailable(backup, "a PostgreSQL backup needs database.scratch_url to restore into")
    binary = shutil.which("pg_restore")
    if not binary:
        raise ArtifactUnavailable("pg_restore", f"not on PATH ({POSTGRES_HINT})")
    target, env = _libpq(scratch_url)
    try:
        proc = subprocess.run([binary, "--clean", "--if-exists", "--no-owner", "--exit-on-error",
                               "-d", target, str(backup)],
                              capture_output=True, text=True, timeout=timeout_s, check=False, env=env)
    except subprocess.TimeoutExpired:
        return RestoreResult(str(backup), "postgresql scratch", False, time.monotonic() - started,
                             error=f"pg_restore did not finish in {timeout_s:g} s")
    if proc.returncode != 0:
        return RestoreResult(str(backup), "postgresql scratch", False, time.monotonic() - started,
                             error=proc.stderr.strip()[-300:])
    tables = count_rows(scratch_url)
    return RestoreResult(str(backup), "postgresql scratch", True, time.monotonic() - started, tables)


def pg_dump(url: str, target: Path, *, timeout_s: float = 600) -> None:
    """A custom-format dump of ``url`` (used to take the sandbox's PostgreSQL backups)."""
    binary = shutil.which("pg_dump")
    if not binary:
        raise ArtifactUnavailable("pg_dump", f"not on PATH ({POSTGRES_HINT})")
    source, env = _libpq(url)
    proc = subprocess.run([binary, "-Fc", "-f", str(target), source], capture_output=True, text=True,
                          timeout=timeout_s, check=False, env=env)
    if proc.returncode != 0:
        raise ArtifactUnavailable(target, f"pg_dump failed: {proc.stderr.strip()[-300:]}")


# ----------------------------------------------------------------------------- PITR
PITR_SETTINGS = ("wal_level", "archive_mode", "archive_command")


@dataclass(frozen=True)
class PitrSettings:
    source: str
    settings: dict[str, str]


def pitr_from_conf(path: Path) -> PitrSettings:
    """``key = value`` lines of a postgresql.conf (last one wins, as in PostgreSQL)."""
    if not path.is_file():
        raise ArtifactUnavailable(path, "PostgreSQL settings file not found")
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*(\w+)\s*=\s*(.*?)\s*(#.*)?$", line)
        if m and m[1] in PITR_SETTINGS:
            found[m[1]] = m[2].strip("'\"")
    return PitrSettings(str(path), found)


def pitr_from_server(url: str) -> PitrSettings:
    """``SHOW`` the settings on a running PostgreSQL server."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from goldgate.sandbox.bot.db import redacted

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return PitrSettings(redacted(url), {k: str(conn.execute(text(f"SHOW {k}")).scalar_one()) for k in PITR_SETTINGS})
    except SQLAlchemyError as exc:
        raise ArtifactUnavailable(redacted(url), f"cannot read settings: {type(exc).__name__}") from None
    finally:
        engine.dispose()
