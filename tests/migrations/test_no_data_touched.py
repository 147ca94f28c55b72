"""No data touched: a project's own database — named in alembic.ini, or read by env.py from
an environment variable — comes out of every migration check and of a gate run with the
same sha256, and a walk that would have landed there stops before its first write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from goldgate.checks.cli import register
from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.verdict import Status
from tests.migrations.projects import Project, check, orders_project, sha256

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR_ENV_PY = '''
import os
from alembic import context
from sqlalchemy import create_engine, pool

def run():
    engine = create_engine(os.environ["ORDERS_DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()

run()
'''


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The installed command itself, in its own process."""
    return subprocess.run([sys.executable, "-m", "goldgate.cli", "check", "migrations", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)


def test_generic_env_py_migrates_scratch_not_the_ini_database(healthy: Project, sentinel: Path) -> None:
    before = sha256(sentinel)
    walk = probe.walk(healthy.root)
    assert sha256(sentinel) == before
    assert str(sentinel) not in walk.landed and "scratch-1.sqlite3" in walk.landed
    assert walk.version_after_first == [healthy.revisions[0]]
    for verdict in (crit.upgrade_clean(walk), crit.reversible(walk)):
        assert verdict.status is Status.PASS, verdict.message()


def test_every_check_leaves_the_ini_database_byte_identical(healthy: Project, sentinel: Path, tmp_path: Path) -> None:
    before = sha256(sentinel)
    sql = tmp_path / "v1.sql"
    sql.write_text("SELECT id, symbol FROM orders;\n", encoding="utf-8")
    for argv in ([str(healthy.root)], [str(healthy.ini), "--previous-sql", str(sql)], [str(healthy.root), "--format", "json"]):
        run = _cli(*argv)
        assert run.returncode == 0, run.stdout + run.stderr
        assert sha256(sentinel) == before, argv
    assert probe.read_scripts(healthy.root).heads == [healthy.revisions[-1]]
    assert sha256(sentinel) == before


SHARED_ENGINE_ENV_PY = '''
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = config.attributes.get("connection", None)
if connectable is None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
'''


def test_env_py_calling_connect_on_the_shared_attribute(healthy: Project, sentinel: Path) -> None:
    """The cookbook env.py treats attributes["connection"] as an Engine and calls .connect()."""
    (healthy.root / "alembic" / "env.py").write_text(SHARED_ENGINE_ENV_PY, encoding="utf-8")
    before = sha256(sentinel)
    walk = probe.walk(healthy.root)
    assert crit.reversible(walk).status is Status.PASS, crit.reversible(walk).message()
    assert sha256(sentinel) == before


def test_env_var_env_py_is_handed_the_scratch_url(tmp_path: Path, sentinel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = orders_project(tmp_path / "project")
    (project.root / "alembic" / "env.py").write_text(ENV_VAR_ENV_PY, encoding="utf-8")
    monkeypatch.setenv("ORDERS_DATABASE_URL", f"sqlite:///{sentinel}")
    before = sha256(sentinel)
    walk = probe.walk(project.root, url_env_vars=["ORDERS_DATABASE_URL"])
    assert crit.reversible(walk).status is Status.PASS
    assert os.environ["ORDERS_DATABASE_URL"] == f"sqlite:///{sentinel}"  # put back afterwards
    run = check(str(project.root), "--url-env", "ORDERS_DATABASE_URL")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sha256(sentinel) == before


def test_env_py_that_migrates_elsewhere_is_stopped_before_the_first_write(
        tmp_path: Path, sentinel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = orders_project(tmp_path / "project")
    (project.root / "alembic" / "env.py").write_text(ENV_VAR_ENV_PY, encoding="utf-8")
    monkeypatch.setenv("ORDERS_DATABASE_URL", f"sqlite:///{sentinel}")
    before = sha256(sentinel)
    with pytest.raises(probe.ScratchNotReached) as caught:
        probe.walk(project.root)  # the variable env.py reads was not declared
    assert f"env.py connected to sqlite:///{sentinel}" in str(caught.value)
    assert "nothing was migrated" in str(caught.value) and "--url-env" in str(caught.value)
    assert sha256(sentinel) == before
    run = check(str(project.root))
    assert run.returncode == 2, run.stdout
    assert "ERROR upgrade" in run.stdout and str(sentinel) in run.stdout
    assert "NOT RUN reversible" in run.stdout and "the walk could not be made (see upgrade)" in run.stdout
    assert sha256(sentinel) == before


def test_version_table_written_elsewhere_stops_the_walk_before_any_downgrade(tmp_path: Path) -> None:
    """env.py connects to scratch but keeps alembic's version table in a database it attaches:
    the proof after the first upgrade finds no version table on scratch, and nothing is downgraded."""
    import sqlite3

    project = orders_project(tmp_path / "project")
    audit = tmp_path / "audit.sqlite3"
    env_py = project.root / "alembic" / "env.py"
    env_py.write_text(env_py.read_text(encoding="utf-8").replace(
        "        context.configure(\n            connection=connection, target_metadata=target_metadata\n        )",
        f"        connection.exec_driver_sql(\"ATTACH DATABASE '{audit}' AS audit\")\n"
        "        context.configure(connection=connection, target_metadata=target_metadata, "
        "version_table_schema='audit')"), encoding="utf-8")
    assert "version_table_schema" in env_py.read_text(encoding="utf-8")
    with pytest.raises(probe.ScratchNotReached) as caught:
        probe.walk(project.root)
    assert "has no version table" in str(caught.value) and "no downgrade was run" in str(caught.value)
    with sqlite3.connect(audit) as db:  # alembic's bookkeeping went there, not to scratch
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchall()
    db.close()
    run = check(str(project.root))
    assert run.returncode == 2 and "ERROR upgrade" in run.stdout and "NOT RUN reversible" in run.stdout, run.stdout


def _gate_run(tmp_path: Path, project: Project, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    envs = tmp_path / "environments"
    envs.mkdir(exist_ok=True)
    (envs / "team.yaml").write_text(
        f"name: team\nrelease:\n  version: v1.2.0\n  previous_version: v1.1.0\n  project: {project.root}\n"
        "  layout: {previous_queries: migrations/smoke/v1.1.0.sql}\n",
        encoding="utf-8")
    smoke = project.root / "migrations" / "smoke"
    smoke.mkdir(parents=True)
    (smoke / "v1.1.0.sql").write_text("SELECT id, symbol FROM orders;", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--env=team", f"--environments-dir={envs}", "-m", "gate", "-p",
         "no:cacheprovider", "-q", "--verdict-file=", "features/migrations"],
        cwd=ROOT, env={**os.environ, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state"), **extra_env},
        capture_output=True, text=True, timeout=300, check=False)


def test_a_gate_run_leaves_the_team_database_alone(tmp_path: Path, sentinel: Path) -> None:
    project = orders_project(tmp_path / "checkout", url=f"sqlite:///{sentinel}")
    before = sha256(sentinel)
    run = _gate_run(tmp_path, project, {})
    assert "5 passed" in run.stdout and "failed" not in run.stdout, run.stdout[-3000:]
    assert sha256(sentinel) == before


def test_a_gate_run_on_an_env_var_env_py_stops_before_writing(tmp_path: Path, sentinel: Path) -> None:
    """Until the environment declares the variable, the walk errors before its first write."""
    project = orders_project(tmp_path / "checkout")
    (project.root / "alembic" / "env.py").write_text(ENV_VAR_ENV_PY, encoding="utf-8")
    before = sha256(sentinel)
    run = _gate_run(tmp_path, project, {"ORDERS_DATABASE_URL": f"sqlite:///{sentinel}"})
    assert "3 errors" in run.stdout and f"env.py connected to sqlite:///{sentinel}" in run.stdout, run.stdout[-3000:]
    assert sha256(sentinel) == before


def test_the_check_is_registered() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["check", "migrations", "."])
    assert args.check_kind == "migrations"
