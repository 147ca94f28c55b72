"""The walk: base to heads one revision at a time on scratch, each one upgraded, downgraded
and upgraded again, and proof that all of it happened on the scratch database.

Where migrations land is measured, not assumed. env.py is handed the scratch URL every way
env.py files read one — ``sqlalchemy.url`` in the Config (what ``alembic init``'s generic
template reads), the environment variables the project says its env.py reads, and
``config.attributes["connection"]`` for env.py files that share a connection — and then:

1. before any write, env.py runs once with nothing to migrate (alembic's ``dont_mutate``)
   and the connection it opened is asked which file or schema it is on; anywhere else is
   :class:`ScratchNotReached` and nothing is migrated;
2. after the first upgrade, goldgate's own connection reads the scratch database's version
   table: it must exist and hold that revision, or :class:`ScratchNotReached` — and no
   downgrade is ever run.

The rest of the walk is one env.py run whose migration function is a generator: alembic
asks it for the next step only after the previous one ran, so the schema is snapshot on
env.py's own connection between steps without re-loading the project for each step.
Branches and merge points are walked in alembic's own topological order (the revision
map's ``iterate_revisions``, reversed: every revision after all it depends on). A downgrade that raises or leaves the schema changed condemns that
revision only: the walk starts again on a fresh scratch database and goes on with the next.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.migrations.isolation import DEFAULT_TIMEOUT_S, announce, run_isolated
from goldgate.probes.migrations.loading import LoadedProject, load_project, project_sys_path
from goldgate.probes.migrations.models import compare_models, load_models
from goldgate.probes.migrations.results import Reversal, SmokeResult, StepFailure, Walk
from goldgate.probes.migrations.schema import Schema, diff, snapshot
from goldgate.probes.migrations.scratch import ScratchDatabase, open_scratch, redact_url

__all__ = ["EnvPyUnloadable", "ScratchNotReached", "read_statements", "walk", "walk_here"]


class ScratchNotReached(ArtifactUnavailable):
    """env.py migrated (or would migrate) somewhere other than the scratch database."""


class EnvPyUnloadable(ArtifactUnavailable):
    """env.py could not be run at all (it raised before any migration step, or never returned)."""


def _same_file(a: str, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def env_py_failure(exc: BaseException, env_py: Path, what: str = "env.py raised") -> EnvPyUnloadable:
    """The line of env.py that raised (and the project file beneath it, if any) and why.

    A team reads "env.py:12" and opens the file; the exception's own first line says why.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, env_py):
        return EnvPyUnloadable(f"{env_py}:{exc.lineno}", f"env.py does not compile: SyntaxError: {exc.msg}")
    in_env = [f for f in frames if _same_file(f.filename, env_py)]
    where = f"{env_py}:{in_env[-1].lineno}" if in_env else str(env_py)
    inner = ""
    project = str(env_py.parent.parent)
    below = frames[frames.index(in_env[-1]) + 1:] if in_env else []
    mine = [f for f in below if f.filename.startswith(project) and not _same_file(f.filename, env_py)]
    if mine:  # the project's own module env.py imported or called, where it really broke
        inner = f" (at {Path(mine[-1].filename).name}:{mine[-1].lineno})"
    return EnvPyUnloadable(where, f"{what}: {_cause(exc)}{inner}")


def _needs_async_driver(exc: BaseException) -> bool:
    """env.py built an async engine (alembic's async templates) on a URL with a sync driver."""
    return "requires an async driver" in str(exc)


