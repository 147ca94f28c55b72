"""Scratch databases for migrations: created for the run, proven empty, never a team's data.

The rule for a scratch URL (``--url``, or the environment's ``database.scratch_url``):

* none given: a fresh SQLite file in a temporary folder, deleted afterwards;
* ``sqlite:///FILE``: FILE must not exist or hold no table at all; goldgate puts its bytes
  back (or removes it) afterwards. An in-memory URL is refused (env.py opens its own
  connection, which would see another, empty database);
* ``postgresql+DRIVER://…``: the database must hold no table or view outside the system
  schemas; goldgate works only inside a schema it creates (``goldgate_scratch_<hex>``, on
  ``search_path`` through the URL's ``options``) and drops it afterwards;
* anything else is refused.

A URL that breaks the rule raises :class:`ScratchRefused` before anything is written.
:meth:`ScratchDatabase.is_connection_here` is the measurement behind "prove where the
migrations landed": it asks the connection env.py opened which file or schema it is on.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable

__all__ = ["Scratch", "ScratchDatabase", "ScratchRefused", "open_scratch", "redact_url"]

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})
CONNECT_TIMEOUT_S = 5


class ScratchRefused(ArtifactUnavailable):
    """The URL is not a scratch database by the rule above; nothing was written to it."""


def redact_url(url: Any) -> str:
    """The URL with its password masked, safe for messages and reports."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return "<unparsable database URL>"


@dataclass
class ScratchDatabase:
    """One empty database for one walk: the URL env.py gets, and goldgate's own engine on it."""

    url: str  # full URL (with password) for env.py; never shown
    description: str  # redacted, for messages
    engine: Any
    file: str = ""  # SQLite
    schema: str = ""  # PostgreSQL
    identity: tuple[Any, ...] = ()  # PostgreSQL (database, schema, server address, port)
    baseline_schemas: frozenset[str] = frozenset()  # PostgreSQL: the schemas there were before the run

    def new_schemas(self, conn: Any) -> list[str]:
        """Schemas of the scratch database made during the run besides goldgate's own (PostgreSQL).

        A project that sets ``version_table_schema`` or creates tables with ``schema=``
        writes there; those schemas are in the scratch database, compared like the rest
        and dropped with it.
        """
        if conn.dialect.name != "postgresql":
            return []
        return [n for n in _pg_schemas(conn) if n not in self.baseline_schemas and not n.startswith(OWN_PREFIX)]

    def is_connection_here(self, conn: Any) -> bool:
        """Whether ``conn`` (the connection env.py opened) is on this scratch database."""
        name = conn.dialect.name
        if name == "sqlite":
            rows = conn.exec_driver_sql("PRAGMA database_list").fetchall()
            main = next((r[2] for r in rows if r[1] == "main"), "")
            return bool(main) and os.path.realpath(main) == os.path.realpath(self.file)
        if name == "postgresql":
            return _pg_identity(conn) == self.identity
        return False


OWN_PREFIX = "goldgate_scratch_"


def _pg_schemas(conn: Any) -> list[str]:
    """Every schema except the server's own and the per-session temporary ones."""
    return sorted(r[0] for r in conn.exec_driver_sql("SELECT nspname FROM pg_namespace")
                  if not (r[0] in SYSTEM_SCHEMAS or r[0].startswith(("pg_temp_", "pg_toast_temp_"))))


def _pg_identity(conn: Any) -> tuple[Any, ...]:
    row = conn.exec_driver_sql(
        "SELECT current_database(), current_schema(), inet_server_addr()::text, inet_server_port()").one()
    return tuple(row)


def _sqlite_tables(path: Path) -> list[str]:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=CONNECT_TIMEOUT_S) as db:
            return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    except sqlite3.DatabaseError as exc:
        raise ScratchRefused(path, f"not a scratch database: cannot read it as SQLite ({exc})") from None


