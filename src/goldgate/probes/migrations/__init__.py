"""Alembic migrations of a release project, walked on a scratch database goldgate proves it used.

One evidence source in small modules: :mod:`.loading` reads ``alembic.ini`` and the history
(anchored on the ini's folder), :mod:`.scratch` creates the scratch database and refuses
anything that is not one, :mod:`.schema` snapshots a schema, :mod:`.walk` upgrades,
downgrades and upgrades again revision by revision (in a child process with a time limit:
:mod:`.isolation`), :mod:`.models` compares the migrated
schema with the project's models. Everything returns the plain data in :mod:`.results`;
what passes is decided in ``goldgate.criteria.migrations``.
"""

from goldgate.probes.migrations.isolation import DEFAULT_TIMEOUT_S, MigrationTimeout
from goldgate.probes.migrations.loading import (
    MigrationScripts,
    Revision,
    find_ini,
    load_project,
    read_scripts,
)
from goldgate.probes.migrations.models import compare_models, load_models
from goldgate.probes.migrations.results import (
    ModelsComparison,
    Reversal,
    SmokeResult,
    StepFailure,
    Walk,
)
from goldgate.probes.migrations.schema import Schema, diff, snapshot
from goldgate.probes.migrations.scratch import ScratchRefused, open_scratch, redact_url
from goldgate.probes.migrations.walk import (
    EnvPyUnloadable,
    ScratchNotReached,
    read_statements,
    walk,
    walk_here,
)

__all__ = [
    "DEFAULT_TIMEOUT_S", "EnvPyUnloadable", "MigrationScripts", "MigrationTimeout", "ModelsComparison", "Reversal", "Revision", "Schema", "ScratchNotReached", "ScratchRefused",
    "SmokeResult", "StepFailure", "Walk", "compare_models", "diff", "find_ini", "load_models", "load_project",
    "open_scratch", "read_scripts", "read_statements", "redact_url", "snapshot", "walk",
    "walk_here",
]
