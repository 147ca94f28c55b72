"""One throwaway PostgreSQL server for every test that needs a real one (or GOLDGATE_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from goldgate.sandbox import ports

PG_BIN = Path(os.environ.get("GOLDGATE_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_HINT = f"apt-get install postgresql (server binaries under {PG_BIN})"


def _free_port() -> int:
    """A free loopback port below the ephemeral range (see goldgate.sandbox.ports)."""
    return ports.free_port()


def _as_postgres(cmd: list[str]) -> list[str]:
    """root may not run the server: drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], timeout: float) -> None:
    """Run a server command; a failure names the command and the tail of its stderr."""
    try:
        subprocess.run(_as_postgres(cmd), check=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({exc.returncode}): {exc.stderr[-500:]}") from None


def binaries_present() -> bool:
    return (PG_BIN / "initdb").is_file() and (PG_BIN / "pg_ctl").is_file()


@contextmanager
def throwaway_postgres(*, wal_archive: bool = False) -> Iterator[str]:
    """initdb + pg_ctl start on a free loopback port under a temp dir; yields a URL; always stops.

    ``wal_archive`` turns WAL archiving on into a folder beside the data directory, as
    point-in-time recovery needs: the PITR checks read ``wal_level`` and ``archive_mode``
    from the server.
    """
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    workdir = Path(tempfile.mkdtemp(prefix="goldgate-pg-"))
    data, sockets, archive = workdir / "data", workdir / "sock", workdir / "wal-archive"
    sockets.mkdir()
    archive.mkdir()
    if os.geteuid() == 0:
        for folder in (workdir, sockets, archive):
            shutil.chown(folder, "postgres")
    port = _free_port()
    # track_commit_timestamp: the applied-migration probe reads when alembic_version's row committed
    options = {"listen_addresses": "127.0.0.1", "fsync": "off", "track_commit_timestamp": "on"}
    if wal_archive:
        options |= {"wal_level": "replica", "archive_mode": "on", "archive_command": f"'cp %p {archive}/%f'"}
    opts = f"-p {port} -k {sockets} " + " ".join(f"-c {k}={v}" for k, v in options.items())
    started = False
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
             timeout=120)
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "server.log"),
              "-w", "-t", "60", "start"], timeout=90)
        started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_for_tests(*, driver: str = "", wal_archive: bool = False) -> Iterator[str]:
    """GOLDGATE_TEST_POSTGRES_URL as given, else a throwaway server; skips without the binaries.

    ``driver`` (``"psycopg"``) is written into the throwaway server's URL for SQLAlchemy.
    """
    existing = os.environ.get("GOLDGATE_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    if not binaries_present():
        pytest.skip(f"PostgreSQL server binaries absent: {PG_HINT}")
    with throwaway_postgres(wal_archive=wal_archive) as url:
        yield url.replace("postgresql://", f"postgresql+{driver}://", 1) if driver else url
