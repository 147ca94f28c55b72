"""The RTO drill's measurement: how fast this server restores an order database of a size
where the restore takes seconds, so the rate can be projected to production's size.

Restoring 120 rows says nothing about 15 minutes: the fixed costs (connecting, creating
the schema) dominate and the rate is noise. The drill creates a scratch database
(:func:`goldgate.probes.pg_backup.scratch_database`), fills an order table of the bot's
shape with ``rows`` orders server-side (``INSERT ... SELECT generate_series``: no row
crosses the wire), dumps it with ``pg_dump -Fc``, and times ``pg_restore`` of that dump
into a second scratch database, with its indexes and constraints rebuilt as a real
restore does. The rate is the restored database's growth (``pg_database_size``) over the
restore's wall time. Both scratch databases are dropped afterwards.

Generating and dumping a million orders costs far more than restoring them (35 s and 14 s
against 22 s on a loaded two-core machine), so with ``cache`` the dump is kept there
(``orders-<rows>-<shape>.dump``) and later drills only restore it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import POSTGRES_HINT, _libpq, redacted
from goldgate.probes.pg_backup import connect, scratch_database

__all__ = ["RestoreDrill", "run_drill"]

_ORDERS = """CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    client_order_id varchar(64) UNIQUE,
    symbol varchar(16) NOT NULL,
    side varchar(4) NOT NULL,
    volume double precision NOT NULL,
    price double precision NOT NULL,
    status varchar(16) NOT NULL,
    created_at timestamp NOT NULL)"""
_FILL = """INSERT INTO orders (client_order_id, symbol, side, volume, price, status, created_at)
SELECT 'drill-' || g, CASE WHEN g %% 5 = 0 THEN 'XAGUSD' ELSE 'XAUUSD' END,
       CASE WHEN g %% 2 = 0 THEN 'SELL' ELSE 'BUY' END, 0.1 + (g %% 7) * 0.05, 2350 + (g %% 13) * 0.75,
       'FILLED', timestamp '2026-01-01' + g * interval '1 second'
FROM generate_series(1, %s) AS g"""


#: Names the cached dump after the table and data it holds: another shape is another dump.
_SHAPE = hashlib.sha256((_ORDERS + _FILL).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class RestoreDrill:
    """One timed restore of a generated order database."""

    server: str
    rows: int  # orders generated in the source
    restored_rows: int  # orders counted after the restore
    dump_bytes: int = 0
    restored_bytes: int = 0  # growth of the target database during the restore
    dump_reused: bool = False
    generate_s: float = 0.0
    dump_s: float = 0.0
    restore_s: float = 0.0
    ok: bool = False
    error: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.restored_rows / self.restore_s if self.restore_s > 0 else float("nan")

    @property
    def mb_per_s(self) -> float:
        return self.restored_bytes / 2**20 / self.restore_s if self.restore_s > 0 else float("nan")


def _db_size(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]


def _generate(server_url: str, rows: int, dump: Path, timeout_s: float) -> tuple[float, float]:
    """Fill a scratch database with ``rows`` orders and dump it to ``dump``: (generate_s, dump_s)."""
    import psycopg

    shown = redacted(server_url)
    with scratch_database(server_url) as source:
        started = time.monotonic()
        try:
            with connect(source) as conn:
                conn.execute(_ORDERS)
                conn.execute(_FILL, (rows,))  # type: ignore[arg-type]
                conn.commit()
        except psycopg.Error as exc:
            raise ArtifactUnavailable(shown, f"generating {rows} orders failed: {str(exc).strip()[:200]}") from None
        generate_s = time.monotonic() - started
        target, env = _libpq(source)
        partial = dump.with_name(dump.name + ".partial")
        started = time.monotonic()
        try:
            proc = subprocess.run([str(shutil.which("pg_dump")), "-Fc", "-f", str(partial), target],
                                  capture_output=True, text=True, timeout=timeout_s, check=False, env=env)
        except subprocess.TimeoutExpired:
            raise ArtifactUnavailable(shown, f"pg_dump of the drill database did not finish in {timeout_s:g} s") from None
        if proc.returncode != 0:
            raise ArtifactUnavailable(shown, f"pg_dump of the drill database failed: {proc.stderr.strip()[-300:]}")
        partial.replace(dump)
        return round(generate_s, 3), round(time.monotonic() - started, 3)


def run_drill(server_url: str, rows: int, *, timeout_s: float = 900, cache: Path | None = None) -> RestoreDrill:
    """Generate ``rows`` orders in a scratch database, dump them (or reuse the dump kept in
    ``cache``), and time their restore into another scratch database."""
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        raise ArtifactUnavailable("pg_dump/pg_restore", f"not on PATH ({POSTGRES_HINT})")
    shown = redacted(server_url)
    work = Path(tempfile.mkdtemp(prefix="goldgate-rto-drill-"))
    folder = cache or work
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / f"orders-{rows}-{_SHAPE}.dump"
    try:
        reused = dump.is_file()
        generate_s, dump_s = (0.0, 0.0) if reused else _generate(server_url, rows, dump, timeout_s)
        base = RestoreDrill(shown, rows, 0, generate_s=generate_s, dump_s=dump_s, dump_bytes=dump.stat().st_size,
                            dump_reused=reused)
        with scratch_database(server_url) as restored:
            before = _db_size(restored)
            target, env = _libpq(restored)
            started = time.monotonic()
            try:
                proc = subprocess.run([str(shutil.which("pg_restore")), "--no-owner", "--exit-on-error", "-d", target,
                                       str(dump)], capture_output=True, text=True, timeout=timeout_s, check=False,
                                      env=env)
            except subprocess.TimeoutExpired:
                return replace(base, restore_s=timeout_s, error=f"pg_restore did not finish in {timeout_s:g} s")
            restore_s = round(time.monotonic() - started, 3)
            if proc.returncode != 0:
                return replace(base, restore_s=restore_s, error=proc.stderr.strip()[-300:])
            with connect(restored) as conn:
                counted = int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])  # type: ignore[index]
            grown = _db_size(restored) - before
        return replace(base, restored_rows=counted, restored_bytes=grown, restore_s=restore_s, ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
