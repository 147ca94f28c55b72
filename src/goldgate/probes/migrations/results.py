"""What one walk over a migration history measured, as plain data for ``criteria.migrations``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelsComparison", "Reversal", "SmokeResult", "StepFailure", "Walk"]


@dataclass(frozen=True)
class StepFailure:
    """A migration step that raised: which revision, which direction, which file, why."""

    revision: str
    direction: str  # "upgrade", "downgrade", "upgrade again"
    file: str
    cause: str


@dataclass(frozen=True)
class Reversal:
    """One revision's round trip: upgrade, downgrade, upgrade again, schema compared each time."""

    revision: str
    file: str
    ok: bool
    problem: str = ""  # what the downgrade left or broke, or what it raised


@dataclass(frozen=True)
class ModelsComparison:
    """The migrated schema against the project's SQLAlchemy models (alembic's compare_metadata)."""

    models: str  # module:attribute
    tables: int  # tables the models declare
    differences: list[str]


@dataclass(frozen=True)
class SmokeResult:
    """The previous release's queries run on the schema at heads (each rolled back)."""

    sql_file: str
    statements: int
    failures: list[str]


@dataclass
class Walk:
    """Base to heads one revision at a time on scratch, each revision upgraded, downgraded and
    upgraded again, with the proof that it all happened on the scratch database."""

    project: str  # alembic.ini
    backend: str  # the scratch database, redacted
    env_py: str
    revisions: list[str] = field(default_factory=list)  # walk order, oldest first
    heads: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # revision -> file
    landed: str = ""  # redacted URL of the connection env.py opened (proved to be the scratch)
    version_after_first: list[str] = field(default_factory=list)  # alembic_version after the first upgrade
    upgraded: list[str] = field(default_factory=list)
    upgrade_failure: StepFailure | None = None
    reversals: list[Reversal] = field(default_factory=list)
    round_trip: bool = True
    scratch_databases: int = 0
    head_schema: dict[str, Any] = field(default_factory=dict)
    models: ModelsComparison | None = None
    models_error: str = ""  # the models module named could not be loaded (the walk went on without it)
    smoke: SmokeResult | None = None

    @property
    def not_reached(self) -> list[str]:
        """Revisions never upgraded because an earlier one failed."""
        return [r for r in self.revisions if r not in self.upgraded]

    @property
    def at_heads(self) -> bool:
        return bool(self.revisions) and self.upgrade_failure is None and not self.not_reached
