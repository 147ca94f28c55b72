"""Every env.py form alembic ships and teams write, loaded and run unmodified.

Each project is built in the test by the real alembic: ``alembic init -t TEMPLATE`` and
``alembic revision -m`` through its command line, the revision bodies then filled with
``op.create_table`` and friends. ``goldgate check migrations`` must judge every rule on a
healthy project (PASS) and still FAIL the planted fault (a downgrade that forgets a column).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.verdict import Status
from tests.migrations.projects import ALEMBIC, check, indent, sha256
from tests.postgres import postgres_for_tests

ORDERS_UP = ('op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True),\n'
             '                sa.Column("symbol", sa.String(16), nullable=False){schema})')
ORDERS_DOWN = 'op.drop_table("orders"{schema})'
NOTE_UP = 'op.add_column("orders", sa.Column("client_order_id", sa.String(64), nullable=True){schema})'
NOTE_DOWN = 'op.drop_column("orders", "client_order_id"{schema})'

#: the env.py pytest-alembic's documentation recommends: fileConfig unguarded and the
#: project's models imported at the top, attributes["connection"] used as an Engine
PYTEST_ALEMBIC_ENV_PY = '''\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from models import Base

fileConfig(context.config.config_file_name)
target_metadata = Base.metadata


def run_migrations_online():
    connectable = context.config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            context.config.get_section(context.config.config_ini_section),
            prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
'''

#: alembic's cookbook "sharing a connection": attributes["connection"] is a Connection
CONNECTION_ENV_PY = '''\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def run(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection", None)
if connection is None:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        run(connection)
else:
    run(connection)
'''

MODELS_PY = '''\
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Order(Base):
    __tablename__ = "orders"
    id = sa.Column(sa.Integer, primary_key=True)
    symbol = sa.Column(sa.String(16), nullable=False)
    client_order_id = sa.Column(sa.String(64), nullable=True)
'''


class Built:
    """A project as the alembic CLI made it, and the revision files written (oldest first)."""

    def __init__(self, root: Path, template: str) -> None:
        self.root, self.template, self.files = root, template, []

    @property
    def env_py(self) -> Path:
        return self.root / "alembic" / "env.py"

    def revision(self, message: str, upgrade: str, downgrade: str) -> Path:
        out = subprocess.run([*ALEMBIC, "revision", "-m", message], cwd=self.root, check=True,
                             capture_output=True, text=True, timeout=60).stdout
        path = Path(re.search(r"Generating (\S+\.py)", out).group(1))  # type: ignore[union-attr]
        body = path.read_text(encoding="utf-8")
        body = body.replace('    """Upgrade schema."""\n    pass', f'    """Upgrade schema."""\n{indent(upgrade)}')
        body = body.replace('    """Downgrade schema."""\n    pass', f'    """Downgrade schema."""\n{indent(downgrade)}')
        path.write_text(body, encoding="utf-8")
        self.files.append(path)
        return path


def build(folder: Path, template: str, *, url: str, schema: str = "") -> Built:
    """``alembic init -t TEMPLATE alembic`` in ``folder``, the team's URL in its ini, two revisions."""
    folder.mkdir(parents=True)
    subprocess.run([*ALEMBIC, "init", "-t", template, "alembic"], cwd=folder, check=True, capture_output=True,
                   text=True, timeout=60)
    ini = folder / "alembic.ini"
    ini.write_text(re.sub(r"(?m)^sqlalchemy\.url = .*$", f"sqlalchemy.url = {url}", ini.read_text("utf-8")),
                   encoding="utf-8")
    built = Built(folder, template)
    kw = f', schema="{schema}"' if schema else ""
    built.revision("create orders table for paper trades", ORDERS_UP.format(schema=kw),
                   ORDERS_DOWN.format(schema=kw))
    built.revision("add client order id for idempotent orders", NOTE_UP.format(schema=kw),
                   NOTE_DOWN.format(schema=kw))
    return built


def plant_irreversible(built: Built, schema: str = "") -> Path:
    """The planted fault: a downgrade that forgets the column its upgrade added."""
    kw = f', schema="{schema}"' if schema else ""
    return built.revision("add venue column for order routing",
                          f'op.add_column("orders", sa.Column("venue", sa.String(20), nullable=True){kw})', "pass")


def judged(root: Path, *argv: str) -> dict[str, dict[str, object]]:
    run = check(str(root), "--format", "json", *argv)
    return {f["rule"]: f for f in json.loads(run.stdout)} | {"exit": {"code": run.returncode}}


