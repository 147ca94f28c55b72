"""Where a release's evidence lives, resolved from the environment file.

``release.project`` / ``artifacts`` / ``manifest`` name a checkout, a CI artifacts folder
and release.yaml; ``sandbox`` means the reference bot's release materialised by
:mod:`goldgate.sandbox.release`. Relative paths are relative to the suite's root folder
(artifacts, manifest) or to the project (alert rules, reference spec). A location that is
not configured stays ``None`` and the step that needs it reports ERROR naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate.config import Environment
from goldgate.probes.artifacts import ArtifactUnavailable


@dataclass(frozen=True)
class ReleaseInputs:
    source: str  # the environment file, for messages
    project: Path | None
    artifacts: Path | None
    manifest: Path | None
    backups: Path | None
    postgresql_conf: Path | None
    reference_spec: str | None
    alert_rules: Path | None
    workspace: Any = None

    def need(self, name: str) -> Path:
        """The location ``name`` or :class:`ArtifactUnavailable` naming the missing setting."""
        value = getattr(self, name)
        if value is None:
            field = {"project": "release.project", "artifacts": "release.artifacts", "manifest": "release.manifest",
                     "backups": "recovery.backups", "alert_rules": "release.alert_rules",
                     "postgresql_conf": "recovery.postgresql_conf"}.get(name, name)
            raise ArtifactUnavailable(self.source, f"{field} is not set: cannot locate the {name.replace('_', ' ')}")
        return value

    def in_project(self, relative: str) -> Path:
        return self.need("project") / relative


def _path(value: str | None, base: Path) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def resolve(env: Environment, root: Path, workspace: Any = None) -> ReleaseInputs:
    """Paths for ``env``; ``workspace`` is the materialised sandbox release, if any."""
    rel, rec = env.release, env.recovery

    def pick(value: str | None, sandbox_value: Path | None, base: Path) -> Path | None:
        if value == "sandbox":
            return sandbox_value
        return _path(value, base)

    ws = workspace
    project = pick(rel.project, ws.project if ws else None, root)
    spec = rel.reference_spec
    if spec == "sandbox":
        spec = str(ws.project / "deploy" / "k8s") if ws else None
    elif spec and not spec.startswith("kube:") and project is not None:
        spec = str(_path(spec, project))
    return ReleaseInputs(
        source=env.source_file or f"environments/{env.name}.yaml",
        project=project,
        artifacts=pick(rel.artifacts, ws.artifacts if ws else None, root),
        manifest=pick(rel.manifest, ws.manifest if ws else None, project or root),
        backups=pick(rec.backups, ws.backups if ws else None, root),
        postgresql_conf=pick(rec.postgresql_conf, ws.postgresql_conf if ws else None, root)
        if rec.postgresql_conf or not ws else ws.postgresql_conf,
        reference_spec=spec,
        alert_rules=_path(rel.alert_rules, project) if project else None,
        workspace=ws,
    )
