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


def test_round_trip_and_smoke_on_postgres(postgres_url: str, healthy: release.Workspace) -> None:
    trip = probe.round_trip(healthy.project, postgres_url)
    verdict = mig.round_trip_clean(trip)
    assert verdict.status is Status.PASS, verdict.message()
    assert "postgresql scratch schema" in trip.backend
    smoke = probe.upgrade_and_smoke(healthy.project, healthy.project / "migrations/smoke/v1.1.0.sql", postgres_url)
    assert mig.backward_compatible(smoke, "v1.1.0").status is Status.PASS, smoke.failures
    differences, _backend = probe.compare_with_bot(healthy.project, postgres_url)
    assert differences == []


@pytest.mark.parametrize(("fault", "check"), [
    ("non-reversible-migration", mig.round_trip_clean),
    ("migration-without-downgrade", mig.round_trip_clean),
])
def test_round_trip_faults_on_postgres(postgres_url: str, build_release: Callable[..., release.Workspace],
                                       fault: str, check: Callable) -> None:
    ws = build_release(fault)
    verdict = check(probe.round_trip(ws.project, postgres_url))
    assert verdict.status is Status.FAIL
    assert "orders.client_order_id left behind" in verdict.reason


def test_breaking_migration_breaks_old_queries_on_postgres(postgres_url: str,
                                                           build_release: Callable[..., release.Workspace]) -> None:
    ws = build_release("breaking-migration")
    smoke = probe.upgrade_and_smoke(ws.project, ws.project / "migrations/smoke/v1.1.0.sql", postgres_url)
    verdict = mig.backward_compatible(smoke, "v1.1.0")
    assert verdict.status is Status.FAIL and "price" in verdict.reason


def test_scratch_schemas_are_dropped(postgres_url: str, healthy: release.Workspace) -> None:
    probe.round_trip(healthy.project, postgres_url)
    engine = create_engine(postgres_url)
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


def test_migration_features_run_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """The §3 features themselves against PostgreSQL: ``database.scratch_url`` set."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "pg.yaml").write_text(
        "name: pg\nrelease:\n  version: v1.2.0\n  previous_version: v1.1.0\n  project: sandbox\n"
        "  artifacts: sandbox\n  manifest: sandbox\ndatabase:\n  scratch_url: env:GOLDGATE_SCRATCH_URL\n", encoding="utf-8")
    env = {**os.environ, "GOLDGATE_SCRATCH_URL": postgres_url, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--env=pg", f"--environments-dir={envs}", "-m", "gate", "-p", "no:cacheprovider",
         "-q", f"--verdict-file={tmp_path / 'verdict.json'}", "features/migrations"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "6 passed" in run.stdout
    assert "postgresql scratch schema goldgate_scratch_" in (tmp_path / "verdict.json").read_text(encoding="utf-8")
