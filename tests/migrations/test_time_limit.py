"""Every env.py run has a time limit: an env.py that never returns ends ERROR naming env.py
and the limit, within the limit, with its process (and what it started) ended and the
scratch database removed — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from goldgate.probes import migrations as probe
from tests.migrations.projects import Project, check, orders_project
from tests.postgres import postgres_for_tests

LIMIT_S = 3

HANGS = {
    "sleeps": "while True:\n    time.sleep(1)\n",
    "waits on a socket": "server = socket.socket()\nserver.bind(('127.0.0.1', 0))\nserver.listen()\n"
                         "server.accept()\n",
}


def _hanging(project: Project, tmp_path: Path, hang: str) -> Path:
    """env.py that records its pid and a child's pid, then never returns."""
    pids = tmp_path / "pids"
    env_py = project.root / "alembic" / "env.py"
    env_py.write_text(
        "import os, socket, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n" + hang, encoding="utf-8")
    return pids


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie awaiting its reaper runs nothing


def _all_gone(pids: Path) -> bool:
    deadline = time.monotonic() + 5
    numbers = [int(x) for x in pids.read_text().split()]
    while time.monotonic() < deadline and not all(_gone(p) for p in numbers):
        time.sleep(0.1)
    return all(_gone(p) for p in numbers)


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """goldgate's temporary folders (the SQLite scratch among them) go here, to be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("hang", sorted(HANGS))
def test_env_py_that_never_returns_ends_error_within_the_limit(tmp_path: Path, own_tmp: Path, hang: str) -> None:
    project = orders_project(tmp_path / "p")
    pids = _hanging(project, tmp_path, HANGS[hang])
    started = time.monotonic()
    run = check(str(project.root), "--timeout", str(LIMIT_S), "--format", "json")
    took = time.monotonic() - started
    rules = {f["rule"]: f for f in json.loads(run.stdout)}
    env_py = project.root / "alembic" / "env.py"
    assert run.returncode == 2
    assert rules["upgrade"]["status"] == "ERROR"
    assert str(rules["upgrade"]["message"]).startswith(f"{env_py}: env.py did not finish within {LIMIT_S} s")
    assert "its process was ended and the scratch database removed" in str(rules["upgrade"]["message"])
    assert rules["reversible"] == {**rules["reversible"], "status": "NOT RUN",
                                   "message": "env.py could not be loaded (see upgrade)"}
    assert took < LIMIT_S + 15, took  # the limit, plus starting the child and reading the history
    assert _all_gone(pids), "env.py's process or the process it started is still running"
    assert list(own_tmp.iterdir()) == [], "the scratch database or the walk's folder was left behind"


def test_the_environment_sets_the_limit(tmp_path: Path, own_tmp: Path) -> None:
    project = orders_project(tmp_path / "p")
    pids = _hanging(project, tmp_path, HANGS["sleeps"])
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "ci.yaml").write_text("name: ci\nrelease:\n  version: v1.2.0\n  migrations_timeout_s: 2\n",
                                  encoding="utf-8")
    run = check(str(project.root), "--env", "ci", "--environments-dir", str(envs))
    assert run.returncode == 2 and "env.py did not finish within 2 s" in run.stdout, run.stdout + run.stderr
    assert _all_gone(pids)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_timeout_that_is_no_limit_stops_the_command(healthy: Project, value: str) -> None:
    run = check(str(healthy.root), "--timeout", value)
    assert run.returncode == 2 and run.stdout == "" and "--timeout" in run.stderr, run.stderr


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_for_tests(driver="psycopg") as url:
        yield url


@pytest.mark.slow
def test_hanging_env_py_on_postgres_leaves_no_schema(tmp_path: Path, pg_server: str) -> None:
    project = orders_project(tmp_path / "p")
    env_py = project.root / "alembic" / "env.py"
    # the generic env.py, hanging after its first migration step wrote to the scratch schema
    text_ = env_py.read_text(encoding="utf-8")
    env_py.write_text(text_.replace("            context.run_migrations()",
                                    "            context.run_migrations()\n"
                                    "            if context.get_context().get_current_heads():\n"
                                    "                import time\n"
                                    "                while True:\n"
                                    "                    time.sleep(1)"), encoding="utf-8")
    url = make_url(pg_server).set(database="postgres").render_as_string(hide_password=False)
    with pytest.raises(probe.MigrationTimeout, match=f"env.py did not finish within {LIMIT_S} s"):
        probe.walk(project.root, url, timeout_s=LIMIT_S)
    engine = create_engine(url)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'goldgate%'")).all()
        tables = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
        public = tables.scalar_one()
    engine.dispose()
    assert (left, public) == ([], 0)
