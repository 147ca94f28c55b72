"""The layers contract (pyproject.toml, run by ``lint-imports`` in .ci/run) covers every module.

import-linter checks the floors it is given; a module on no floor is checked by none of
them, so a new top-level module would slip past the contract unnoticed. This test reads the
contract and the package and asks that each top-level module of goldgate is on a floor (the
sandbox stands outside the library and has contracts of its own), and that every library
module is held to "nothing imports pytest" except the pytest plugin's own.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import goldgate

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_THE_LIBRARY = {"sandbox"}
THE_PYTEST_PLUGIN = {"plugin", "hookspecs"}


def _contracts() -> list[dict]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["importlinter"]["contracts"]


def _top_level() -> set[str]:
    return {info.name for info in pkgutil.iter_modules(goldgate.__path__)} - OUTSIDE_THE_LIBRARY


def test_every_top_level_module_is_on_a_floor() -> None:
    (layers,) = [c for c in _contracts() if c["type"] == "layers" and c.get("containers") == ["goldgate"]]
    on_floors = [name.strip() for floor in layers["layers"] for name in floor.replace("|", ":").split(":")]
    assert len(on_floors) == len(set(on_floors)), "a module is on two floors"
    missing = sorted(_top_level() - set(on_floors))
    assert not missing, f"place these modules on a floor of the layers contract in pyproject.toml: {missing}"


def test_every_library_module_is_kept_from_pytest() -> None:
    (contract,) = [c for c in _contracts() if c["type"] == "forbidden" and "pytest" in c["forbidden_modules"]
                   and "goldgate.judge" in c["source_modules"] and len(c["source_modules"]) > 1]
    sources = {m.removeprefix("goldgate.") for m in contract["source_modules"]}
    missing = sorted(_top_level() - THE_PYTEST_PLUGIN - sources)
    assert not missing, f"add to the 'nothing in the library imports pytest' contract: {missing}"