def _async_url(url: str, env_py: Path) -> str:
    """The scratch URL with the async driver of its backend (psycopg serves both)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        try:
            import aiosqlite  # noqa: F401
        except ImportError:
            raise EnvPyUnloadable(env_py, "env.py opens an async engine: a SQLite scratch database needs the "
                                          "aiosqlite driver (pip install aiosqlite), or give a PostgreSQL scratch "
                                          "--url (psycopg runs async)") from None
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


@contextmanager
def _environment(names: Sequence[str], url: str) -> Iterator[None]:
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update({n: url for n in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _shared_connection(engine: Any) -> Any:
    """A Connection env.py can use directly, or call ``.connect()`` on as if it were an Engine."""
    from contextlib import nullcontext

    from sqlalchemy.engine import Connection

    class SharedConnection(Connection):
        def connect(self) -> Any:  # env.py files written for an Engine in attributes["connection"]
            return nullcontext(self)

    return SharedConnection(engine)


@dataclass
class _Cursor:
    """The step alembic is running right now, so an exception can be pinned on its revision."""

    revision: str = ""
    direction: str = ""

    def at(self, revision: str, direction: str) -> None:
        self.revision, self.direction = revision, direction

    def clear(self) -> None:
        self.revision = self.direction = ""


@dataclass
class _Env:
    """Runs the project's env.py against one scratch database."""

    project: LoadedProject
    db: ScratchDatabase
    url_env_vars: Sequence[str]
    version_table: str = "alembic_version"
    version_schema: str | None = None
    url: str = ""  # what env.py is handed: the scratch URL, with an async driver where env.py needs one
    #: one database of a multidb project (alembic's multidb template): env.py is told that this
    #: one is the only database, and its section's sqlalchemy.url is the scratch database
    database: str = ""
    snapshots: dict[Any, Any] = field(default_factory=dict)  # reflection cache (see schema.snapshot)

    def run(self, fn: Callable[[Any, Any], Any], **opts: Any) -> None:
        from alembic.runtime.environment import EnvironmentContext

        cfg = self.project.config
        url = self.url or self.db.url
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        if self.database:
            cfg.set_main_option("databases", self.database)
            cfg.set_section_option(self.database, "sqlalchemy.url", url.replace("%", "%%"))
        shared = _shared_connection(self.db.engine)
        cfg.attributes["connection"] = shared
        announce("env.py", str(self.project.env_py))
        try:
            with project_sys_path(self.project.sys_paths), _environment(self.url_env_vars, url), \
                    EnvironmentContext(cfg, self.project.script, fn=fn, **opts):
                self.project.script.run_env()
            if shared.in_transaction():
                shared.commit()
        finally:
            announce("goldgate")
            cfg.attributes.pop("connection", None)
            shared.close()

    def step(self, revision: str, upgrade: bool) -> Any:
        from alembic.runtime.migration import RevisionStep

        script = self.project.script
        return RevisionStep(script.revision_map, script.get_revision(revision), upgrade)

    def run_steps(self, steps: Callable[[Any], Iterator[Any]], cursor: _Cursor) -> tuple[str, str, str] | None:
        """Run env.py once; ``(revision, direction, cause)`` when a migration step raised."""
        try:
            self.run(lambda _heads, ctx: steps(ctx))
        except Exception as exc:  # whatever a team's migration raises is the measured outcome
            if cursor.revision:
                return cursor.revision, cursor.direction, _cause(exc)
            raise env_py_failure(exc, self.project.env_py, "env.py raised outside any migration step") from None
        return None


