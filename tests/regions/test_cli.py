"""``goldgate sandbox up --regions`` on bad input: one clear line, nothing started or left.

And the PostgreSQL pair on its own (initdb + pg_basebackup -R): a paused standby loses
what the primary wrote after the pause when it is promoted; ``stop`` leaves no server.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from goldgate.sandbox.ports import free_port
from goldgate.sandbox.regions import postgres as pg
from tests.regions.conftest import base_dir, leftovers

GOLDGATE = pathlib.Path(sys.executable).parent / "goldgate"


def goldgate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GOLDGATE), "sandbox", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, check=False)


def test_three_regions_is_refused_by_the_parser() -> None:
    done = goldgate("--state-dir", str(base_dir("cli-three")), "up", "--regions", "3")
    assert done.returncode == 2 and "invalid choice: 3" in done.stderr and "Traceback" not in done.stderr


def test_a_region_fault_without_two_regions_names_the_option() -> None:
    state_dir = base_dir("cli-fault")
    done = goldgate("--state-dir", str(state_dir), "up", "--fault", "standby-lag")
    assert done.returncode == 1 and "need two regions: add --regions 2" in done.stderr
    assert "Traceback" not in done.stderr and leftovers(state_dir) == []


def test_a_garbage_regions_variable_is_one_line() -> None:
    done = goldgate("--state-dir", str(base_dir("cli-env")), "up", GOLDGATE_SANDBOX_REGIONS="two")
    assert done.returncode == 1 and "GOLDGATE_SANDBOX_REGIONS='two' is not 1 or 2" in done.stderr


def test_missing_postgresql_binaries_stop_the_start_cleanly() -> None:
    state_dir = base_dir("cli-nopg")
    done = goldgate("--state-dir", str(state_dir), "up", "--regions", "2", GOLDGATE_PG_BIN=str(state_dir / "nowhere"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"PostgreSQL server binaries not found in {state_dir / 'nowhere'}" in done.stderr
    assert "apt-get install postgresql" in done.stderr
    assert leftovers(state_dir) == [] and not (state_dir / "state.json").exists()
    assert "no sandbox running" in goldgate("--state-dir", str(state_dir), "down").stdout


@pytest.fixture
def pair() -> tuple[pg.PgServer, pg.PgServer]:
    if not pg.binaries_present():
        pytest.skip(f"PostgreSQL server binaries absent: {pg.INSTALL_HINT}")
    root = base_dir("pg-pair")
    primary = pg.PgServer("primary", root / "primary", free_port())
    standby = pg.PgServer("standby", root / "standby", free_port())
    try:
        pg.init_primary(primary)
        pg.clone_standby(primary, standby)
        yield primary, standby
    finally:
        pg.stop(primary)
        pg.stop(standby)
        assert leftovers(root) == []


def test_streaming_replica_and_a_paused_one(pair: tuple[pg.PgServer, pg.PgServer]) -> None:
    primary, standby = pair
    pg.sql(primary, "CREATE TABLE t (id serial PRIMARY KEY)")
    pg.sql(primary, "INSERT INTO t DEFAULT VALUES")
    pg.wait_caught_up(primary, standby)
    assert pg.in_recovery(standby) and pg.sql(standby, "SELECT count(*) FROM t") == [(1,)]
    with pytest.raises(pg.PostgresError, match="read-only transaction"):
        pg.sql(standby, "INSERT INTO t DEFAULT VALUES")
    pg.pause_replication(standby)
    for _ in range(3):
        pg.sql(primary, "INSERT INTO t DEFAULT VALUES")
    assert pg.replay_lag_bytes(primary, standby) > 0
    pg.stop(primary, mode="immediate")
    pg.promote(standby)
    assert not pg.in_recovery(standby)
    assert pg.sql(standby, "SELECT count(*) FROM t") == [(1,)]  # the three later rows are lost


def test_an_unreachable_server_is_named(pair: tuple[pg.PgServer, pg.PgServer]) -> None:
    gone = pg.PgServer("nowhere", pair[0].root, free_port())
    with pytest.raises(pg.PostgresError, match=f"nowhere PostgreSQL on 127.0.0.1:{gone.port}"):
        pg.sql(gone, "SELECT 1")


def test_down_after_the_primary_daemon_was_killed_leaves_nothing() -> None:
    from goldgate.sandbox import lifecycle
    from tests.regions.conftest import start_regions

    state_dir = base_dir("killed")
    info = start_regions(state_dir, [])
    try:
        os.kill(info.pid, 9)
        message = lifecycle.stop(state_dir)
        assert "secondary region" in message and "pg-secondary PostgreSQL" in message, message
    finally:
        lifecycle.stop(state_dir)
    assert leftovers(state_dir) == []


def test_the_regions_switch_starts_exactly_one_secondary() -> None:
    """``GOLDGATE_SANDBOX_REGIONS=2`` is for the whole sandbox: the secondary region is one region."""
    if not pg.binaries_present():
        pytest.skip(f"PostgreSQL server binaries absent: {pg.INSTALL_HINT}")
    state_dir = base_dir("cli-switch")
    try:
        done = subprocess.run([str(GOLDGATE), "sandbox", "--state-dir", str(state_dir), "up"], capture_output=True,
                              text=True, timeout=300, env={**os.environ, "GOLDGATE_SANDBOX_REGIONS": "2"}, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        secondaries = sorted(str(p.relative_to(state_dir)) for p in state_dir.rglob("secondary") if p.is_dir())
        assert secondaries == ["regions/secondary"], secondaries
    finally:
        down = goldgate("--state-dir", str(state_dir), "down")
    assert "sandbox stopped" in down.stdout, down.stdout + down.stderr
    assert leftovers(state_dir) == []
