"""Change management (guide §11.2): a production change needs a ticket and approvals.

A mutating run against an environment marked ``production: true`` may start only when

* ``--change=TICKET`` names the change (checked by :class:`goldgate.safety.SafetyPolicy`), and
* the release manifest (``environment.release.manifest``) records at least
  :data:`MIN_APPROVALS` approvals by people other than the release's author — review is
  by someone else, or it is not review — for the version under test, with a change ticket
  that matches ``--change`` and, when it states one, a deployment window that is open now.

The manifest reader is tolerant of layout (``approvals`` as a list of mappings or of
names, a window as ``{start, end}`` or ``"START/END"``) but strict about meaning: anything
it cannot read as an approval does not count as one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MIN_APPROVALS = 2

#: The sandbox's reference release manifest (``release.manifest: sandbox``).
SANDBOX_MANIFEST = Path(__file__).resolve().parents[1] / "sandbox" / "project" / "release.yaml"


class ManifestError(Exception):
    """The manifest is missing or unreadable; the message names the file and the cause."""


@dataclass(frozen=True)
class Approval:
    name: str
    approved_at: str = ""


@dataclass(frozen=True)
class ReleaseManifest:
    path: str
    version: str = ""
    author: str = ""
    approvals: tuple[Approval, ...] = ()
    change_ticket: str = ""
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    on_call: Any = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def independent_approvers(self) -> list[str]:
        """Distinct approvers who are not the author (case-insensitive)."""
        author = self.author.strip().lower()
        seen: dict[str, str] = {}
        for a in self.approvals:
            key = a.name.strip().lower()
            if key and key != author and key not in seen:
                seen[key] = a.name.strip()
        return list(seen.values())

    def summary(self) -> dict[str, Any]:
        return {
            "manifest": self.path,
            "version": self.version,
            "author": self.author,
            "approvers": self.independent_approvers(),
            "change_ticket": self.change_ticket,
        }


def resolve_manifest_path(reference: str | None, rootdir: Path, project: str | None = None) -> Path | None:
    """Where ``release.manifest`` points: ``sandbox``, an absolute path, or relative to the project."""
    if not reference:
        return None
    if reference == "sandbox":
        return SANDBOX_MANIFEST
    path = Path(reference).expanduser()
    if path.is_absolute():
        return path
    base = rootdir
    if project and project != "sandbox":
        base = (rootdir / Path(project).expanduser()).resolve()
    return base / path


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _approvals(raw: Any) -> tuple[Approval, ...]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str):
            out.append(Approval(item))
        elif isinstance(item, dict):
            name = item.get("name") or item.get("approver") or item.get("by")
            if isinstance(name, str) and name.strip():
                when = item.get("approved_at") or item.get("at") or ""
                out.append(Approval(name, str(when)))
    return tuple(out)


def load_manifest(path: Path) -> ReleaseManifest:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"release manifest {path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"release manifest {path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"release manifest {path}: expected a mapping at the top level")
    release = raw.get("release") if isinstance(raw.get("release"), dict) else raw
    window = release.get("deployment_window")
    start = end = None
    notes: list[str] = []
    if isinstance(window, dict):
        start, end = _parse_time(window.get("start")), _parse_time(window.get("end"))
    elif isinstance(window, str) and "/" in window:
        left, _, right = window.partition("/")
        start, end = _parse_time(left), _parse_time(right)
    if window and (start is None or end is None):
        notes.append(f"deployment_window {window!r} not understood; not enforced")
    author = release.get("author")
    if isinstance(author, dict):
        author = author.get("name", "")
    return ReleaseManifest(
        path=str(path),
        version=str(release.get("version") or ""),
        author=str(author or ""),
        approvals=_approvals(release.get("approvals")),
        change_ticket=str(release.get("change_ticket") or release.get("change") or ""),
        window_start=start,
        window_end=end,
        on_call=release.get("on_call"),
        notes=tuple(notes),
    )


def change_problems(
    manifest_path: Path | None,
    *,
    version: str,
    change: str | None,
    now: dt.datetime | None = None,
) -> tuple[list[str], ReleaseManifest | None]:
    """Why a mutating production run may not start (empty: it may), and the manifest read."""
    now = now or dt.datetime.now(dt.UTC)
    if manifest_path is None:
        return ["no release manifest: set release.manifest in the environment file "
                f"(it must record {MIN_APPROVALS}+ approvals by people other than the author)"], None
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as exc:
        return [str(exc)], None
    problems: list[str] = []
    approvers = manifest.independent_approvers()
    if len(approvers) < MIN_APPROVALS:
        who = ", ".join(approvers) or "none"
        problems.append(
            f"release manifest {manifest_path}: {len(approvers)} approval(s) by someone other than the "
            f"author {manifest.author or '(unknown)'} ({who}); {MIN_APPROVALS} required"
        )
    if manifest.version and manifest.version != version:
        problems.append(
            f"release manifest {manifest_path}: approves version {manifest.version}, "
            f"but the version under test is {version}"
        )
    if change and manifest.change_ticket and manifest.change_ticket != change:
        problems.append(
            f"--change={change} does not match the manifest's change_ticket {manifest.change_ticket}"
        )
    if manifest.window_start and manifest.window_end and not (manifest.window_start <= now <= manifest.window_end):
        problems.append(
            f"outside the deployment window {manifest.window_start.isoformat()} – "
            f"{manifest.window_end.isoformat()} (now {now.isoformat(timespec='seconds')})"
        )
    return problems, manifest
