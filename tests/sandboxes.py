"""A module's or session's own sandbox and its Kubernetes clients, for test suites that mutate it.

Suites that deploy, break and roll back releases each start one private sandbox (so their
rehearsals never meet another suite's) and share it across their tests; these generators are
the one way they do it, for fixtures to ``yield from``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goldgate.config import Environment
from goldgate.probes.kubernetes import KubeClients, connect


def own_sandbox(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Any]:
    """Start a sandbox in a fresh folder, hand it over, stop it whatever happened."""
    from goldgate.sandbox import lifecycle

    state_dir = tmp_path_factory.mktemp(name)
    info = lifecycle.ensure_running(state_dir)
    try:
        yield info
    finally:
        lifecycle.stop(state_dir)


def sandbox_clients(sandbox: Any, env: Environment) -> Iterator[KubeClients]:
    """The environment's Kubernetes clients on that sandbox's kubeconfig, closed afterwards."""
    clients = connect(env.kubernetes, str(sandbox.kubeconfig))
    try:
        yield clients
    finally:
        clients.close()
