"""Fixtures of the checklist tests: materialised releases (artifacts cached per session),
a pinned clock, and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from goldgate.sandbox import release

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_HINT = "apt-get install postgresql (server binaries under /usr/lib/postgresql/15/bin)"


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    """The pinned clock every time-based check of these tests uses."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def artifact_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = os.environ.get("GOLDGATE_RELEASE_CACHE")
    return Path(shared) if shared else tmp_path_factory.mktemp("artifact-cache")


@pytest.fixture(scope="session")
def build_release(tmp_path_factory: pytest.TempPathFactory, artifact_cache: Path,
                  now: dt.datetime) -> Callable[..., release.Workspace]:
    def _build(*faults: str) -> release.Workspace:
        dest = tmp_path_factory.mktemp("release-" + ("-".join(faults) or "healthy"))
        return release.materialise(dest, faults, cache_dir=artifact_cache, now=now)

    return _build


@pytest.fixture(scope="session")
def healthy(build_release: Callable[..., release.Workspace]) -> release.Workspace:
    return build_release()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL with WAL archiving on (or GOLDGATE_TEST_POSTGRES_URL)."""
    existing = os.environ.get("GOLDGATE_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries absent: {PG_HINT}")
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="goldgate-pg-"))
    data, archive = base / "data", base / "wal-archive"
    archive.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(archive, "postgres")
    init = _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    if init.returncode != 0:
        pytest.fail(f"initdb failed: {init.stderr[-500:]}")
    port = _free_port()
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
            f"-c wal_level=replica -c archive_mode=on -c archive_command='cp %p {archive}/%f' -c fsync=off")
    start = _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "-t", "30", "start"])
    if start.returncode != 0:
        pytest.fail(f"pg_ctl start failed: {start.stderr[-300:]} {(base / 'log').read_text()[-500:] if (base / 'log').exists() else ''}")
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)
