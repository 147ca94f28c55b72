"""local.yaml's recovery values resolve to the running order database's evidence: its URL
(database.url), its WAL archive and the backup job's two stores; without a second region
they stay unresolved rather than pointing at anything else."""

from __future__ import annotations

import pathlib

from goldgate.config import load_environment
from goldgate.sandbox import lifecycle
from goldgate.sandbox.pytest_plugin import _region_values

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOUND = {"global_url": "http://127.0.0.1:4001", "admin_url": "http://127.0.0.1:4002", "standby_url": "http://s",
         "standby_database_url": "postgresql://postgres@127.0.0.1:4004/postgres",
         "primary_database_url": "postgresql://postgres@127.0.0.1:4005/postgres",
         "wal_archive": "/state/regions/wal-archive", "backups": "/state/regions/backups",
         "backups_secondary": "/state/regions/backups-secondary"}


def test_the_order_database_and_its_records_come_from_the_running_regions() -> None:
    env = load_environment("local", ROOT / "environments")
    info = lifecycle.SandboxInfo(pathlib.Path("/nowhere"), 1, 1, pathlib.Path("/nowhere/kubeconfig"), "",
                                 regions=dict(FOUND))
    values = _region_values(env, info)
    assert values["database"].url == FOUND["primary_database_url"]
    assert values["recovery"] == {"wal_archive": FOUND["wal_archive"], "backups": FOUND["backups"],
                                  "second_region_backups": FOUND["backups_secondary"]}


def test_a_named_database_is_kept() -> None:
    env = load_environment("local", ROOT / "environments")
    env = env.model_copy(update={"database": env.database.model_copy(update={"url": "postgresql://db/orders"})})
    info = lifecycle.SandboxInfo(pathlib.Path("/nowhere"), 1, 1, pathlib.Path("/nowhere/kubeconfig"), "",
                                 regions=dict(FOUND))
    assert "database" not in _region_values(env, info)