def _where_env_py_lands(env: _Env, url_env_vars: Sequence[str]) -> tuple[str, str]:
    """Run env.py with nothing to migrate and ask its connection where it is (before any write)."""
    seen: dict[str, Any] = {}

    def look(heads: Any, ctx: Any) -> list[Any]:
        # called once per context.run_migrations(): an env.py with several databases must have
        # every one of them on scratch, so the first connection that is not decides
        conn = ctx.connection
        here = env.db.is_connection_here(conn)
        if seen.get("here", True):
            seen.update(url=redact_url(conn.engine.url), here=here, table=ctx.version_table,
                        schema=ctx.version_table_schema)
        seen["runs"] = seen.get("runs", 0) + 1
        return []

    for _attempt in range(2):
        try:
            env.run(look, dont_mutate=True)
            break
        except Exception as exc:  # env.py itself is broken: the project cannot be loaded
            if _attempt == 0 and _needs_async_driver(exc) and not env.url:
                env.url = _async_url(env.db.url, env.project.env_py)
                continue
            raise env_py_failure(exc, env.project.env_py) from None
    if not seen:
        raise ArtifactUnavailable(env.project.env_py, "env.py did not run the migrations online "
                                                      "(no context.run_migrations() on a connection)")
    if not seen["here"]:
        given = ", ".join(url_env_vars) or "none"
        raise ScratchNotReached(env.project.env_py,
                                f"env.py connected to {seen['url']}, not to {env.db.description}; nothing was "
                                f"migrated. It reads neither sqlalchemy.url, attributes['connection'] nor the "
                                f"environment variables given ({given}): name the variable with --url-env")
    if seen["runs"] > 1:  # two run_migrations() on one scratch database would share its version table
        raise EnvPyUnloadable(env.project.env_py, f"env.py runs the migrations {seen['runs']} times (one per "
                                                  "database, as alembic's multidb template does); goldgate walks "
                                                  "projects with one database")
    env.version_schema = seen["schema"] if env.db.schema else None  # PostgreSQL: a schema of the scratch database
    return seen["url"], seen["table"]


def _versions(db: ScratchDatabase, table: str, schema: str | None = None) -> list[str] | None:
    from sqlalchemy import column, inspect, select
    from sqlalchemy import table as table_clause

    with db.engine.connect() as conn:
        if not inspect(conn).has_table(table, schema=schema):
            return None
        return sorted(r[0] for r in conn.execute(select(column("version_num"))
                                                 .select_from(table_clause(table, schema=schema))))


def _prove(db: ScratchDatabase, table: str, expected: list[str], landed: str, after: str,
           schema: str | None = None) -> list[str]:
    """The scratch database's version table after ``after``: it must hold exactly ``expected``."""
    versions = _versions(db, table, schema)
    if versions != sorted(expected):
        found = "no version table" if versions is None else f"{table} holds {versions or 'nothing'}"
        raise ScratchNotReached(landed, f"after {after}, {db.description} has {found} (expected {sorted(expected)}): "
                                        "the migrations ran elsewhere; no downgrade was run")
    return versions


def _snap(env: _Env, conn: Any, cache: dict[Any, Any] | None = None) -> Schema:
    """The scratch schema plus every schema the walk made in the scratch database (PostgreSQL)."""
    skip = {env.version_table} | ({f"{env.version_schema}.{env.version_table}"} if env.version_schema else set())
    return snapshot(conn, frozenset(skip), cache, schemas=env.db.new_schemas(conn))


def _walk_once(env: _Env, w: Walk, judged: dict[str, Reversal], round_trip: bool,
               url_env_vars: Sequence[str]) -> bool:
    """One pass on one fresh scratch database; True when it must start again on another one."""
    order, first = w.revisions, w.revisions[0]
    w.landed, table = _where_env_py_lands(env, url_env_vars)
    env.version_table = table
    with env.db.engine.connect() as conn:
        baseline = _snap(env, conn)
    cursor = _Cursor()

    def first_upgrade(_ctx: Any) -> Iterator[Any]:
        cursor.at(first, "upgrade")
        yield env.step(first, True)
        cursor.clear()

    failed = env.run_steps(first_upgrade, cursor)
    if failed:
        w.upgrade_failure = StepFailure(first, "upgrade", w.files[first], failed[2])
        return False
    w.version_after_first = _prove(env.db, table, [first], w.landed, f"upgrading {first}", env.version_schema)
    if first not in w.upgraded:
        w.upgraded.append(first)
    restart = False

    def the_rest(ctx: Any) -> Iterator[Any]:
        nonlocal restart
        conn, cache = ctx.connection, env.snapshots
        last: Schema | None = baseline
        for i, rev in enumerate(order):
            trip = round_trip and rev not in judged
            before = (last if last is not None else _snap(env, conn, cache)) if trip else None
            if i > 0:
                cursor.at(rev, "upgrade")
                yield env.step(rev, True)
                cursor.clear()
                if rev not in w.upgraded:
                    w.upgraded.append(rev)
            last = None
            if not trip:
                continue
            after = _snap(env, conn, cache)
            cursor.at(rev, "downgrade")
            yield env.step(rev, False)
            cursor.clear()
            problems = diff(before or {}, _snap(env, conn, cache))
            if problems:
                judged[rev] = Reversal(rev, w.files[rev], False, "the downgrade did not restore the schema: "
                                                                 + "; ".join(problems))
                restart = True
                return
            cursor.at(rev, "upgrade again")
            yield env.step(rev, True)
            cursor.clear()
            last = _snap(env, conn, cache)
            problems = diff(after, last)
            if problems:
                judged[rev] = Reversal(rev, w.files[rev], False, "upgrading again after the downgrade gave "
                                                                 "another schema: " + "; ".join(problems))
                restart = True
                return
            judged[rev] = Reversal(rev, w.files[rev], True)
        w.head_schema = last if last is not None else _snap(env, conn, cache)

    failed = env.run_steps(the_rest, cursor)
    if failed:
        rev, direction, cause = failed
        if direction == "upgrade":
            w.upgrade_failure = StepFailure(rev, direction, w.files[rev], cause)
            return False
        verb = "the downgrade raised" if direction == "downgrade" else "upgrading again after the downgrade raised"
        judged[rev] = Reversal(rev, w.files[rev], False, f"{verb} {cause}")
        return True
    return restart


