"""A pytest plugin for the drill's end-to-end test: the run's environment plus the
two-region fields (``regions.global_url``, ``regions.failback_url``, ``regions.standby_database_url``,
``http.standby_url``) set to the sandbox's symbolic values, which environments/local.yaml
does not name yet.

Loaded with ``-p tests.regions.env_plugin``; ``GOLDGATE_TEST_RTO_S`` / ``GOLDGATE_TEST_RPO_S``
set the objectives in force.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from goldgate import plugin as goldgate_plugin
from goldgate.config import Environment


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    env = config.stash.get(goldgate_plugin.ENV_KEY, None)
    if env is None:
        return
    data: dict[str, Any] = env.model_dump()
    data["http"]["standby_url"] = "sandbox"
    for name, var in (("rto_s", "GOLDGATE_TEST_RTO_S"), ("rpo_s", "GOLDGATE_TEST_RPO_S")):
        if os.environ.get(var):
            data["recovery"][name] = float(os.environ[var])
    data["regions"] = {"global_url": "sandbox", "failback_url": "sandbox", "standby_database_url": "sandbox"}
    extended = Environment.model_validate(data)
    config.stash[goldgate_plugin.ENV_KEY] = extended.model_copy(update={"source_file": env.source_file})