@dataclass
class Scratch:
    """Where fresh scratch databases come from for one run (see the module's rule)."""

    url: str | None
    description: str = ""
    #: a folder for temporary SQLite files made by someone else (the parent of the process
    #: that runs env.py); this Scratch then uses it but leaves removing it to its owner
    given_folder: Path | None = None
    #: every PostgreSQL schema made here starts with it, so whoever owns the run can sweep
    #: what a killed process left behind by name alone (see :meth:`sweep`)
    schema_prefix: str = "goldgate_scratch_"
    _folder: Path | None = None
    _file: Path | None = None
    _original: bytes | None = None
    _admin: Any = None
    _count: int = 0
    _schemas: list[str] = field(default_factory=list)
    _baseline: frozenset[str] = frozenset()

    def open(self) -> None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if not self.url:
            self._folder = self.given_folder or Path(tempfile.mkdtemp(prefix="goldgate-migrations-"))
            self.description = "a temporary SQLite scratch database"
            return
        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError) as exc:
            raise ScratchRefused(redact_url(self.url), f"not a database URL: {exc}") from None
        backend = url.get_backend_name()
        if backend == "sqlite":
            self._open_sqlite(url.database or "")
        elif backend == "postgresql":
            self._open_postgres(url)
        else:
            raise ScratchRefused(redact_url(url), f"{backend}: only SQLite and PostgreSQL scratch databases are supported")

    def _open_sqlite(self, database: str) -> None:
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            raise ScratchRefused(redact_url(self.url), "an in-memory SQLite database cannot be shared with env.py; "
                                                       "name a file")
        path = Path(database).resolve()
        if path.exists():
            tables = _sqlite_tables(path)
            if tables:
                raise ScratchRefused(path, f"not a scratch database: it holds {len(tables)} tables "
                                           f"({', '.join(sorted(tables)[:5])}); a scratch database must hold none")
            self._original = path.read_bytes()
        elif not path.parent.is_dir():
            raise ScratchRefused(path, "folder does not exist")
        self._file = path
        self.description = f"SQLite scratch database {path}"

    def _open_postgres(self, url: Any) -> None:
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.pool import NullPool

        shown = redact_url(url)
        try:
            admin = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
            with admin.connect() as conn:
                insp = inspect(conn)
                taken = [f"{s}.{t}" for s in insp.get_schema_names() if s not in SYSTEM_SCHEMAS
                         for t in (*insp.get_table_names(schema=s), *insp.get_view_names(schema=s))]
                self._baseline = frozenset(_pg_schemas(conn))
        except (SQLAlchemyError, ImportError) as exc:
            raise ScratchRefused(shown, f"cannot connect: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
        if taken:
            admin.dispose()
            raise ScratchRefused(shown, f"not a scratch database: it holds {len(taken)} tables or views "
                                        f"({', '.join(sorted(taken)[:5])}); a scratch database must hold none")
        self._admin = admin
        self.description = f"PostgreSQL scratch schema on {shown}"

    @contextmanager
    def fresh(self) -> Iterator[ScratchDatabase]:
        """A new, empty scratch database; gone (or put back) when the block ends."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self._count += 1
        if self._admin is not None:
            with self._pg_schema() as db:
                yield db
            return
        if self._folder is not None:
            path = self._folder / f"scratch-{self._count}.sqlite3"
        else:
            assert self._file is not None
            path = self._file
            self._restore_file()
        url = f"sqlite:///{path}"
        engine = create_engine(url, poolclass=NullPool)
        try:
            yield ScratchDatabase(url, f"SQLite scratch database {path}", engine, file=str(path))
        finally:
            engine.dispose()
            if self._folder is not None:
                path.unlink(missing_ok=True)

    @contextmanager
    def _pg_schema(self) -> Iterator[ScratchDatabase]:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.pool import NullPool

        schema = f"{self.schema_prefix}{secrets.token_hex(4)}"
        shown = redact_url(self._admin.url)
        try:
            with self._admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except SQLAlchemyError as exc:
            raise ArtifactUnavailable(shown, f"cannot create a scratch schema: {type(exc).__name__}") from None
        self._schemas.append(schema)
        url = self._admin.url.update_query_dict({"options": f"-csearch_path={schema}",
                                                 "connect_timeout": str(CONNECT_TIMEOUT_S)})
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                identity = _pg_identity(conn)
            yield ScratchDatabase(url.render_as_string(hide_password=False),
                                  f"PostgreSQL scratch schema {schema} on {shown}", engine,
                                  schema=schema, identity=identity, baseline_schemas=self._baseline)
        finally:
            engine.dispose()
            self._drop_new()
            self._drop(schema)

    def _drop_new(self) -> list[str]:
        """Drop the schemas the walk made beside goldgate's own (version_table_schema, schema=...)."""
        from sqlalchemy import text

        with self._admin.begin() as conn:
            names = [n for n in _pg_schemas(conn) if n not in self._baseline and not n.startswith(OWN_PREFIX)]
            for name in names:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        return names

    def _drop(self, schema: str) -> None:
        from sqlalchemy import text

        with self._admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._schemas.remove(schema)

    def _restore_file(self) -> None:
        """Put a named SQLite file back the way goldgate found it (absent, or its exact bytes)."""
        if self._file is None:
            return
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{self._file}{suffix}").unlink(missing_ok=True)
        if self._original is None:
            self._file.unlink(missing_ok=True)
        else:
            self._file.write_bytes(self._original)

    @property
    def folder(self) -> Path | None:
        """Where temporary SQLite scratch files go (None for a named file or PostgreSQL)."""
        return self._folder

    def sweep(self) -> list[str]:
        """Drop every schema whose name starts with :attr:`schema_prefix`; the names dropped.

        The process that ran env.py may have been killed between creating a schema and
        dropping it; its owner knows the prefix, not the names, and removes them here.
        """
        from sqlalchemy import text

        if self._admin is None:
            return []
        dropped = self._drop_new()
        pattern = self.schema_prefix.replace("_", r"\_") + "%"
        with self._admin.begin() as conn:
            names = [r[0] for r in conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                                                {"p": pattern})]
            for name in names:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        return dropped + names

    def close(self) -> None:
        if self._folder is not None and self._folder != self.given_folder:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._restore_file()
        if self._admin is not None:
            for schema in list(self._schemas):
                self._drop(schema)
            self._admin.dispose()


@contextmanager
def open_scratch(url: str | None, *, folder: Path | None = None,
                 schema_prefix: str = "goldgate_scratch_") -> Iterator[Scratch]:
    """Check ``url`` against the scratch rule, hand out fresh databases, clean up afterwards."""
    scratch = Scratch(url, given_folder=folder, schema_prefix=schema_prefix)
    scratch.open()
    try:
        yield scratch
    finally:
        scratch.close()
