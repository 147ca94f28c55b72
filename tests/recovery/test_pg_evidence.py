"""The recovery probes on a real PostgreSQL that archives its WAL as the sandbox's order
database does (one server for the module): the archiver read live, a failing
archive_command seen and undone, pg_dump backups with their snapshot's counts restored
into scratch databases, the verification log, the second region's copy and the drill."""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator

import pytest

from goldgate.actions import database as database_actions
from goldgate.criteria import recovery
from goldgate.probes import pg_backup, restore_drill, wal_archive
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.safety import SafetyPolicy
from goldgate.sandbox.ports import free_port
from goldgate.sandbox.regions import postgres as pg
from goldgate.verdict import Status


@pytest.fixture(scope="module")
def server() -> Iterator[pg.PgServer]:
    if not pg.binaries_present():
        pytest.skip(f"PostgreSQL server binaries absent: {pg.INSTALL_HINT}")
    root = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-recovery-pg-"))
    root.chmod(0o711)
    primary = pg.PgServer("primary-region", root / "pg-primary", free_port())
    try:
        pg.init_primary(primary)
        pg.sql(primary, "CREATE TABLE orders (id bigserial PRIMARY KEY, client_order_id text UNIQUE, price float8)")
        pg.sql(primary, "INSERT INTO orders (client_order_id, price) SELECT 'o-' || g, g FROM generate_series(1, 300) g")
        pg.sql(primary, "SELECT pg_switch_wal()")  # a quiet new server has archived nothing yet
        deadline = time.monotonic() + 20
        while not pg.sql(primary, "SELECT archived_count FROM pg_stat_archiver")[0][0] and time.monotonic() < deadline:
            time.sleep(0.1)
        # the tests' 0.01 s window: a segment archived this very instant reaches back 0 s (a FAIL, rightly)
        time.sleep(0.2)
        yield primary
    finally:
        pg.stop(primary, mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _archiver(server: pg.PgServer) -> wal_archive.ArchiverState:
    return wal_archive.read_archiver(server.url, server.wal_archive)


def test_archiving_is_read_from_the_server_and_a_failing_command_fails(server: pg.PgServer) -> None:
    healthy = recovery.wal_archiving(_archiver(server), 3600, 0.01)
    assert healthy.status is Status.PASS, healthy.message()
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    database_actions.fail_archive_command(safety, server.url)
    try:
        broken = recovery.wal_archiving(_archiver(server), 3600, 0.01)
        assert broken.status is Status.FAIL, broken.message()
        assert "archive_command failed on" in broken.reason and "after the last archived segment" in broken.reason
    finally:
        database_actions.restore_archive_command(safety, server.url)
    assert recovery.wal_archiving(_archiver(server), 3600, 0.01).status is Status.PASS
    assert [a["action"] for a in safety.actions] == ["break-wal-archiving", "restore-wal-archiving"]


def test_the_archive_window_is_what_the_folder_holds(server: pg.PgServer) -> None:
    state = _archiver(server)
    # The cluster's initdb moment, decoded from its system identifier: this test's server is new.
    assert state.initialised_at is not None
    assert 0 <= (state.read_at - state.initialised_at).total_seconds() < 600
    assert state.segments and state.oldest_segment_at is not None
    # A server initialised seconds ago cannot reach back 7 days: not yet judged, never PASS.
    young = recovery.wal_archiving(state, 3600, 604800)
    assert young.status is Status.INCONCLUSIVE and young.threshold == 604800
    assert "the database was initialised" in young.reason
    # The same archive, had the server been initialised 8 days ago, lost history: FAIL.
    aged = wal_archive.ArchiverState(**{**state.__dict__,
                                        "initialised_at": state.read_at - dt.timedelta(days=8)})
    assert recovery.wal_archiving(aged, 3600, 604800).status is Status.FAIL


def test_a_refused_connection_is_unavailable_naming_the_setting() -> None:
    with pytest.raises(ArtifactUnavailable, match=re.escape("database.url postgresql://postgres@127.0.0.1:1/postgres")):
        wal_archive.read_archiver("postgresql://postgres@127.0.0.1:1/postgres")


def test_a_backup_restores_with_its_snapshot_counts_and_a_filtered_one_fails(server: pg.PgServer,
                                                                              tmp_path: pathlib.Path) -> None:
    entry = pg_backup.take_backup(server.url, tmp_path)
    assert entry["tables"] == {"orders": 300} and entry["tool"] == "pg_dump --snapshot"
    warnings = (server.root / "server.log").read_text(errors="replace")
    assert "there is already a transaction in progress" not in warnings  # the counts ran in the exported snapshot
    result, done = pg_backup.verify_backup(tmp_path, entry, server.url)
    assert recovery.restore_matches(result, entry["tables"]).status is Status.PASS
    assert done.matches
    filtered = pg_backup.take_backup(server.url, tmp_path, exclude_table_data=["orders"])
    result, done = pg_backup.verify_backup(tmp_path, filtered, server.url)
    verdict = recovery.restore_matches(result, filtered["tables"])
    assert verdict.status is Status.FAIL and "orders: 0 rows restored, 300 recorded" in verdict.reason
    log = pg_backup.read_verifications(tmp_path)
    assert [v.matches for v in log] == [True, False]
    now = dt.datetime.now(dt.UTC)
    assert recovery.backup_verified_recently(log, now, 43200, "log").status is Status.FAIL
    assert recovery.backup_verified_recently(log[:1], now, 43200, "log").status is Status.PASS
    scratch = [r[0] for r in pg.sql(server, "SELECT datname FROM pg_database WHERE datname LIKE 'goldgate_scratch_%'")]
    assert scratch == []


def test_the_second_region_copy_is_compared_byte_for_byte(server: pg.PgServer, tmp_path: pathlib.Path) -> None:
    from goldgate.sandbox.regions import backups

    primary, second = backups.stores(tmp_path)
    backups.run(tmp_path, server.url)
    copy = pg_backup.second_region_copy(primary, second)
    assert recovery.backup_in_second_region(copy, str(second)).status is Status.PASS
    (second / copy.backup).write_bytes(b"not the backup")
    changed = recovery.backup_in_second_region(pg_backup.second_region_copy(primary, second), str(second))
    assert changed.status is Status.FAIL and "differs" in changed.reason


def test_a_malformed_verification_line_names_file_and_line(tmp_path: pathlib.Path) -> None:
    (tmp_path / pg_backup.VERIFICATIONS).write_text('{"file": "a"}\n', encoding="utf-8")
    with pytest.raises(ArtifactUnavailable, match=re.escape("verifications.jsonl: line 1: not a verification record")):
        pg_backup.read_verifications(tmp_path)


def test_the_drill_times_a_restore_and_reuses_its_dump(server: pg.PgServer, tmp_path: pathlib.Path) -> None:
    first = restore_drill.run_drill(server.url, 5000, cache=tmp_path)
    assert first.ok and first.restored_rows == 5000 and not first.dump_reused and first.restore_s > 0
    again = restore_drill.run_drill(server.url, 5000, cache=tmp_path)
    assert again.dump_reused and again.restored_rows == 5000
    assert recovery.restore_rate_within_rto(again, 0.001, 900, 1000).status is Status.PASS
    slow = recovery.restore_rate_within_rto(again, 1000.0, 1, 1000)
    assert slow.status is Status.FAIL and "more than the RTO of 1 s" in slow.reason


def test_statistics_views_are_read_over_a_window(server: pg.PgServer) -> None:
    from goldgate.criteria import database_metrics
    from goldgate.probes import pg_activity

    sample = pg_activity.read_activity(server.url, 0.2)
    assert sample.statements, sample.note
    assert sample.connections >= 1 and sample.max_connections > 0
    assert database_metrics.db_connections(sample, 0.8).status is Status.PASS
    assert database_metrics.db_query_latency(sample, 50, 10_000).status is Status.INCONCLUSIVE
