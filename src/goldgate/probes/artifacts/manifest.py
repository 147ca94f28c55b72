"""The release manifest (release.yaml): author, approvals, change ticket, window, on-call.

One reader serves both the pre-deployment checklist and change management (guide §11.2),
so the two can never disagree about who approved what. It is tolerant of layout (fields at
the top level or under ``release:``; ``approvals`` as a list of mappings or of names; the
window as ``{start, end}`` or ``"START/END"``) but strict about meaning: an entry it cannot
read as an approval does not count as one, and a window time that is not ISO-8601 with a
time zone is :class:`ArtifactUnavailable` rather than a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable, load_yaml


@dataclass(frozen=True)
class Approval:
    name: str
    role: str = ""
    approved_at: str = ""


@dataclass(frozen=True)
class ReleaseManifest:
    path: str
    version: str = ""
    author: str = ""
    change_ticket: str = ""
    approvals: tuple[Approval, ...] = ()
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    on_call: dict[str, str] = field(default_factory=dict)
    migration_head: str | None = None
    expected_agreement: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def independent_approvers(self) -> list[str]:
        """Distinct approvers who are not the author (case-insensitive), first spelling kept.

        Review is by someone else or it is not review, and "Bob" and "bob" are one person.
        """
        author = self.author.strip().lower()
        seen: dict[str, str] = {}
        for a in self.approvals:
            key = a.name.strip().lower()
            if key and key != author and key not in seen:
                seen[key] = a.name.strip()
        return list(seen.values())

    def summary(self) -> dict[str, Any]:
        """What the audit record keeps of the manifest behind a production change."""
        return {
            "manifest": self.path,
            "version": self.version,
            "author": self.author,
            "approvers": self.independent_approvers(),
            "change_ticket": self.change_ticket,
        }


def timestamp(path: Path | str, field_name: str, value: Any) -> dt.datetime | None:
    """An ISO-8601 time with a time zone from a release file's field; unset (None or "") is None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ArtifactUnavailable(path, f"{field_name}: not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ArtifactUnavailable(path, f"{field_name}: {value!r} has no time zone")
    return moment


def _window(path: Path, window: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``(start, end)`` from ``{start, end}`` or ``"START/END"``; ``None`` where not stated."""
    if not window:
        return None, None
    if isinstance(window, Mapping):
        start, end = window.get("start"), window.get("end")
    elif isinstance(window, str) and "/" in window:
        start, _, end = window.partition("/")
    else:
        raise ArtifactUnavailable(path, f"deployment_window: expected {{start, end}} or 'START/END', got {window!r}")
    return timestamp(path, "deployment_window.start", start), timestamp(path, "deployment_window.end", end)


def _approvals(raw: Any) -> tuple[Approval, ...]:
    """Approvals by name; entries without a readable name (``42``, ``{name: ''}``) are dropped."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str) and item.strip():
            out.append(Approval(item.strip()))
        elif isinstance(item, Mapping):
            name = item.get("name") or item.get("approver") or item.get("by")
            if isinstance(name, str) and name.strip():
                when = item.get("approved_at") or item.get("at") or ""
                out.append(Approval(name.strip(), str(item.get("role") or ""), str(when)))
    return tuple(out)


def _expected_agreement(path: Path, release: Mapping[str, Any]) -> float | None:
    """A deliberate model change's expected signal agreement (``trading.expected_agreement``).

    The trading canary holds a retrained model to what its team expects of it instead of the
    environment's ``min_agreement``; a value that is not a share in (0, 1] is refused, not
    guessed, because it decides how different a release may trade.
    """
    trading = release.get("trading")
    raw = trading.get("expected_agreement") if isinstance(trading, Mapping) else None
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not (0 < raw <= 1):
        raise ArtifactUnavailable(path, f"trading.expected_agreement: {raw!r} is not a share between 0 and 1 "
                                  "(e.g. 0.97)")
    return float(raw)


def read_manifest(path: Path) -> ReleaseManifest:
    """The manifest at ``path``; :class:`ArtifactUnavailable` naming the path and the cause."""
    data = load_yaml(path, "release manifest")
    if not isinstance(data, dict):
        raise ArtifactUnavailable(path, "expected a mapping at the top level")
    release = data["release"] if isinstance(data.get("release"), dict) else data
    start, end = _window(path, release.get("deployment_window"))
    author = release.get("author")
    if isinstance(author, Mapping):
        author = author.get("name")
    on_call = release.get("on_call")
    database = release.get("database")
    return ReleaseManifest(
        path=str(path),
        version=str(release.get("version") or ""),
        author=str(author or "").strip(),
        change_ticket=str(release.get("change_ticket") or release.get("change") or ""),
        approvals=_approvals(release.get("approvals")),
        window_start=start,
        window_end=end,
        on_call={str(k): str(v or "").strip() for k, v in on_call.items()} if isinstance(on_call, Mapping) else {},
        migration_head=database.get("migration_head") if isinstance(database, Mapping) else None,
        expected_agreement=_expected_agreement(path, release),
        raw=data,
    )
