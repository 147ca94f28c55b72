"""The judge's evidence in PostgreSQL (``judge.store_url``), against a real server started here.

One throwaway server for the module (tests/postgres.py, as the audit and checklist tests
start theirs). The judge runs over scripted monitors (tests/judge/fakes.py): what is tested
is that a run's evidence survives the judge's restart and the database's dropped connections,
and that the DSN's credentials never show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from goldgate.config import Environment, load_environment
from goldgate.judge.app import create_app
from goldgate.judge.store import PostgresRunStore, StoreUnavailableError, open_store
from tests.judge.fakes import TOKEN, scripted_judge
from tests.postgres import postgres_for_tests

ROOT = Path(__file__).resolve().parents[2]
ARGO = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
BODY = {"namespace": "trading", "workload": "slow-bot", "revision": "6f9c8d7b5"}


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with postgres_for_tests() as url:
        yield url


@pytest.fixture
def env() -> Environment:
    return load_environment("local", ROOT / "environments")


def test_a_restarted_judge_continues_the_run_from_postgresql(dsn: str, env: Environment, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(dsn, tmp_path / "unused.sqlite3")
    assert isinstance(store, PostgresRunStore)
    judge = scripted_judge(env, tmp_path / "unused.sqlite3", lambda g: "INCONCLUSIVE", monkeypatch, store=store)
    with TestClient(create_app(judge, token=TOKEN)) as c:
        for _ in range(5):
            before = c.post("/v1/argo", json=BODY, headers=ARGO).json()
    store.close()
    assert before["evidence"]["evaluations"] >= 1 and before["evidence"]["requests"] >= 100
    again = PostgresRunStore(dsn)  # a new process: nothing but the database remembers the run
    judge2 = scripted_judge(env, tmp_path / "unused.sqlite3", lambda g: "INCONCLUSIVE", monkeypatch, store=again)
    with TestClient(create_app(judge2, token=TOKEN)) as c:
        after = c.post("/v1/argo", json=BODY, headers=ARGO).json()
        status = c.get("/v1/runs/trading/slow-bot/6f9c8d7b5", headers=ARGO)
    again.close()
    assert after["evidence"]["restored"] is True
    assert after["evidence"]["evaluations"] >= before["evidence"]["evaluations"]
    assert after["evidence"]["requests"] >= before["evidence"]["requests"]
    assert status.status_code == 200 and status.json()["run"] == "trading/slow-bot@6f9c8d7b5"
    assert not (tmp_path / "unused.sqlite3").exists()  # PostgreSQL configured: no local file


def test_a_dropped_connection_is_reopened_and_nothing_is_lost(dsn: str) -> None:
    import psycopg

    store = PostgresRunStore(dsn)
    store.save("trading/a@1", {"evaluations": 1})
    with psycopg.connect(dsn, autocommit=True) as admin:  # the database restarts its backends
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE pid <> pg_backend_pid() AND datname = current_database()")
    store.save("trading/a@1", {"evaluations": 2})
    assert store.load("trading/a@1") == {"evaluations": 2}
    assert "trading/a@1" in list(store.keys())
    store.close()


def test_an_unreachable_store_is_one_line_without_the_password(dsn: str) -> None:
    from goldgate.sandbox.ports import free_port

    secret_dsn = f"postgresql://judge:hunter2-secret@127.0.0.1:{free_port()}/runs"
    with pytest.raises(StoreUnavailableError) as err:
        PostgresRunStore(secret_dsn, connect_timeout_s=2)
    assert "hunter2-secret" not in str(err.value) and "127.0.0.1" in str(err.value)
    assert "\n" not in str(err.value)


def test_the_store_url_is_a_secret_reference_and_a_missing_secret_stops_the_judge(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from goldgate.cli import main
    from goldgate.config import Judge

    with pytest.raises(ValueError, match="reference"):
        Judge(store_url="postgresql://judge:pw@db/runs")
    raw = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    raw["judge"]["store_url"] = "env:GOLDGATE_TEST_JUDGE_STORE_URL"
    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "local.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.delenv("GOLDGATE_TEST_JUDGE_STORE_URL", raising=False)
    code = main(["judge", "--env", "local", "--environments-dir", str(folder), "--namespace", "trading",
                 "--workload", "trading-bot", "--revision", "1", "--wait", "1s"])
    err = capsys.readouterr().err
    assert code == 2 and "judge.store_url" in err and "GOLDGATE_TEST_JUDGE_STORE_URL" in err, err
    assert "Traceback" not in err
