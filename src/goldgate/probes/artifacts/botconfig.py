"""The service's own configuration files, their JSON Schema and the feature flags.

Where they live and what they are called is the team's (``release.layout.config``,
``config_schema``, ``flags``): configuration in YAML, TOML or JSON, one file per
environment; flags as a list of ``{name, killswitch, cleanup_by}`` or a mapping
``name -> {killswitch, cleanup_by}``, under ``flags:`` or at the top level.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate import safeload
from goldgate.probes.artifacts import ArtifactUnavailable, read_text, require_file

NOT_ENVIRONMENTS = {"flags", "schema"}


def parse_document(path: Path, what: str) -> Any:
    """``path`` parsed by its suffix (YAML, TOML or JSON); the error names file and format.

    YAML and JSON go through the one safe loader (duplicate keys, size, depth, aliases).
    """
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(read_text(path, what))
        except tomllib.TOMLDecodeError as exc:
            raise ArtifactUnavailable(path, f"TOML syntax error: {exc}") from None
    require_file(path, what)
    try:
        return safeload.load_json(path) if suffix == ".json" else safeload.load_yaml(path)
    except safeload.LoadError as exc:
        raise ArtifactUnavailable(path, f"{what}: {exc.located_cause}") from None


def read_configs(folder: Path, patterns: Iterable[str] = ("*.yaml", "*.yml"),
                 exclude: Iterable[Path] = ()) -> dict[str, tuple[str, Any]]:
    """``{environment: (path, parsed document)}`` for every file ``patterns`` (globs below
    ``folder``) match, except flags, the schema and ``exclude``."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "configuration folder not found")
    skip = {p.resolve() for p in exclude}
    out: dict[str, tuple[str, Any]] = {}
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path.stem in NOT_ENVIRONMENTS or path.resolve() in skip or not path.is_file():
                continue
            out.setdefault(path.stem, (str(path), parse_document(path, "configuration file")))
    if not out:
        raise ArtifactUnavailable(folder, f"no configuration files ({', '.join(patterns)})")
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


def _date(path: Path, name: str, raw: Any) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ArtifactUnavailable(path, f"flag {name}: cleanup date {raw!r} is not a date") from None


def _entries(path: Path, data: Any) -> list[tuple[str, Mapping[str, Any]]]:
    raw = data.get("flags", data) if isinstance(data, Mapping) else data
    if isinstance(raw, Mapping):
        items = []
        for name, entry in raw.items():
            if not isinstance(entry, Mapping):
                raise ArtifactUnavailable(path, f"flag {name}: expected a mapping, got {entry!r}")
            items.append((str(name), entry))
        return items
    if isinstance(raw, list):
        items = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                raise ArtifactUnavailable(path, f"every flag must be a mapping, got {entry!r}")
            items.append((str(entry.get("name", "")), entry))
        return items
    if raw is None:
        return []
    raise ArtifactUnavailable(path, f"expected a list or mapping of flags, got {type(raw).__name__}")


def _declared_on(lines: list[str], name: str) -> int:
    """The first line that declares ``name`` (``[name]``, ``name:``, ``name: name``,
    ``"name"``), comments skipped; 0 when none does."""
    if not name:
        return 0
    token = re.compile(rf"(^|[\s\[\"'{{,]){re.escape(name)}([\s\]\"':=,}}]|$)")
    return next((i for i, t in enumerate(lines, 1) if not t.lstrip().startswith("#") and token.search(t)), 0)


def read_flags_if_present(path: Path, killswitch_key: str = "killswitch",
                          cleanup_key: str = "cleanup_by") -> list[Flag] | None:
    """The flags of ``path``, or None when there is no flags file at all.

    A release with no flags file still has evidence to judge: a feature it adds has no
    flag anywhere. The killswitch check reads it this way; a check about the flags
    themselves (stale cleanup dates) reads :func:`read_flags`, which names the missing file.
    """
    if not path.exists() and not path.is_symlink():
        return None
    return read_flags(path, killswitch_key, cleanup_key)


def read_flags(path: Path, killswitch_key: str = "killswitch", cleanup_key: str = "cleanup_by") -> list[Flag]:
    """The flags of ``path`` (YAML, TOML or JSON) with the line each is declared on."""
    data = parse_document(path, "feature flag file")
    lines = read_text(path, "feature flag file").splitlines()
    flags = []
    for name, entry in _entries(path, data):
        line = _declared_on(lines, name)
        flags.append(Flag(name, entry.get(killswitch_key) is True, str(entry.get("introduced", "")),
                          _date(path, name, entry.get(cleanup_key)), line))
    return flags
