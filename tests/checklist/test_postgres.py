"""Migrations, backups and PITR on a real PostgreSQL (a throwaway cluster, see conftest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from goldgate.criteria import migrations as mig
from goldgate.criteria import recovery
from goldgate.probes import database
from goldgate.probes import migrations as probe
from goldgate.sandbox import release
from goldgate.sandbox.release_faults import RELEASE_FAULTS
from goldgate.verdict import Status

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch_url(postgres_url: str) -> str:
    """An empty database on the throwaway server: other tests here leave tables in ``postgres``."""
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migrations_scratch"))
        conn.execute(text("CREATE DATABASE migrations_scratch"))
    admin.dispose()
    return make_url(postgres_url).set(database="migrations_scratch").render_as_string(hide_password=False)


def test_round_trip_and_smoke_on_postgres(scratch_url: str, healthy: release.Workspace) -> None:
    w = probe.walk(healthy.project, scratch_url, models="goldgate.sandbox.bot.db:metadata",
                   previous_sql=healthy.project / "migrations/smoke/v1.1.0.sql")
    for verdict in (mig.upgrade_clean(w), mig.reversible(w), mig.models_match(w), mig.backward_compatible(w, "v1.1.0")):
        assert verdict.status is Status.PASS, verdict.message()
    assert "PostgreSQL scratch schema goldgate_scratch_" in w.backend


@pytest.mark.parametrize("fault", ["non-reversible-migration", "migration-without-downgrade"])
def test_round_trip_faults_on_postgres(scratch_url: str, build_release: Callable[..., release.Workspace],
                                       fault: str) -> None:
    ws = build_release(fault)
    verdict = mig.reversible(probe.walk(ws.project, scratch_url))
    assert verdict.status is Status.FAIL
    assert "orders.client_order_id left behind" in verdict.reason


def test_breaking_migration_breaks_old_queries_on_postgres(scratch_url: str,
                                                           build_release: Callable[..., release.Workspace]) -> None:
    ws = build_release("breaking-migration")
    w = probe.walk(ws.project, scratch_url, round_trip=False, previous_sql=ws.project / "migrations/smoke/v1.1.0.sql")
    verdict = mig.backward_compatible(w, "v1.1.0")
    assert verdict.status is Status.FAIL and "price" in verdict.reason


def test_scratch_schemas_are_dropped(scratch_url: str, healthy: release.Workspace) -> None:
    probe.walk(healthy.project, scratch_url)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'goldgate_scratch_%'")).scalar_one()
    engine.dispose()
    assert left == 0


def test_pg_dump_backup_restores_with_row_counts(postgres_url: str, healthy: release.Workspace, tmp_path: Path) -> None:
    engine = create_engine(postgres_url)
    from goldgate.sandbox.bot.db import metadata, orders

    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(orders.insert(), [{"symbol": "XAUUSD", "side": "BUY", "volume": 0.1, "price": 2350.0 + i,
                                        "status": "FILLED", "created_at": dt.datetime(2026, 11, 1)} for i in range(25)])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS restore_scratch"))
        conn.execute(text("CREATE DATABASE restore_scratch"))
    engine.dispose()
    dump = tmp_path / "orders.dump"
    database.pg_dump(postgres_url, dump)
    scratch = postgres_url.rsplit("/", 1)[0] + "/restore_scratch"
    result = database.restore(dump, scratch)
    verdict = recovery.restore_matches(result, {"orders": 25})
    assert verdict.status is Status.PASS, verdict.message()
    assert recovery.restore_within_rto(result, 900).status is Status.PASS
    assert recovery.restore_matches(result, {"orders": 26}).status is Status.FAIL
    dump.write_bytes(b"PGDMP" + b"\x00" * 64)
    broken = database.restore(dump, scratch)
    assert recovery.restore_matches(broken, {"orders": 25}).status is Status.FAIL


def test_pitr_settings_from_the_server(postgres_url: str, healthy: release.Workspace, now: dt.datetime) -> None:
    settings = database.pitr_from_server(postgres_url)
    assert settings.settings["archive_mode"] == "on"
    assert settings.settings["wal_level"] == "replica"
    verdict = recovery.pitr_enabled(settings, database.list_backups(healthy.backups), now, 7)
    assert verdict.status is Status.PASS, verdict.message()


@pytest.mark.parametrize("fault", [None, "corrupt-backup", "stale-backup", "pitr-short-retention"])
def test_release_on_postgres_backs_up_with_pg_dump(postgres_url: str, tmp_path: Path, artifact_cache: Path,
                                                   now: dt.datetime, fault: str | None) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    admin = create_engine(postgres_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in ("orders_live", "orders_scratch"):
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    live = url.set(database="orders_live").render_as_string(hide_password=False)
    scratch = url.set(database="orders_scratch").render_as_string(hide_password=False)
    ws = release.materialise(tmp_path / "rel", [fault] if fault else [], cache_dir=artifact_cache, now=now, database_url=live)
    backups = database.list_backups(ws.backups)
    assert [Path(b.path).suffix for b in backups] == [".dump", ".dump"]
    result = database.restore(Path(backups[-1].path), scratch)
    verdicts = {
        "backups-restorable": recovery.restore_matches(result, backups[-1].tables),
        "restore-within-rto": recovery.restore_within_rto(result, 900),
        "backups-fresh": recovery.latest_backup_fresh(backups, now, 3600, str(ws.backups)),
        "pitr": recovery.pitr_enabled(database.pitr_from_server(live), backups, now, 7),
    }
    failed = {k for k, v in verdicts.items() if v.status is Status.FAIL}
    expected = set(RELEASE_FAULTS[fault].checks) if fault else set()
    assert failed == expected, {k: v.message() for k, v in verdicts.items()}
    assert all(v.status in (Status.PASS, Status.FAIL) for v in verdicts.values())
    if fault is None:
        assert result.tables == {"orders": release.ORDER_ROWS}


def test_migration_features_run_on_postgres(scratch_url: str, tmp_path: Path) -> None:
    """The §3 features themselves against PostgreSQL: ``database.scratch_url`` set."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "pg.yaml").write_text(
        "name: pg\nrelease:\n  version: v1.2.0\n  previous_version: v1.1.0\n  project: sandbox\n"
        "  artifacts: sandbox\n  manifest: sandbox\n  models: goldgate.sandbox.bot.db:metadata\n"
        "  layout: {previous_queries: migrations/smoke/v1.1.0.sql}\ndatabase:\n  scratch_url: env:GOLDGATE_SCRATCH_URL\n", encoding="utf-8")
    env = {**os.environ, "GOLDGATE_SCRATCH_URL": scratch_url, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--env=pg", f"--environments-dir={envs}", "-m", "gate", "-p", "no:cacheprovider",
         "-q", f"--verdict-file={tmp_path / 'verdict.json'}", "features/migrations"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert "6 passed" in run.stdout and "failed" not in run.stdout, run.stdout[-3000:]
    assert "PostgreSQL scratch schema goldgate_scratch_" in (tmp_path / "verdict.json").read_text(encoding="utf-8")
