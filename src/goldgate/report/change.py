"""Change management (guide §11.2): a production change needs a ticket and approvals.

A mutating run against an environment marked ``production: true`` may start only when

* ``--change=TICKET`` names the change (checked by :class:`goldgate.safety.SafetyPolicy`), and
* the release manifest (``environment.release.manifest``) records enough approvals by
  people other than the release's author — review is by someone else, or it is not
  review — for the version under test, with a change ticket that matches ``--change`` and,
  when it states one, a deployment window that is open now.

Whether the approvals suffice is decided by
:func:`goldgate.criteria.operational.approvals`, the same criterion the pre-deployment
checklist holds the manifest to; the number required is the environment's
``release.min_approvals`` (the guide's two when it is not set, :data:`MIN_APPROVALS`).

The manifest is read by :func:`goldgate.probes.artifacts.manifest.read_manifest`, the same
reader the pre-deployment checklist uses: tolerant of layout, strict about meaning (an entry
it cannot read as an approval does not count; a window it cannot read refuses the change).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from goldgate.criteria.operational import approvals
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.manifest import ReleaseManifest, read_manifest

#: The guide's number of independent approvals (§11.2), the default of ``release.min_approvals``.
MIN_APPROVALS = 2

def required_approvals(release: object) -> int:
    """The environment's ``release.min_approvals``, the guide's :data:`MIN_APPROVALS` when unset."""
    return int(getattr(release, "min_approvals", MIN_APPROVALS))


def resolve_manifest_path(reference: str | None, rootdir: Path, project: str | None = None) -> Path | None:
    """Where ``release.manifest`` points: an absolute path, or relative to the project."""
    if not reference:
        return None
    path = Path(reference).expanduser()
    if path.is_absolute():
        return path
    base = rootdir
    if project:
        base = (rootdir / Path(project).expanduser()).resolve()
    return base / path


def change_problems(
    manifest_path: Path | None,
    *,
    version: str,
    change: str | None,
    now: dt.datetime | None = None,
    min_approvals: int = MIN_APPROVALS,
) -> tuple[list[str], ReleaseManifest | None]:
    """Why a mutating production run may not start (empty: it may), and the manifest read."""
    now = now or dt.datetime.now(dt.UTC)
    if manifest_path is None:
        return ["no release manifest: set release.manifest in the environment file "
                f"(it must record {min_approvals}+ approvals by people other than the author)"], None
    try:
        manifest = read_manifest(manifest_path)
    except ArtifactUnavailable as exc:
        return [f"cannot read the release manifest: {exc}"], None
    problems: list[str] = []
    approved = approvals(manifest, min_approvals)
    if not approved.ok:
        problems.append(f"release manifest {approved.criterion}: {approved.reason}")
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
