"""release.yaml against its JSON Schema (``goldgate/schemas/release.schema.json``).

``goldgate env check`` runs this for every environment whose ``release.manifest`` names a
file, so a misspelt window or an approval without a name is one line before the gate,
not an ERROR in the middle of it. YAML's own timestamps are compared as ISO-8601 text.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

from goldgate import safeload
from goldgate.config import Environment
from goldgate.probes.artifacts.locations import resolve


def schema() -> dict[str, Any]:
    return json.loads(resources.files("goldgate").joinpath("schemas/release.schema.json").read_text(encoding="utf-8"))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.isoformat()
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def manifest_problems(path: Path) -> list[str]:
    """``path: field: message`` for every schema violation of the manifest at ``path``."""
    from jsonschema import Draft202012Validator

    try:
        data = safeload.load_yaml(path)
    except safeload.LoadError as exc:
        return [str(exc)]
    validator = Draft202012Validator(schema())
    out = []
    for err in sorted(validator.iter_errors(_plain(data)), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        out.append(f"{path}: {where}: {err.message}")
    return out


def check_environment_manifest(env: Environment, root: Path) -> tuple[list[str], list[str]]:
    """``(notes, problems)`` for the release.yaml ``env`` names; nothing when it names none."""
    if not env.release.manifest:
        return [], []
    path = resolve(env, root).manifest
    if path is None:
        return [], []
    if not path.is_file():
        # A symbolic value (one a plugin resolves when the run starts) is no file either.
        return [f"release.manifest {env.release.manifest!r} is no file here ({path}): a value the run's "
                "plugins resolve when it starts, or the gate reports it as ERROR"], []
    problems = manifest_problems(path)
    return ([] if problems else [f"release.manifest {path} matches release.schema.json"]), problems
