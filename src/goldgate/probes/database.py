"""The order database's recovery evidence: backups, restores into scratch, PITR settings.

Restores only ever write to a scratch database (a temporary SQLite file, or the
environment's ``database.scratch_url``); the live database is read, never written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable

BACKUP_SUFFIXES = (".sqlite3", ".sqlite", ".db", ".dump", ".pgdump", ".backup")
POSTGRES_DUMPS = (".dump", ".pgdump", ".backup")
POSTGRES_HINT = "apt-get install postgresql-client (pg_dump, pg_restore)"
_TOC_CREATED = re.compile(r"^;\s*Archive created at (?P<when>.+?)\s*$", re.M)
_LABEL_START = re.compile(r"^START TIME:\s*(?P<when>.+?)\s*$", re.M)


@dataclass(frozen=True)
class Backup:
    path: str
    kind: str  # "full" (a logical or file copy) or "base" (a physical base backup WAL replays onto)
    taken_at: dt.datetime
    tables: dict[str, int] | None  # row counts recorded when the backup was taken
    checksum: str | None = None  # the sha256 the backup tool recorded beside the file
    dated_by: str = "mtime"  # where taken_at comes from: catalogue, pg_restore TOC, backup_label, mtime


@dataclass(frozen=True)
class RestoreResult:
    backup: str
    target: str
    ok: bool
    duration_s: float
    tables: dict[str, int] = field(default_factory=dict)
    error: str = ""
    integrity: str | None = None  # "ok" or the database's own integrity complaint
    checksum_ok: bool | None = None  # None when no checksum was recorded
    schema_head: str | None = None  # alembic_version of the restored copy


def _parse_time(path: Path, value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ArtifactUnavailable(path, f"taken_at {value!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def _tool_time(text: str, pattern: re.Pattern[str]) -> dt.datetime | None:
    """A time as pg_restore's TOC or a backup_label prints it ("2026-12-01 21:00:00 UTC")."""
    m = pattern.search(text)
    if not m:
        return None
    raw = m["when"].split(" (")[0].strip()
    zone = raw.rsplit(" ", 1)[-1]
    core = raw.removesuffix(zone).strip() if zone.isalpha() else raw
    try:
        moment = dt.datetime.fromisoformat(core)
    except ValueError:
        return None
    if moment.tzinfo is None and zone.upper() in ("UTC", "GMT", "Z"):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else None


def dump_created_at(path: Path, *, timeout_s: float = 60) -> dt.datetime | None:
    """When pg_dump wrote ``path``, from the archive's own table of contents."""
    binary = shutil.which("pg_restore")
    if not binary:
        return None
    try:
        proc = subprocess.run([binary, "--list", str(path)], capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return None
    return _tool_time(proc.stdout, _TOC_CREATED) if proc.returncode == 0 else None


def recorded_checksum(path: Path) -> str | None:
    """The digest in ``<backup>.sha256`` (``sha256sum`` output), if the tool wrote one."""
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.is_file():
        return None
    words = sidecar.read_text(encoding="utf-8", errors="replace").split()
    if not words or not re.fullmatch(r"[0-9a-fA-F]{64}", words[0]):
        raise ArtifactUnavailable(sidecar, "not a sha256sum line (64 hex digits, then the file name)")
    return words[0].lower()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _row_counts(folder: Path, counts_file: str | None) -> dict[str, dict[str, int]]:
    """``{backup file name: {table: rows}}`` from the team's row-count record, if it keeps one."""
    if not counts_file:
        return {}
    path = folder / counts_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(name): {str(t): int(n) for t, n in tables.items()} for name, tables in data.items()}
    except FileNotFoundError:
        raise ArtifactUnavailable(path, "row-count record (policy.backups.row_counts) not found") from None
    except (ValueError, AttributeError, TypeError) as exc:
        raise ArtifactUnavailable(path, f"expected {{backup file: {{table: rows}}}}: {exc}") from None


def _base_backup(path: Path) -> Backup | None:
    """A pg_basebackup folder (``backup_label`` or ``backup_manifest`` plus the data)."""
    label = path / "backup_label"
    if label.is_file():
        when = _tool_time(label.read_text(encoding="utf-8", errors="replace"), _LABEL_START)
        return Backup(str(path), "base", when or _mtime(label), None, None, "backup_label" if when else "mtime")
    if (path / "backup_manifest").is_file() or any(path.glob("base.tar*")):
        return Backup(str(path), "base", _mtime(path), None)
    return None


def _catalogued(folder: Path, catalogue: Path) -> list[Backup]:
    try:
        entries = json.loads(catalogue.read_text(encoding="utf-8"))["backups"]
        return [Backup(str(folder / e["file"]), e.get("kind", "full"), _parse_time(catalogue, e["taken_at"]),
                       e.get("tables"), recorded_checksum(folder / e["file"]), "catalogue") for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactUnavailable(catalogue, f"unreadable backup catalogue: {exc}") from None


def list_backups(folder: Path, counts_file: str | None = None) -> list[Backup]:
    """Backups oldest first, dated by what the backup tool recorded.

    A ``catalogue.json`` is read when present; otherwise every backup file is dated by its
    own record (pg_dump's table of contents, pg_basebackup's ``backup_label``) or its
    modification time, with the ``.sha256`` beside it and the row counts of
    ``counts_file`` when the team keeps them.
    """
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "backup folder not found")
    catalogue = folder / "catalogue.json"
    if catalogue.is_file():
        return sorted(_catalogued(folder, catalogue), key=lambda b: b.taken_at)
    counts = _row_counts(folder, counts_file)
    backups = []
    for p in sorted(folder.iterdir()):
        if p.is_dir():
            base = _base_backup(p)
            if base:
                backups.append(base)
            continue
        if p.suffix not in BACKUP_SUFFIXES:
            continue
        created = dump_created_at(p) if p.suffix in POSTGRES_DUMPS else None
        backups.append(Backup(str(p), "full", created or _mtime(p), counts.get(p.name), recorded_checksum(p),
                              "pg_restore TOC" if created else "mtime"))
    return sorted(backups, key=lambda b: b.taken_at)


