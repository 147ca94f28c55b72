"""Where a release's evidence lives, resolved from the environment file.

``release.project`` / ``artifacts`` / ``manifest`` name a checkout, a CI artifacts folder
and release.yaml; ``recovery.backups`` / ``postgresql_conf`` the backups and the database
settings. The value ``sandbox`` means the reference bot's release materialised by the
sandbox (passed in as ``workspace``); no other value ever reads from it, so a team's run
never sees the reference release's files. Relative paths are relative to the folder of the
environment file (artifacts, manifest, backups, settings) or to the project (alert rules,
reference spec, everything in ``release.layout``). A location that is not configured stays
``None`` and the step that needs it reports ERROR naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.config import Environment
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.release_policy import ReleaseLayout, ReleasePolicy, layout_of, policy_of

FIELDS = {"project": "release.project", "artifacts": "release.artifacts", "manifest": "release.manifest",
          "backups": "recovery.backups", "alert_rules": "release.alert_rules",
          "postgresql_conf": "recovery.postgresql_conf"}
SANDBOX = "sandbox"


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
    layout: ReleaseLayout = field(default_factory=ReleaseLayout)
    policy: ReleasePolicy = field(default_factory=ReleasePolicy)

    def need(self, name: str) -> Path:
        """The location ``name`` or :class:`ArtifactUnavailable` naming the missing setting."""
        value = getattr(self, name)
        if value is None:
            setting = FIELDS.get(name, name)
            raise ArtifactUnavailable(self.source, f"{setting} is not set: cannot locate the {name.replace('_', ' ')}")
        return value

    def in_project(self, relative: str) -> Path:
        return self.need("project") / relative


def _path(value: str | None, base: Path) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def environment_folder(env: Environment, root: Path) -> Path:
    """The folder relative paths of ``env`` are read against: the environment file's own."""
    return Path(env.source_file).resolve().parent if env.source_file else root


def resolve(env: Environment, root: Path, workspace: Any = None) -> ReleaseInputs:
    """Paths for ``env``; ``workspace`` is the materialised reference release, if any."""
    rel, rec = env.release, env.recovery
    base = environment_folder(env, root)

    def pick(value: str | None, attribute: str, relative_to: Path) -> Path | None:
        if value == SANDBOX:
            return getattr(workspace, attribute) if workspace is not None else None
        return _path(value, relative_to)

    project = pick(rel.project, "project", base)
    spec = rel.reference_spec
    if spec == SANDBOX:
        spec = str(workspace.project / "deploy" / "k8s") if workspace is not None else None
    elif spec and not spec.startswith("kube:") and project is not None:
        spec = str(_path(spec, project))
    return ReleaseInputs(
        source=env.source_file or f"environments/{env.name}.yaml",
        project=project,
        artifacts=pick(rel.artifacts, "artifacts", base),
        manifest=pick(rel.manifest, "manifest", project or base),
        backups=pick(rec.backups, "backups", base),
        postgresql_conf=pick(rec.postgresql_conf, "postgresql_conf", base),
        reference_spec=spec,
        alert_rules=_path(rel.alert_rules, project) if project else None,
        workspace=workspace,
        layout=layout_of(env),
        policy=policy_of(env),
    )