def read_statements(sql_file: Path) -> list[str]:
    """The previous release's queries: ``;``-separated, ``--`` comment lines ignored."""
    if not sql_file.is_file():
        raise ArtifactUnavailable(sql_file, "previous release's queries not found")
    try:
        text = sql_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactUnavailable(sql_file, f"cannot read: {exc}") from None
    lines = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in lines.split(";") if s.strip()]


def _smoke(db: ScratchDatabase, sql_file: Path, statements: list[str]) -> SmokeResult:
    from sqlalchemy import text

    failures = []
    with db.engine.connect() as conn:
        for number, statement in enumerate(statements, start=1):
            trans = conn.begin()
            try:
                conn.execute(text(statement))
            except Exception as exc:  # the query's error is what this check measures
                failures.append(f"statement {number} ({statement[:60]}): {_cause(exc)[:200]}")
            finally:
                trans.rollback()
    return SmokeResult(str(sql_file), len(statements), failures)


def walk(path: Path, scratch_url: str | None = None, *, url_env_vars: Sequence[str] = (), round_trip: bool = True,
         models: str | None = None, previous_sql: Path | None = None,
         timeout_s: float = DEFAULT_TIMEOUT_S) -> Walk:
    """Walk the history of the project at ``path`` on scratch, in a child process.

    The project's code (its revisions, models and env.py) runs in a process of its own,
    so an env.py that never returns is ended after ``timeout_s`` (each env.py run, and
    loading the history, gets that long) and the scratch database it used is removed by
    this process; see :mod:`.isolation`. The walk itself is :func:`walk_here`.
    """
    return run_isolated(walk_here, path, scratch_url, timeout_s=timeout_s, url_env_vars=tuple(url_env_vars),
                        round_trip=round_trip, models=models, previous_sql=previous_sql)


def walk_here(path: Path, scratch_url: str | None = None, *, url_env_vars: Sequence[str] = (),
              round_trip: bool = True, models: str | None = None, previous_sql: Path | None = None,
              scratch_folder: Path | None = None, schema_prefix: str = "goldgate_scratch_") -> Walk:
    """Walk the history of the project at ``path`` on scratch, in this process; see the module docstring.

    ``round_trip=False`` only upgrades base to heads (still proving where), for checks that
    need the migrated schema but not the downgrades. ``models`` (``module:attribute``) and
    ``previous_sql`` add the comparison with the models and the previous release's queries,
    both on the schema at heads.
    """
    announce("loading")
    project = load_project(path)
    statements = read_statements(previous_sql) if previous_sql is not None else None
    metadata, models_error = None, ""
    if models:
        try:
            metadata = load_models(models, project.sys_paths)
        except ArtifactUnavailable as exc:  # judged by models-match alone; upgrade and reversible still run
            models_error = str(exc)
    announce("goldgate")
    with open_scratch(scratch_url, folder=scratch_folder, schema_prefix=schema_prefix) as scratch:
        walks = [_walk_database(project, scratch, database, url_env_vars, round_trip, models_error,
                                (metadata, models) if metadata is not None and models else None,
                                (previous_sql, statements) if statements is not None and previous_sql else None)
                 for database in (project.databases or [""])]
    return walks[0] if len(walks) == 1 else _merged(walks, project.databases)


