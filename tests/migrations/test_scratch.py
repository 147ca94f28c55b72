"""The scratch rule: goldgate migrates only databases it created or proved empty; anything
else is refused before a write. On SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.verdict import Status
from tests.migrations.projects import Project, check, orders_project, sha256
from tests.postgres import postgres_for_tests


def test_a_url_holding_tables_is_refused_and_left_alone(healthy: Project, sentinel: Path) -> None:
    before = sha256(sentinel)
    run = check(str(healthy.root), "--url", f"sqlite:///{sentinel}")
    assert run.returncode == 2 and run.stdout == ""
    assert "not a scratch database: it holds 2 tables (alembic_version, orders)" in run.stderr
    assert sha256(sentinel) == before


@pytest.mark.parametrize(("url", "why"), [
    ("sqlite://", "in-memory SQLite database cannot be shared"),
    ("mysql+pymysql://ci@127.0.0.1/scratch", "only SQLite and PostgreSQL scratch databases are supported"),
    ("not a url", "not a database URL"),
])
def test_unusable_urls_are_refused(healthy: Project, url: str, why: str) -> None:
    run = check(str(healthy.root), "--url", url)
    assert run.returncode == 2 and why in run.stderr, run.stderr


def test_a_named_sqlite_file_that_does_not_exist_is_used_then_removed(healthy: Project, tmp_path: Path) -> None:
    target = tmp_path / "scratch.sqlite3"
    run = check(str(healthy.root), "--url", f"sqlite:///{target}", "--verbose")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"SQLite scratch database {target}" in run.stdout
    assert not target.exists()


def test_an_empty_sqlite_file_is_used_and_put_back_byte_identical(healthy: Project, tmp_path: Path) -> None:
    target = tmp_path / "empty.sqlite3"
    with sqlite3.connect(target) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()
    before = sha256(target)
    walk = probe.walk(healthy.root, f"sqlite:///{target}")
    assert crit.reversible(walk).status is Status.PASS
    assert sha256(target) == before


def test_password_is_redacted_in_a_refusal(healthy: Project) -> None:
    run = check(str(healthy.root), "--url", "postgresql+psycopg://ci:hunter2@127.0.0.1:9/scratch")
    assert run.returncode == 2 and "cannot connect" in run.stderr
    assert "hunter2" not in run.stderr and "ci:***@127.0.0.1:9" in run.stderr


def test_env_names_the_scratch_url(healthy: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "ci.yaml").write_text("name: ci\nrelease:\n  version: v1.2.0\ndatabase:\n  scratch_url: env:CI_SCRATCH\n",
                                  encoding="utf-8")
    target = tmp_path / "ci-scratch.sqlite3"
    monkeypatch.setenv("CI_SCRATCH", f"sqlite:///{target}")
    run = check(str(healthy.root), "--env", "ci", "--environments-dir", str(envs), "--verbose")
    assert run.returncode == 0 and str(target) in run.stdout, run.stdout + run.stderr
    run = check(str(healthy.root), "--env", "nope", "--environments-dir", str(envs))
    assert run.returncode == 2 and "unknown environment 'nope'" in run.stderr


# ----------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_for_tests(driver="psycopg") as url:
        yield url


@pytest.fixture
def pg_scratch(pg_server: str) -> str:
    """An empty database of its own for each test."""
    name = f"scratch_{abs(hash(pg_server)) % 10_000}_{id(object()) % 100_000}"
    admin = create_engine(pg_server)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(pg_server).set(database=name).render_as_string(hide_password=False)


@pytest.mark.slow
def test_generic_project_round_trips_inside_a_fresh_postgres_schema(tmp_path: Path, sentinel: Path,
                                                                    pg_scratch: str) -> None:
    project = orders_project(tmp_path / "p", url=f"sqlite:///{sentinel}")
    before = sha256(sentinel)
    walk = probe.walk(project.root, pg_scratch)
    assert crit.upgrade_clean(walk).status is Status.PASS and crit.reversible(walk).status is Status.PASS
    assert "PostgreSQL scratch schema goldgate_scratch_" in walk.backend
    engine = create_engine(pg_scratch)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM information_schema.schemata "
                                 "WHERE schema_name LIKE 'goldgate_scratch_%'")).scalar_one()
        tables = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                   "WHERE table_schema = 'public'")).scalar_one()
    engine.dispose()
    assert (left, tables) == (0, 0)
    assert sha256(sentinel) == before


@pytest.mark.slow
def test_postgres_downgrade_defects(tmp_path: Path, pg_scratch: str) -> None:
    project = orders_project(tmp_path / "p")
    raising = project.revision("add order note column for traders",
                               'op.add_column("orders", sa.Column("note", sa.String(200), nullable=True))',
                               "raise NotImplementedError")
    project.revision("create accounts table with order owner",
                     'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))\n'
                     'op.add_column("orders", sa.Column("account_id", sa.Integer(), nullable=True))\n'
                     'op.create_foreign_key("fk_orders_account", "orders", "accounts", ["account_id"], ["id"])',
                     'op.drop_column("orders", "account_id")')
    verdict = crit.reversible(probe.walk(project.root, pg_scratch))
    assert verdict.status is Status.FAIL and verdict.observed == "2 not reversible", verdict.message()
    assert f"{raising} (" in verdict.reason and "NotImplementedError" in verdict.reason
    assert "table accounts left behind" in verdict.reason


@pytest.mark.slow
def test_a_postgres_database_with_tables_is_refused(healthy: Project, pg_scratch: str) -> None:
    engine = create_engine(pg_scratch)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE trades (id integer primary key)"))
        conn.execute(text("INSERT INTO trades VALUES (1)"))
    run = check(str(healthy.root), "--url", pg_scratch)
    assert run.returncode == 2 and "it holds 1 tables or views (public.trades)" in run.stderr, run.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM trades")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM information_schema.schemata "
                                 "WHERE schema_name LIKE 'goldgate_scratch_%'")).scalar_one() == 0
    engine.dispose()
