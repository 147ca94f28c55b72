"""The bot's own configuration files (``config/<environment>.yaml``), its JSON Schema and
its feature flags (``config/flags.yaml``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

NOT_ENVIRONMENTS = {"flags", "schema"}


def read_configs(folder: Path) -> dict[str, tuple[str, Any]]:
    """``{environment: (path, parsed document)}`` for every YAML file but flags/schema."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "configuration folder not found")
    out = {}
    for path in sorted(folder.glob("*.y*ml")):
        if path.stem in NOT_ENVIRONMENTS:
            continue
        try:
            out[path.stem] = (str(path), yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise ArtifactUnavailable(path, f"YAML syntax error: {exc}") from None
    if not out:
        raise ArtifactUnavailable(folder, "no configuration files (*.yaml)")
    return out


def read_schema(path: Path) -> dict[str, Any]:
    """The JSON Schema, itself checked: a broken schema cannot judge anything."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        schema = json.loads(read_text(path, "configuration schema"))
        Draft202012Validator.check_schema(schema)
    except ValueError as exc:
        raise ArtifactUnavailable(path, f"not valid JSON: {exc}") from None
    except SchemaError as exc:
        raise ArtifactUnavailable(path, f"not a valid JSON Schema: {exc.message}") from None
    return schema


@dataclass(frozen=True)
class Flag:
    name: str
    killswitch: bool
    introduced: str
    cleanup_by: dt.date | None
    line: int


def read_flags(path: Path) -> list[Flag]:
    text = read_text(path, "feature flag file")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ArtifactUnavailable(path, f"YAML syntax error: {exc}") from None
    lines = text.splitlines()
    flags = []
    for entry in data.get("flags") or []:
        if not isinstance(entry, dict):
            raise ArtifactUnavailable(path, f"every flag must be a mapping, got {entry!r}")
        name = str(entry.get("name", ""))
        raw = entry.get("cleanup_by")
        try:
            cleanup = raw if isinstance(raw, dt.date) else (dt.date.fromisoformat(str(raw)) if raw else None)
        except ValueError:
            raise ArtifactUnavailable(path, f"flag {name}: cleanup_by {raw!r} is not a date") from None
        line = next((i for i, t in enumerate(lines, 1) if f"name: {name}" in t), 0)
        flags.append(Flag(name, bool(entry.get("killswitch")), str(entry.get("introduced", "")), cleanup, line))
    return flags
