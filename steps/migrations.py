"""Database migration vocabulary (guide §3.1, §3.2): the release's alembic history, walked
on a scratch database (SQLite, or inside ``database.scratch_url``) that goldgate proves
the migrations ran on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.probes.artifacts.locations import ReleaseInputs
from steps.checklist import gate


class MigrationTarget:
    """The release project, the scratch database its migrations run on, and walks already made."""

    def __init__(self, release: ReleaseInputs, environment: Environment, walks: dict[Any, probe.Walk]) -> None:
        self.release = release
        self.environment = environment
        self.walks = walks

    @property
    def project(self) -> Path:
        return self.release.need("project")

    @property
    def scratch_url(self) -> str | None:
        ref = self.environment.database.scratch_url
        return resolve_secret(ref) if ref else None

    @property
    def models(self) -> str | None:
        return getattr(self.environment.release, "models", None)

    @property
    def timeout_s(self) -> float:
        """release.migrations_timeout_s: how long each env.py run may take."""
        return float(getattr(self.environment.release, "migrations_timeout_s", probe.DEFAULT_TIMEOUT_S))

    @property
    def url_env_vars(self) -> list[str]:
        return list(getattr(self.environment.release, "migrations_url_env", None) or [])

    def walk(self, **options: Any) -> probe.Walk:
        """One walk per project and options for the whole run: scenarios share its evidence."""
        key = (str(self.project), self.scratch_url, tuple(self.url_env_vars), tuple(sorted(options.items())))
        if key not in self.walks:
            self.walks[key] = probe.walk(self.project, self.scratch_url, url_env_vars=self.url_env_vars,
                                         timeout_s=self.timeout_s, **options)
        return self.walks[key]


@pytest.fixture(scope="session")
def migration_walks() -> dict[Any, probe.Walk]:
    return {}


@given("the release's migrations on a scratch database", target_fixture="migrations")
def the_migrations(release_inputs: ReleaseInputs, environment: Environment,
                   migration_walks: dict[Any, probe.Walk]) -> MigrationTarget:
    return MigrationTarget(release_inputs, environment, migration_walks)


@then("the migrations have a single head")
def single_head(migrations: MigrationTarget) -> None:
    gate(crit.RULES["single-head"], lambda: probe.read_scripts(migrations.project), crit.single_head)


@then("every migration upgrades one at a time from base to heads on the scratch database")
def upgrade(migrations: MigrationTarget) -> None:
    gate(crit.RULES["upgrade"], lambda: migrations.walk(round_trip=True), crit.upgrade_clean)


@then("every migration's downgrade restores the schema its upgrade started from")
def reversible(migrations: MigrationTarget) -> None:
    gate(crit.RULES["reversible"], lambda: migrations.walk(round_trip=True), crit.reversible)


@then("the previous release's queries still run after upgrading to head")
def backward_compatible(migrations: MigrationTarget) -> None:
    previous = migrations.environment.release.previous_version or "previous release"
    queries = migrations.environment.release.layout.previous_queries
    if not queries:
        pytest.skip(f"{migrations.environment.source_file}: release.layout.previous_queries is not set — "
                    "no SQL of the previous release to replay")
    sql = migrations.project / queries
    gate(f"{previous}'s queries still run after the migration",
         lambda: migrations.walk(round_trip=False, previous_sql=sql), lambda w: crit.backward_compatible(w, previous))


@then(parsers.parse("every migration name has at least {words:d} meaningful words"))
def descriptive(migrations: MigrationTarget, words: int) -> None:
    gate(f"migration names have at least {words} meaningful words", lambda: probe.read_scripts(migrations.project),
         lambda s: crit.descriptive_names(s, words))


@then("the schema at heads matches the models the environment names")
def models_match(migrations: MigrationTarget) -> None:
    models = migrations.models
    if not models:
        pytest.skip("release.models not set")
    gate(crit.RULES["models-match"], lambda: migrations.walk(round_trip=False, models=models), crit.models_match)
