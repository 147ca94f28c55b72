"""Where a run's evidence outlives the judge process: one SQLite file.

Each run is one row (its key, the pods it watches, the error-rate test's state, the number
of evaluations, the last answer) rewritten after every evaluation, so a judge restarted
mid-run continues the same sequential test instead of starting a fresh one (which would
re-spend the false-rollback budget and forget the requests already counted). SQLite in WAL
mode lets several evaluation threads write without corrupting the file; a killed process
loses at most the evaluation in flight.

PostgreSQL is not offered: the environment schema has no audit-store database to put the
table in (the audit trail's PostgreSQL sink is configured per run, not per environment).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["RunStore"]


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
