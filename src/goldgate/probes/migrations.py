"""Alembic migrations of a release project, run against a scratch database.

Reads the script directory (heads, revisions, whether each has a real downgrade) and
drives ``alembic upgrade`` / ``downgrade`` in-process on scratch: a temporary SQLite file
by default, or a throwaway schema inside ``database.scratch_url`` (PostgreSQL), dropped
afterwards. Every step snapshots the schema, so a downgrade that "succeeds" but leaves a
column behind is visible, not just one that raises.
"""

from __future__ import annotations

import ast
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable

Schema = dict[str, Any]


@dataclass(frozen=True)
class Revision:
    id: str
    down: tuple[str, ...]
    message: str
    path: str
    has_downgrade: bool
    downgrade_line: int | None


@dataclass(frozen=True)
class MigrationScripts:
    project: str
    heads: list[str]
    revisions: list[Revision]  # base first


@dataclass
class RoundTrip:
    backend: str
    steps: list[str] = field(default_factory=list)
    failure: str = ""
    head_schema: Schema = field(default_factory=dict)


def _config(project: Path) -> Any:
    from alembic.config import Config

    ini = project / "alembic.ini"
    if not ini.is_file():
        raise ArtifactUnavailable(ini, "alembic.ini not found")
    cfg = Config(str(ini))
    return cfg