_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*['"](?P<id>[\w-]+)['"]""", re.M)


def known_revisions(project: Path) -> set[str]:
    """Revision ids of every Alembic migration script in ``project`` (``versions/*.py``),
    read as text: a restored database at one of them is a database of this project."""
    found: set[str] = set()
    for path in project.rglob("versions/*.py"):
        if any(part in (".venv", "venv", "node_modules", "site-packages") for part in path.parts):
            continue
        try:
            found.update(m["id"] for m in _REVISION.finditer(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    return found


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
    return inspect_restored(url)[0]


def inspect_restored(url: str) -> tuple[dict[str, int], str | None]:
    """Row counts of every table of ``url`` and the migration revision it is at, if any."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            all_names = inspect(conn).get_table_names()
            names = [n for n in all_names if n != "alembic_version"]
            counts = {n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names}  # noqa: S608 - names from the catalogue of the scratch copy
            head = None
            if "alembic_version" in all_names:
                heads = [str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
                head = ",".join(sorted(heads)) or None
            return counts, head
    finally:
        engine.dispose()


def restore(backup: Path, scratch_url: str | None = None, *, timeout_s: float = 900,
            checksum: str | None = None) -> RestoreResult:
    """Restore ``backup`` into scratch, check it and count its rows; times the whole restore.

    ``checksum`` is the sha256 the backup tool recorded: a file that no longer matches it
    is a failed restore, whatever the database makes of it. A missing backup file is
    :class:`ArtifactUnavailable` (nothing to measure); a backup that exists but does not
    restore is a measured failure (``ok=False`` with the cause).
    """
    if not backup.is_file():
        raise ArtifactUnavailable(backup, "backup file not found")
    started = time.monotonic()
    checksum_ok = None
    if checksum:
        actual = sha256_of(backup)
        checksum_ok = actual == checksum.lower()
        if not checksum_ok:
            return RestoreResult(str(backup), "not restored", False, time.monotonic() - started,
                                 error=f"sha256 {actual[:16]}… does not match the recorded {checksum[:16]}…",
                                 checksum_ok=False)
    if backup.suffix in POSTGRES_DUMPS:
        result = _restore_postgres(backup, scratch_url, started, timeout_s)
    else:
        result = _restore_sqlite(backup, started)
    return replace(result, checksum_ok=checksum_ok)


def _restore_sqlite(backup: Path, started: float) -> RestoreResult:
    scratch_dir = Path(tempfile.mkdtemp(prefix="goldgate-restore-"))
    target = scratch_dir / "restored.sqlite3"
    try:
        try:
            src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                check = str(dst.execute("PRAGMA integrity_check").fetchone()[0])
            finally:
                dst.close()
                src.close()
            if check != "ok":
                return RestoreResult(str(backup), "sqlite scratch", False, time.monotonic() - started,
                                     error=f"integrity check: {check}", integrity=check)
            tables, head = inspect_restored(f"sqlite:///{target}")
        except sqlite3.Error as exc:
            return RestoreResult(str(backup), "sqlite scratch", False, time.monotonic() - started, error=str(exc))
        return RestoreResult(str(backup), "sqlite scratch", True, time.monotonic() - started, tables,
                             integrity="ok", schema_head=head)
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
                             error=proc.stderr.strip()[-300:], integrity=proc.stderr.strip()[-120:])
    tables, head = inspect_restored(scratch_url)
    # pg_restore --exit-on-error stops at the first broken object: a clean exit is its integrity check
    return RestoreResult(str(backup), "postgresql scratch", True, time.monotonic() - started, tables,
                         integrity="ok", schema_head=head)


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
    engine: str = "postgresql"  # the database engine the settings belong to


def redacted(url: str) -> str:
    """``url`` with its password masked, for messages and evidence."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://[^@/]*@", "://***@", url)


def engine_of(url: str) -> str:
    """The database engine a SQLAlchemy URL names (``postgresql``, ``sqlite``, ``mysql``…)."""
    return url.split(":", 1)[0].split("+", 1)[0].lower()


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


def pitr_from_url(url: str, setting: str = "database.url") -> PitrSettings:
    """The PITR settings of the database ``url`` (from the environment's ``setting``) names:
    ``SHOW`` on PostgreSQL; any other engine is reported as it is (it has no WAL archive to
    replay), never read as PostgreSQL."""
    engine = engine_of(url)
    if engine == "postgresql":
        found = pitr_from_server(url)
        return replace(found, source=f"{setting} {found.source}")
    return PitrSettings(f"{setting} {redacted(url)}", {}, engine)


def pitr_from_server(url: str) -> PitrSettings:
    """``SHOW`` the settings on a running PostgreSQL server (read only)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return PitrSettings(redacted(url), {k: str(conn.execute(text(f"SHOW {k}")).scalar_one()) for k in PITR_SETTINGS})
    except SQLAlchemyError as exc:
        raise ArtifactUnavailable(redacted(url), f"cannot read settings: {type(exc).__name__}") from None
    finally:
        engine.dispose()