def assert_healthy(rules: dict[str, dict[str, object]], *also: str) -> None:
    for rule in ("single-head", "upgrade", "reversible", "descriptive-names", *also):
        assert rules[rule]["status"] == "PASS", (rule, rules[rule]["message"])
    assert rules["exit"]["code"] == 0


def assert_fault_found(rules: dict[str, dict[str, object]], planted: Path) -> None:
    assert rules["reversible"]["status"] == "FAIL", rules
    assert "orders.venue left behind" in str(rules["reversible"]["message"])
    assert rules["reversible"]["file"] == str(planted) and rules["exit"]["code"] == 1


# ----------------------------------------------------------------------------- SQLite


@pytest.fixture
def team_db(tmp_path: Path) -> Path:
    """The team's own database named in every ini: it must come out byte-identical."""
    import sqlite3

    path = tmp_path / "team.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, symbol VARCHAR(16) NOT NULL)")
    db.close()
    return path


@pytest.mark.parametrize("template", ["generic", "pyproject"])
def test_alembic_init_templates_are_judged(tmp_path: Path, team_db: Path, template: str) -> None:
    built = build(tmp_path / "p", template, url=f"sqlite:///{team_db}")
    if template == "pyproject":
        assert "script_location" in (built.root / "pyproject.toml").read_text("utf-8")
        assert "script_location" not in (built.root / "alembic.ini").read_text("utf-8")
    before = sha256(team_db)
    assert_healthy(judged(built.root))
    planted = plant_irreversible(built)
    assert_fault_found(judged(built.root), planted)
    assert sha256(team_db) == before


def test_the_env_py_pytest_alembic_recommends(tmp_path: Path, team_db: Path) -> None:
    """fileConfig(config.config_file_name) unguarded, ``from models import Base`` from the project
    folder, attributes["connection"] taken as an Engine: was "TypeError: 'NoneType' object is not iterable"."""
    built = build(tmp_path / "p", "generic", url=f"sqlite:///{team_db}")
    built.env_py.write_text(PYTEST_ALEMBIC_ENV_PY, encoding="utf-8")
    (built.root / "models.py").write_text(MODELS_PY, encoding="utf-8")
    before = sha256(team_db)
    assert_healthy(judged(built.root, "--models", "models:Base"), "models-match")
    walk = probe.walk(built.root)  # the probe API too
    assert crit.reversible(walk).status is Status.PASS and crit.upgrade_clean(walk).status is Status.PASS
    planted = plant_irreversible(built)
    assert_fault_found(judged(built.root), planted)
    assert sha256(team_db) == before


def test_env_py_taking_attributes_connection_as_a_connection(tmp_path: Path, team_db: Path) -> None:
    built = build(tmp_path / "p", "generic", url=f"sqlite:///{team_db}")
    built.env_py.write_text(CONNECTION_ENV_PY, encoding="utf-8")
    before = sha256(team_db)
    assert_healthy(judged(built.root))
    planted = plant_irreversible(built)
    assert_fault_found(judged(built.root), planted)
    assert sha256(team_db) == before


def test_here_and_relative_script_location_from_another_folder(tmp_path: Path, team_db: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    built = build(tmp_path / "p", "generic", url=f"sqlite:///{team_db}")
    assert "script_location = %(here)s/alembic" in (built.root / "alembic.ini").read_text("utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert_healthy(judged(built.root / "alembic.ini"))
    ini = built.root / "alembic.ini"
    ini.write_text(ini.read_text("utf-8").replace("%(here)s/alembic", "alembic"), encoding="utf-8")
    assert_healthy(judged(built.root))
    assert list(elsewhere.iterdir()) == []


def test_async_template_on_sqlite_without_an_async_driver_is_one_error(tmp_path: Path, team_db: Path) -> None:
    pytest.importorskip("sqlalchemy.ext.asyncio")
    try:
        import aiosqlite  # noqa: F401
        pytest.skip("aiosqlite is installed: the async template runs on SQLite (see the PostgreSQL test)")
    except ImportError:
        pass
    built = build(tmp_path / "p", "async", url=f"sqlite:///{team_db}")
    rules = judged(built.root)
    assert rules["upgrade"]["status"] == "ERROR" and "aiosqlite" in str(rules["upgrade"]["message"])
    for rule in ("reversible",):
        assert rules[rule]["status"] == "NOT RUN" and "see upgrade" in str(rules[rule]["message"])
    assert rules["single-head"]["status"] == "PASS" and rules["exit"]["code"] == 2


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_for_tests(driver="psycopg") as url:
        yield url


@pytest.fixture
def pg_scratch(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "forms_" + re.sub(r"\W", "_", request.node.name)[-40:].lower()
    admin = create_engine(pg_server)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)


def _schemas(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
                                                 "AND nspname <> 'information_schema' ORDER BY 1"))]
    engine.dispose()
    return names


