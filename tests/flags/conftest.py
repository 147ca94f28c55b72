"""One real Unleash server for the flag tests (npm unleash-server on its own PostgreSQL),
started the way the sandbox daemon starts it, without a cluster: the bots these tests need
are plain processes of the reference bot, and the pods' identities come from a stand-in
for the Kubernetes API (the kill-switch criterion compares uids and restart counts)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from goldgate.probes.flags import UnleashAdmin
from goldgate.sandbox.flags import server

FLAGS_FILE = pathlib.Path(server.__file__).parents[1] / "project" / "config" / "flags.yaml"


@dataclass
class Unleash:
    plan: server.UnleashPlan

    def admin(self, **kw: Any) -> UnleashAdmin:
        return UnleashAdmin(self.plan.url, self.plan.admin_token, environment=server.ENVIRONMENT, **kw)

    def bot_env(self) -> dict[str, str]:
        return {"UNLEASH_URL": self.plan.url + "/api", "UNLEASH_API_TOKEN": self.plan.client_token}


@pytest.fixture(scope="session")
def unleash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unleash]:
    if not server.installed():
        pytest.skip("Unleash is not installed: goldgate sandbox flags --install (npm; PostgreSQL from "
                    "apt-get install postgresql)")
    folder = tmp_path_factory.mktemp("unleash")
    plan = server.plan(folder)
    proc = None
    try:
        proc = server.start(plan, FLAGS_FILE)
        yield Unleash(plan)
    finally:
        server.stop(folder, proc)


class StubPods:
    """The Kubernetes API's pod list, as far as identities go: uid and restart counts."""

    def __init__(self, pods: dict[str, tuple[str, int]]) -> None:
        self.pods = pods

    def list_namespaced_pod(self, namespace: str, label_selector: str = "", **_: Any) -> Any:
        items = [SimpleNamespace(metadata=SimpleNamespace(name=name, uid=uid),
                                 status=SimpleNamespace(container_statuses=[SimpleNamespace(restart_count=restarts)]))
                 for name, (uid, restarts) in self.pods.items()]
        return SimpleNamespace(items=items)