def _downgrade_info(path: Path) -> tuple[bool, int | None]:
    """Whether ``downgrade()`` exists and does something (not just ``pass`` / ``...``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            real = [s for s in body if not isinstance(s, ast.Pass)]
            return bool(real), node.lineno
    return False, None


def read_scripts(project: Path) -> MigrationScripts:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = _config(project)
    try:
        script = ScriptDirectory.from_config(cfg)
        heads = list(script.get_heads())
        revs = list(script.walk_revisions(base="base", head="heads"))
    except (CommandError, SyntaxError, ImportError) as exc:
        raise ArtifactUnavailable(project / "migrations", f"cannot load the migration scripts: {exc}") from None
    out = []
    for rev in reversed(revs):
        path = Path(rev.path)
        has, line = _downgrade_info(path)
        down = rev.down_revision
        downs = tuple(down) if isinstance(down, tuple | list) else ((down,) if down else ())
        message = (rev.doc or "").strip().splitlines()[0] if rev.doc else ""
        out.append(Revision(rev.revision, downs, message, str(path), has, line))
    return MigrationScripts(str(project), heads, out)


# ----------------------------------------------------------------------------- scratch
@contextmanager
def scratch_engine(scratch_url: str | None) -> Iterator[tuple[Any, str]]:
    """An engine on an empty scratch database; yields ``(engine, description)``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from goldgate.sandbox.bot.db import redacted

    if not scratch_url or make_url(scratch_url).get_backend_name() == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="goldgate-migrations-"))
        engine = create_engine(f"sqlite:///{folder / 'scratch.sqlite3'}")
        try:
            yield engine, "sqlite scratch"
        finally:
            engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"goldgate_scratch_{secrets.token_hex(4)}"
    admin = create_engine(scratch_url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as exc:
        admin.dispose()
        raise ArtifactUnavailable(redacted(scratch_url), f"cannot create a scratch schema: {type(exc).__name__}") from None
    engine = create_engine(scratch_url, connect_args={"connect_timeout": 3, "options": f"-csearch_path={schema}"})
    try:
        yield engine, f"postgresql scratch schema {schema} on {redacted(scratch_url)}"
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def snapshot(conn: Any) -> Schema:
    """Tables → columns (type, nullable), unique column sets; alembic's own table excluded."""
    from sqlalchemy import inspect

    insp = inspect(conn)
    out: Schema = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        cols = {c["name"]: {"type": str(c["type"]).upper(), "nullable": bool(c["nullable"])}
                for c in insp.get_columns(table)}
        unique = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        unique |= {tuple(i["column_names"]) for i in insp.get_indexes(table) if i.get("unique")}
        indexes = sorted(i["name"] for i in insp.get_indexes(table) if i.get("name"))
        out[table] = {"columns": cols, "unique": sorted(unique), "indexes": indexes}
    return out


def diff(expected: Schema, actual: Schema) -> list[str]:
    """Human differences between two snapshots (empty when equal)."""
    out = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            out.append(f"table {table} missing")
            continue
        if table not in expected:
            out.append(f"table {table} left behind")
            continue
        e, a = expected[table], actual[table]
        for col in sorted(set(e["columns"]) | set(a["columns"])):
            if col not in a["columns"]:
                out.append(f"{table}.{col} missing")
            elif col not in e["columns"]:
                out.append(f"{table}.{col} left behind")
            elif e["columns"][col] != a["columns"][col]:
                out.append(f"{table}.{col} is {a['columns'][col]}, expected {e['columns'][col]}")
        if e["unique"] != a["unique"]:
            out.append(f"{table} unique keys {a['unique']}, expected {e['unique']}")
        if e["indexes"] != a["indexes"]:
            out.append(f"{table} indexes {a['indexes']}, expected {e['indexes']}")
    return out


def _run(cfg: Any, engine: Any, action: str, target: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.upgrade if action == "upgrade" else command.downgrade)(cfg, target)


def round_trip(project: Path, scratch_url: str | None = None) -> RoundTrip:
    """Upgrade revision by revision, downgrade back to base, upgrade to head again.

    After every downgrade the schema must equal the one recorded when the target
    revision was first reached; the final head must equal the first head.
    """
    scripts = read_scripts(project)
    cfg = _config(project)
    with scratch_engine(scratch_url) as (engine, backend):
        trip = RoundTrip(backend)
        if len(scripts.heads) != 1:
            trip.failure = f"cannot round-trip: {len(scripts.heads)} heads ({', '.join(scripts.heads)})"
            return trip
        seen: dict[str, Schema] = {"base": {}}
        try:
            for rev in scripts.revisions:
                step = f"upgrade {rev.id}"
                _run(cfg, engine, "upgrade", rev.id)
                with engine.connect() as conn:
                    seen[rev.id] = snapshot(conn)
                trip.steps.append(step)
            head = seen[scripts.revisions[-1].id] if scripts.revisions else {}
            for rev in reversed(scripts.revisions):
                target = rev.down[0] if rev.down else "base"
                step = f"downgrade {rev.id} -> {target}"
                _run(cfg, engine, "downgrade", target)
                with engine.connect() as conn:
                    problems = diff(seen[target], snapshot(conn))
                trip.steps.append(step)
                if problems:
                    trip.failure = f"{step} ({Path(rev.path).name}:{rev.downgrade_line or 0}) did not restore the schema: {'; '.join(problems)}"
                    return trip
            step = "upgrade head"
            _run(cfg, engine, "upgrade", "head")
            with engine.connect() as conn:
                final = snapshot(conn)
            trip.steps.append(step)
            problems = diff(head, final)
            if problems:
                trip.failure = f"second upgrade to head differs from the first: {'; '.join(problems)}"
            trip.head_schema = final
        except Exception as exc:  # any migration error is the measured outcome of this step
            trip.failure = f"{step} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        return trip


@dataclass(frozen=True)
class SmokeResult:
    sql_file: str
    statements: int
    failures: list[str]
    head_schema: Schema


def upgrade_and_smoke(project: Path, sql_file: Path, scratch_url: str | None = None) -> SmokeResult:
    """Upgrade scratch to head, then run the previous release's queries (rolled back)."""
    from sqlalchemy import text

    if not sql_file.is_file():
        raise ArtifactUnavailable(sql_file, "previous release's smoke queries not found")
    statements = [s.strip() for s in _strip_comments(sql_file.read_text(encoding="utf-8")).split(";") if s.strip()]
    cfg = _config(project)
    failures = []
    with scratch_engine(scratch_url) as (engine, _backend):
        try:
            _run(cfg, engine, "upgrade", "heads")
        except Exception as exc:
            return SmokeResult(str(sql_file), len(statements), [f"upgrade to head failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"], {})
        with engine.connect() as conn:
            schema = snapshot(conn)
            for number, stmt in enumerate(statements, start=1):
                trans = conn.begin_nested() if conn.in_transaction() else conn.begin()
                try:
                    conn.execute(text(stmt))
                except Exception as exc:
                    failures.append(f"statement {number} ({stmt[:60]}...): {str(exc).splitlines()[0][:160]}")
                finally:
                    trans.rollback()
    return SmokeResult(str(sql_file), len(statements), failures, schema)


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def compare_with_bot(project: Path, scratch_url: str | None = None) -> tuple[list[str], str]:
    """Differences between the schema at head and the bot's own ``orders`` definition.

    Both are built on the same kind of scratch database, so type spellings agree; index
    names are not compared (the bot declares uniqueness, the migration names an index).
    """
    from goldgate.sandbox.bot.db import metadata

    cfg = _config(project)  # a missing alembic.ini is unavailable input, not a difference
    with scratch_engine(scratch_url) as (engine, backend):
        try:
            _run(cfg, engine, "upgrade", "heads")
        except Exception as exc:  # a failing upgrade is what this comparison found
            return [f"upgrade to head failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"], backend
        with engine.connect() as conn:
            head = snapshot(conn)
    with scratch_engine(scratch_url) as (engine, _):
        metadata.create_all(engine)
        with engine.connect() as conn:
            expected = snapshot(conn)
    for schema in (head, expected):
        for table in schema.values():
            table["indexes"] = []
    return diff(expected, head), backend
