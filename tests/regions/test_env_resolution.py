"""How the sandbox plugin turns local.yaml's region values into the second region's URLs.

Pure resolution (no sandbox started): a running second region's URLs replace every
``sandbox`` value, real values are left alone, the scaled health-check interval applies
unless the file sets one, and an environment that names no region is not one that wants two.
"""

from __future__ import annotations

import pathlib

from goldgate.config import load_environment
from goldgate.sandbox import lifecycle
from goldgate.sandbox.pytest_plugin import _names_regions, _region_values

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOUND = {"global_url": "http://127.0.0.1:4001", "admin_url": "http://127.0.0.1:4002", "primary_url": "http://p",
         "standby_url": "http://127.0.0.1:4003", "secondary_context": "goldgate-sandbox-secondary",
         "health_interval_s": 1.0, "standby_database_url": "postgresql://postgres@127.0.0.1:4004/postgres"}


def _info() -> lifecycle.SandboxInfo:
    return lifecycle.SandboxInfo(pathlib.Path("/nowhere"), 1, 1, pathlib.Path("/nowhere/kubeconfig"), "",
                                 regions=dict(FOUND))


def test_local_yaml_names_the_second_region() -> None:
    env = load_environment("local", ROOT / "environments")
    assert _names_regions(env)
    values = _region_values(env, _info())
    assert values["http"] == {"standby_url": "http://127.0.0.1:4003"}
    regions = values["regions"]
    assert regions.global_url == "http://127.0.0.1:4001"
    assert regions.failback_url == "http://127.0.0.1:4002/failback"
    assert regions.standby_database_url == FOUND["standby_database_url"]
    assert regions.health_check_interval_s == 1.0  # the guide's 10 s scaled, as the endpoint checks
    assert regions.secondary_context == "goldgate-sandbox-secondary"


def test_real_values_and_a_set_interval_are_kept() -> None:
    env = load_environment("local", ROOT / "environments")
    regions = env.regions.model_copy(update={"global_url": "https://global.example", "health_check_interval_s": 10.0})
    regions.model_fields_set.add("health_check_interval_s")
    mixed = env.model_copy(update={"regions": regions,
                                   "http": env.http.model_copy(update={"standby_url": "https://dr.example"})})
    values = _region_values(mixed, _info())
    assert values["http"] == {"standby_url": "https://dr.example"}
    assert values["regions"].global_url == "https://global.example"
    assert values["regions"].failback_url == "http://127.0.0.1:4002/failback"
    assert values["regions"].health_check_interval_s == 10.0


def test_an_environment_without_regions_does_not_want_two() -> None:
    env = load_environment("staging", ROOT / "environments")
    assert not _names_regions(env)
    local = load_environment("local", ROOT / "environments")
    none = local.model_copy(update={"regions": None, "http": local.http.model_copy(update={"standby_url": None})})
    assert not _names_regions(none)
