"""Where a run's evidence outlives the judge process: PostgreSQL when configured, else one SQLite file.

Each run is one row (its key, the pods it watches, the error-rate test's state, the trading
evidence's snapshot, the number of evaluations, the last answer) rewritten after every evaluation, so a judge restarted
mid-run continues the same sequential test instead of starting a fresh one (which would
re-spend the false-rollback budget and forget the requests already counted). SQLite in WAL
mode lets several evaluation threads write without corrupting the file; a killed process
loses at most the evaluation in flight.

Where the judge runs as more than one replica, or its pod has no persistent volume, the
evidence belongs in a database: ``judge.store_url`` (a secret reference to a PostgreSQL DSN,
so the password never sits in the environment file) selects :class:`PostgresRunStore`, the
same rows in a table ``goldgate_judge_runs`` (created if missing). Without it the local
file ``judge.state`` is used. Both have one interface: ``load``, ``save``, ``keys``, ``close``
and ``where`` (a description for logs that never shows a credential).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["PostgresRunStore", "RunStore", "StoreUnavailableError", "open_store"]


class StoreUnavailableError(Exception):
    """The configured store cannot be reached or used (message without credentials)."""


class RunStore:
    """Run records by key; thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=5.0)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives the process being killed (what a restart needs)
            # without an fsync per evaluation, which would serialise a hundred runs on the disk.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, data TEXT NOT NULL, "
                             "updated REAL NOT NULL)")
            self._db.commit()

    @property
    def where(self) -> str:
        return str(self.path)

    def load(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, key: str, data: dict[str, Any]) -> None:
        text = json.dumps(data, default=str)
        with self._lock:
            self._db.execute("INSERT INTO runs (key, data, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                             "SET data = excluded.data, updated = excluded.updated", (key, text, time.time()))
            self._db.commit()

    def keys(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT key FROM runs ORDER BY updated")]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresRunStore:
    """Run records by key in PostgreSQL; thread-safe (one connection behind a lock, reopened once if lost).

    Each save is its own committed transaction, so a judge killed mid-run keeps every
    evaluation already answered, and a judge started elsewhere against the same database
    continues the run.
    """

    TABLE = "goldgate_judge_runs"

    def __init__(self, dsn: str, *, connect_timeout_s: int = 5) -> None:
        self._dsn = dsn
        self._timeout = connect_timeout_s
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._lock:
            self._execute("CREATE TABLE IF NOT EXISTS goldgate_judge_runs (key text PRIMARY KEY, data jsonb NOT NULL, "
                          "updated double precision NOT NULL)")

    @property
    def where(self) -> str:
        """Host, port and database only: never the user or the password."""
        try:
            from psycopg.conninfo import conninfo_to_dict

            info = conninfo_to_dict(self._dsn)
        except Exception:
            return "PostgreSQL (judge.store_url)"
        return f"PostgreSQL {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')} " \
               f"table {self.TABLE}"

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self._dsn, connect_timeout=self._timeout, autocommit=True)
        except psycopg.Error as exc:
            # psycopg's message may repeat the DSN's host and user, never its password; keep it short
            raise StoreUnavailableError(f"judge store {self.where}: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:200] if str(exc) else 'no answer'}") from None

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; a lost connection is reopened once (a restarted database)."""
        import psycopg

        for attempt in (1, 2):
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            try:
                cur = self._conn.execute(query, params)
                return cur.fetchall() if cur.description else []
            except psycopg.OperationalError as exc:
                self._conn = None
                if attempt == 2:
                    raise StoreUnavailableError(f"judge store {self.where}: {str(exc).splitlines()[0][:200]}") from None
        return []

    def load(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            rows = self._execute("SELECT data FROM goldgate_judge_runs WHERE key = %s", (key,))
        data = rows[0][0] if rows else None
        return data if isinstance(data, dict) else None

    def save(self, key: str, data: dict[str, Any]) -> None:
        text = json.dumps(data, default=str)
        with self._lock:
            self._execute("INSERT INTO goldgate_judge_runs (key, data, updated) VALUES (%s, %s::jsonb, %s) "
                          "ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                          (key, text, time.time()))

    def keys(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._execute("SELECT key FROM goldgate_judge_runs ORDER BY updated")]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def open_store(store_url: str | None, state: Path) -> RunStore | PostgresRunStore:
    """PostgreSQL when the environment names one (``store_url`` already resolved), else the local file."""
    return PostgresRunStore(store_url) if store_url else RunStore(state)
