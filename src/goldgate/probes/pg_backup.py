"""PostgreSQL backups taken and verified by the real tools, and the records they leave.

*Take* (:func:`take_backup`): one ``REPEATABLE READ`` transaction exports its snapshot
(``pg_export_snapshot()``), counts every table's rows in it, and ``pg_dump --snapshot``
dumps exactly that snapshot (custom format). The counts are therefore the source's at the
instant of the dump, not a second look taken later; they go into the catalogue entry with
the time, the size and the archive's sha256.

*Verify* (:func:`verify_backup`): the archive is restored with ``pg_restore`` into a
scratch database goldgate creates for it (:func:`scratch_database`: a new name, proven
empty before the first write, dropped afterwards), its rows are counted and compared with
the catalogue's, and a line is appended to the verification log - written only here, after
a restore really ran, with the time it ran.

A sandbox's backup job and a team's own tool write the same catalogue
(``catalogue.json``: ``{"backups": [{file, kind, taken_at, tables, sha256}]}``) and log
(``verifications.jsonl``); the checks read them (:mod:`goldgate.probes.database`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import POSTGRES_HINT, RestoreResult, redacted, restore, sha256_of

__all__ = ["CATALOGUE", "VERIFICATIONS", "RegionCopy", "Verification", "connect", "psycopg_dsn", "read_verifications", "scratch_database",
           "second_region_copy", "take_backup", "verify_backup"]

CATALOGUE = "catalogue.json"
VERIFICATIONS = "verifications.jsonl"
CONNECT_TIMEOUT_S = 5
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
SCRATCH_PREFIX = "goldgate_scratch_"


def psycopg_dsn(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` -> ``postgresql://``)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _sqlalchemy(url: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", url)


def connect(url: str, **kw: Any) -> Any:
    """A psycopg connection to ``url`` with a bounded connect time."""
    import psycopg

    return psycopg.connect(psycopg_dsn(url), connect_timeout=CONNECT_TIMEOUT_S, **kw)  # type: ignore[arg-type]


def _user_tables(conn: object) -> list[str]:
    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname <> ALL(%s) ORDER BY 1, 2",
        (list(SYSTEM_SCHEMAS),)).fetchall()
    return [t if s == "public" else f"{s}.{t}" for s, t in rows]


def _quoted(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _counts(conn: object) -> dict[str, int]:
    return {t: int(conn.execute(f"SELECT count(*) FROM {_quoted(t)}").fetchone()[0])  # type: ignore[attr-defined]  # noqa: S608 - names from pg_tables
            for t in _user_tables(conn) if t != "alembic_version"}


def _catalogue(folder: Path) -> list[dict[str, object]]:
    path = folder / CATALOGUE
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["backups"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactUnavailable(path, f"unreadable backup catalogue: {exc}") from None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def take_backup(url: str, folder: Path, *, exclude_table_data: Sequence[str] = (), timeout_s: float = 600,
                kind: str = "full") -> dict[str, object]:
    """``pg_dump -Fc`` of ``url`` into ``folder`` with the row counts of the same snapshot;
    appends the entry to ``folder/catalogue.json`` and returns it.

    ``exclude_table_data`` is passed on as ``--exclude-table-data`` (what a filtered,
    therefore incomplete, backup job does); the counts still come from the source."""
    binary = shutil.which("pg_dump")
    if not binary:
        raise ArtifactUnavailable("pg_dump", f"not on PATH ({POSTGRES_HINT})")
    import psycopg

    folder.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    name = f"orders-{kind}-{started.strftime('%Y%m%dT%H%M%S%fZ')}.dump"
    target = folder / name
    try:
        # autocommit, so that this BEGIN opens the transaction (psycopg would open a READ COMMITTED one
        # implicitly, where every count takes a snapshot of its own instead of the exported one)
        with connect(url, autocommit=True) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = str(conn.execute("SELECT pg_export_snapshot()").fetchone()[0])  # type: ignore[index]
            counts = _counts(conn)
            cmd = [binary, "-Fc", f"--snapshot={snapshot}", "-f", str(target),
                   *(f"--exclude-table-data={t}" for t in exclude_table_data), psycopg_dsn(url)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise ArtifactUnavailable(target, f"pg_dump did not finish in {timeout_s:g} s") from None
            conn.execute("COMMIT")
    except psycopg.Error as exc:
        raise ArtifactUnavailable(redacted(url), f"backup: {type(exc).__name__}: {str(exc).strip()[:200]}") from None
    if proc.returncode != 0:
        raise ArtifactUnavailable(target, f"pg_dump failed: {proc.stderr.strip()[-300:]}")
    entry: dict[str, object] = {"file": name, "kind": kind, "taken_at": _iso(started), "tables": counts,
                                "sha256": sha256_of(target), "bytes": target.stat().st_size,
                                "tool": "pg_dump --snapshot", "source": redacted(url)}
    (folder / f"{name}.sha256").write_text(f"{entry['sha256']}  {name}\n", encoding="utf-8")
    entries = [*_catalogue(folder), entry]
    tmp = folder / (CATALOGUE + ".tmp")
    tmp.write_text(json.dumps({"backups": entries}, indent=2), encoding="utf-8")
    tmp.replace(folder / CATALOGUE)
    return entry


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A database goldgate creates on ``server_url``'s server for one restore, proven to be
    that new, empty database before anything is written, and dropped afterwards.

    ``CREATE DATABASE`` fails on a name that exists, so the name is this run's own; the
    proof reconnects and asks the server which database it is on and whether it holds a
    table. Yields a SQLAlchemy URL of it."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = SCRATCH_PREFIX + secrets.token_hex(6)
    parsed = make_url(_sqlalchemy(server_url))
    target = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        with connect(server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise ArtifactUnavailable(redacted(server_url), f"cannot create a scratch database: {type(exc).__name__}: "
                                                        f"{str(exc).strip()[:200]}") from None
    try:
        with connect(target) as conn:
            here = str(conn.execute("SELECT current_database()").fetchone()[0])  # type: ignore[index]
            tables = _user_tables(conn)
        if here != name or tables:
            raise ArtifactUnavailable(redacted(target), f"not the scratch database goldgate created ({here}, "
                                                        f"{len(tables)} tables): nothing restored")
        yield target
    finally:
        with contextlib.suppress(psycopg.Error), connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Verification:
    """One line of the verification log: a restore that ran, and what it found."""

    file: str
    verified_at: dt.datetime
    ok: bool
    duration_s: float
    restored: dict[str, int]
    recorded: dict[str, int]

    @property
    def matches(self) -> bool:
        return self.ok and bool(self.recorded) and self.restored == self.recorded


def verify_backup(folder: Path, entry: dict[str, object], server_url: str, *,
                  timeout_s: float = 900) -> tuple[RestoreResult, Verification]:
    """Restore the catalogue ``entry`` into a fresh scratch database on ``server_url``'s
    server, count, compare, and log the verification (``folder/verifications.jsonl``)."""
    backup = folder / str(entry["file"])
    recorded = {str(k): int(v) for k, v in dict(entry.get("tables") or {}).items()}  # type: ignore[call-overload]
    with scratch_database(server_url) as scratch:
        result = restore(backup, scratch, timeout_s=timeout_s, checksum=str(entry["sha256"]) if entry.get("sha256")
                         else None)
    done = Verification(str(entry["file"]), dt.datetime.now(dt.UTC), result.ok, round(result.duration_s, 3),
                        dict(result.tables), recorded)
    line = {"file": done.file, "verified_at": _iso(done.verified_at), "ok": done.ok, "duration_s": done.duration_s,
            "restored": done.restored, "recorded": done.recorded, "matches": done.matches}
    with (folder / VERIFICATIONS).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    return result, done


def read_verifications(folder: Path) -> list[Verification]:
    """The verification log, oldest first; a malformed line is an error naming file and line."""
    path = folder / VERIFICATIONS
    if not path.is_file():
        return []
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            when = dt.datetime.fromisoformat(str(data["verified_at"]).replace("Z", "+00:00"))
            found.append(Verification(str(data["file"]), when if when.tzinfo else when.replace(tzinfo=dt.UTC),
                                      bool(data["ok"]), float(data["duration_s"]),
                                      {str(k): int(v) for k, v in data.get("restored", {}).items()},
                                      {str(k): int(v) for k, v in data.get("recorded", {}).items()}))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArtifactUnavailable(path, f"line {number}: not a verification record ({exc})") from None
    return sorted(found, key=lambda v: v.verified_at)


@dataclass(frozen=True)
class RegionCopy:
    """The latest backup of the primary store and its copy in the second region's store."""

    backup: str  # file name of the latest backup in the primary store
    taken_at: dt.datetime
    recorded_sha256: str | None  # what the backup tool recorded when it took it
    copy: str | None = None  # the copy's path, when the second store has one
    copy_sha256: str | None = None  # the copy's digest, computed now


def second_region_copy(primary: Path, second: Path) -> RegionCopy:
    """Find the primary store's latest backup in ``second`` and hash the copy."""
    from goldgate.probes.database import list_backups

    latest = list_backups(primary)
    if not latest:
        raise ArtifactUnavailable(primary, "no backups in the primary region's store")
    newest = latest[-1]
    name = Path(newest.path).name
    if not second.is_dir():
        raise ArtifactUnavailable(second, "second region's backup store (recovery.second_region_backups) not found")
    copy = second / name
    if not copy.is_file():
        return RegionCopy(name, newest.taken_at, newest.checksum)
    return RegionCopy(name, newest.taken_at, newest.checksum, str(copy), sha256_of(copy))
