"""A pytest plugin for the drill's end-to-end test: the run's environment with the
objectives in force set from ``GOLDGATE_TEST_RTO_S`` / ``GOLDGATE_TEST_RPO_S``, so a fault
test can hold the drill to a tighter RTO or RPO than environments/local.yaml.

Loaded with ``-p tests.regions.env_plugin``.
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
    # Only what the file set: defaults stay defaults, so the sandbox still fills in its own.
    data: dict[str, Any] = env.model_dump(exclude_unset=True)
    for name, var in (("rto_s", "GOLDGATE_TEST_RTO_S"), ("rpo_s", "GOLDGATE_TEST_RPO_S")):
        if os.environ.get(var):
            data.setdefault("recovery", {})[name] = float(os.environ[var])
    extended = Environment.model_validate(data)
    config.stash[goldgate_plugin.ENV_KEY] = extended.model_copy(update={"source_file": env.source_file})