@pytest.mark.slow
@pytest.mark.parametrize("template", ["async", "pyproject_async"])
def test_async_templates_on_postgres(tmp_path: Path, team_db: Path, pg_scratch: str, template: str) -> None:
    built = build(tmp_path / "p", template, url=f"sqlite:///{team_db}")
    assert "async_engine_from_config" in built.env_py.read_text("utf-8")
    assert_healthy(judged(built.root, "--url", pg_scratch))
    planted = plant_irreversible(built)
    assert_fault_found(judged(built.root, "--url", pg_scratch), planted)
    assert _schemas(pg_scratch) == ["public"]


VERSION_SCHEMA_CONFIGURE = '''
        connection.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS trading")
        connection.commit()  # else alembic joins this transaction and nothing is committed
        context.configure(
            connection=connection, target_metadata=target_metadata, version_table_schema="trading"
        )'''


@pytest.mark.slow
def test_version_table_schema_on_postgres(tmp_path: Path, team_db: Path, pg_scratch: str) -> None:
    built = build(tmp_path / "p", "generic", url=f"sqlite:///{team_db}", schema="trading")
    env_py = built.env_py.read_text("utf-8")
    generic = "\n        context.configure(\n            connection=connection, target_metadata=target_metadata\n        )"
    assert generic in env_py
    built.env_py.write_text(env_py.replace(generic, VERSION_SCHEMA_CONFIGURE), encoding="utf-8")
    rules = judged(built.root, "--url", pg_scratch, "--verbose")
    assert_healthy(rules)
    planted = plant_irreversible(built, "trading")
    assert_fault_found(judged(built.root, "--url", pg_scratch), planted)
    assert _schemas(pg_scratch) == ["public"]  # neither goldgate's schema nor "trading" is left


# ----------------------------------------------------------------------------- multidb


def _multidb_revision(built: Built, message: str, bodies: dict[str, tuple[str, str]]) -> Path:
    """``alembic revision -m`` on a multidb project: one upgrade/downgrade pair per database."""
    out = subprocess.run([*ALEMBIC, "revision", "-m", message], cwd=built.root, check=True, capture_output=True,
                         text=True, timeout=60).stdout
    path = Path(re.search(r"Generating (\S+\.py)", out).group(1))  # type: ignore[union-attr]
    body = path.read_text(encoding="utf-8")
    for engine, (up, down) in bodies.items():
        body = body.replace(f'    """Upgrade {engine} schema."""\n    pass', f'    """Upgrade {engine} schema."""\n{indent(up)}')
        body = body.replace(f'    """Downgrade {engine} schema."""\n    pass',
                            f'    """Downgrade {engine} schema."""\n{indent(down)}')
    path.write_text(body, encoding="utf-8")
    return path


def test_multidb_template_walks_every_database_on_its_own_scratch(tmp_path: Path, team_db: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    subprocess.run([*ALEMBIC, "init", "-t", "multidb", "alembic"], cwd=root, check=True, capture_output=True,
                   text=True, timeout=60)
    ini = root / "alembic.ini"
    second = tmp_path / "team-risk.sqlite3"
    text_ = ini.read_text("utf-8")
    text_ = text_.replace("sqlalchemy.url = driver://user:pass@localhost/dbname2", f"sqlalchemy.url = sqlite:///{second}")
    ini.write_text(text_.replace("sqlalchemy.url = driver://user:pass@localhost/dbname",
                                 f"sqlalchemy.url = sqlite:///{team_db}"), encoding="utf-8")
    assert "databases = engine1, engine2" in ini.read_text("utf-8")
    built = Built(root, "multidb")
    _multidb_revision(built, "create orders and risk limits tables", {
        "engine1": (ORDERS_UP.format(schema=""), ORDERS_DOWN.format(schema="")),
        "engine2": ('op.create_table("limits", sa.Column("id", sa.Integer(), primary_key=True))',
                    'op.drop_table("limits")')})
    before = sha256(team_db)
    assert_healthy(judged(root))
    planted = _multidb_revision(built, "add max notional to risk limits", {
        "engine2": ('op.add_column("limits", sa.Column("max_notional", sa.Float(), nullable=True))', "pass")})
    rules = judged(root)
    assert rules["reversible"]["status"] == "FAIL" and rules["reversible"]["file"] == str(planted)
    assert "engine2: the downgrade did not restore the schema: limits.max_notional left behind" in \
        str(rules["reversible"]["message"])
    assert rules["reversible"]["observed"] == "1 not reversible", rules["reversible"]
    assert sha256(team_db) == before and not second.exists()
