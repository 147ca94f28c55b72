"""Where a release's evidence lives, resolved from the environment file.

``release.project`` / ``artifacts`` / ``manifest`` name a checkout, a CI artifacts folder
and release.yaml; ``recovery.backups`` / ``postgresql_conf`` the backups and the database
settings. Every value is a path: an environment file that names its release symbolically
has it resolved by a plugin before the run reads it (``pytest_goldgate_resolve_environment``),
so the same rules hold for every environment. Relative paths are relative to the folder of the
environment file (artifacts, manifest, backups, settings) or to the project (alert rules,
reference spec, everything in ``release.layout``). A location that is not configured stays
``None`` and the step that needs it reports ERROR naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from goldgate.config import Environment
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.release_policy import ReleaseLayout, ReleasePolicy, layout_of, policy_of

FIELDS = {"project": "release.project", "artifacts": "release.artifacts", "manifest": "release.manifest",
          "backups": "recovery.backups", "alert_rules": "release.alert_rules",
          "postgresql_conf": "recovery.postgresql_conf"}


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


def resolve(env: Environment, root: Path) -> ReleaseInputs:
    """Paths for ``env``; a location that is not configured is None."""
    rel, rec = env.release, env.recovery
    base = environment_folder(env, root)
    project = _path(rel.project, base)
    spec = rel.reference_spec
    if spec and not spec.startswith("kube:") and project is not None:
        spec = str(_path(spec, project))
    return ReleaseInputs(
        source=env.source_file or f"environments/{env.name}.yaml",
        project=project,
        artifacts=_path(rel.artifacts, base),
        manifest=_path(rel.manifest, project or base),
        backups=_path(rec.backups, base),
        postgresql_conf=_path(rec.postgresql_conf, base),
        reference_spec=spec,
        alert_rules=_path(rel.alert_rules, project) if project else None,
        layout=layout_of(env),
        policy=policy_of(env),
    )
