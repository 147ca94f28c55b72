"""The release manifest (release.yaml): author, approvals, change ticket, window, on-call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from goldgate.probes.artifacts import ArtifactUnavailable, read_text


@dataclass(frozen=True)
class Approval:
    name: str
    role: str = ""


@dataclass(frozen=True)
class ReleaseManifest:
    path: str
    version: str
    author: str
    change_ticket: str
    approvals: list[Approval] = field(default_factory=list)
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    on_call: dict[str, str] = field(default_factory=dict)
    migration_head: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _moment(path: Path, field_name: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ArtifactUnavailable(path, f"{field_name}: not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ArtifactUnavailable(path, f"{field_name}: {value!r} has no time zone")
    return moment


def read_manifest(path: Path) -> ReleaseManifest:
    try:
        data = yaml.safe_load(read_text(path, "release manifest"))
    except yaml.YAMLError as exc:
        raise ArtifactUnavailable(path, f"YAML syntax error: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactUnavailable(path, "expected a mapping at the top level")
    window = data.get("deployment_window") or {}
    approvals = [
        Approval(str(a.get("name", "")).strip(), str(a.get("role", ""))) if isinstance(a, dict) else Approval(str(a))
        for a in data.get("approvals") or []
    ]
    return ReleaseManifest(
        path=str(path),
        version=str(data.get("version", "")),
        author=str(data.get("author", "") or "").strip(),
        change_ticket=str(data.get("change_ticket", "") or ""),
        approvals=approvals,
        window_start=_moment(path, "deployment_window.start", window.get("start")),
        window_end=_moment(path, "deployment_window.end", window.get("end")),
        on_call={k: str(v or "").strip() for k, v in (data.get("on_call") or {}).items()},
        migration_head=(data.get("database") or {}).get("migration_head"),
        raw=data,
    )
