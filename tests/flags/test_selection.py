"""The flag-server scenarios are deselected (not skipped, not NOT RUN) where the environment
names no flag server, so a team without one is judged on its flags file alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from goldgate.config import load_environment
from goldgate.plugin import _not_applicable

ROOT = Path(__file__).resolve().parents[2]


def _item(*markers: str) -> SimpleNamespace:
    return SimpleNamespace(get_closest_marker=lambda name: object() if name in markers else None)


def test_flag_scenarios_need_a_flags_section() -> None:
    local = load_environment("local", ROOT / "environments")
    assert local.flags is not None and local.flags.url == "sandbox"
    assert _not_applicable(_item("flags"), local) is None
    without = local.model_copy(update={"flags": None})
    assert _not_applicable(_item("flags"), without) == "flags"
    assert _not_applicable(_item("configuration"), without) is None