def _walk_database(project: LoadedProject, scratch: Any, database: str, url_env_vars: Sequence[str],
                   round_trip: bool, models_error: str, models: tuple[Any, str] | None,
                   smoke: tuple[Path, list[str]] | None) -> Walk:
    """The walk of one database of the project (the only one, or one section of a multidb ini)."""
    scripts = project.scripts
    w = Walk(project=str(project.ini), backend=scratch.description, env_py=str(project.env_py),
             revisions=[r.id for r in scripts.revisions], heads=list(scripts.heads),
             files={r.id: r.path for r in scripts.revisions}, round_trip=round_trip, models_error=models_error)
    judged: dict[str, Reversal] = {}
    if not w.revisions:
        return w
    for _attempt in range(len(w.revisions) + 1):  # every new attempt has judged one more revision
        with scratch.fresh() as db:
            w.scratch_databases += 1
            w.backend = db.description
            env = _Env(project, db, tuple(url_env_vars), database=database)
            if _walk_once(env, w, judged, round_trip, url_env_vars):
                continue
            w.reversals = [judged[r] for r in w.revisions if r in judged]
            if not w.at_heads:
                return w
            _prove(db, env.version_table, w.heads, w.landed, "upgrading to heads", env.version_schema)
            if models is not None:
                announce("goldgate")
                w.models = compare_models(db, models[0], models[1])
            if smoke is not None:
                w.smoke = _smoke(db, smoke[0], smoke[1])
            return w
    raise ArtifactUnavailable(w.project, "the walk did not settle")  # unreachable: bounded by the loop


def _merged(walks: list[Walk], databases: list[str]) -> Walk:
    """One Walk for a project with several databases: a revision is reversible only where it is
    reversible on every database; the first upgrade that failed, on whichever database, is the one."""
    first = walks[0]
    named = list(zip(databases, walks, strict=True))
    failed = next(((name, w.upgrade_failure) for name, w in named if w.upgrade_failure), None)
    reversals = []
    for rev in first.revisions:
        per = [(name, next((r for r in w.reversals if r.revision == rev), None)) for name, w in named]
        if any(r is None for _, r in per):
            continue
        bad = [f"{name}: {r.problem}" for name, r in per if r is not None and not r.ok]
        reversals.append(Reversal(rev, first.files[rev], not bad, "; ".join(bad)))
    upgrade_failure = None
    if failed is not None:
        name, f = failed
        upgrade_failure = StepFailure(f.revision, f.direction, f.file, f"database {name}: {f.cause}")
    return Walk(project=first.project, backend="; ".join(f"{name}: {w.backend}" for name, w in named),
                env_py=first.env_py, revisions=first.revisions, heads=first.heads, files=first.files,
                landed="; ".join(f"{name}: {w.landed}" for name, w in named),
                version_after_first=first.version_after_first,
                upgraded=[r for r in first.revisions if all(r in w.upgraded for w in walks)],
                upgrade_failure=upgrade_failure, reversals=reversals, round_trip=first.round_trip,
                scratch_databases=sum(w.scratch_databases for w in walks),
                head_schema={f"{name}:{t}": v for name, w in named for t, v in w.head_schema.items()},
                models=None, models_error=first.models_error or (
                    "models-match compares one MetaData with one database; this project migrates "
                    f"{len(databases)} ({', '.join(databases)})" if any(w.models for w in walks) else ""),
                smoke=None)
