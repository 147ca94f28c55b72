"""Database migration vocabulary (guide §3.1, §3.2): alembic scripts of the release,
exercised on a scratch database (SQLite, or ``database.scratch_url``)."""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import given, parsers, then

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.probes.artifacts.locations import ReleaseInputs
from steps.checklist import gate


class MigrationTarget:
    """The release project and the scratch database its migrations run on."""

    def __init__(self, release: ReleaseInputs, environment: Environment) -> None:
        self.release = release
        self.environment = environment

    @property
    def project(self) -> Path:
        return self.release.need("project")

    @property
    def scratch_url(self) -> str | None:
        ref = self.environment.database.scratch_url
        return resolve_secret(ref) if ref else None


@given("the release's migrations on a scratch database", target_fixture="migrations")
def the_migrations(release_inputs: ReleaseInputs, environment: Environment) -> MigrationTarget:
    return MigrationTarget(release_inputs, environment)


@then("the migrations have a single head")
def single_head(migrations: MigrationTarget) -> None:
    gate("a single migration head", lambda: probe.read_scripts(migrations.project), crit.single_head)


@then("every migration has a downgrade")
def downgrades(migrations: MigrationTarget) -> None:
    gate("every migration has a downgrade", lambda: probe.read_scripts(migrations.project), crit.every_revision_has_downgrade)


@then("upgrade to head, downgrade to base and upgrade to head again leave the same schema")
def round_trip(migrations: MigrationTarget) -> None:
    gate("upgrade, downgrade to base and upgrade again on scratch",
         lambda: probe.round_trip(migrations.project, migrations.scratch_url), crit.round_trip_clean)


@then(parsers.parse('the previous release\'s queries in "{folder}" still run after upgrading to head'))
def backward_compatible(migrations: MigrationTarget, folder: str) -> None:
    previous = migrations.environment.release.previous_version or "previous release"

    def measure() -> probe.SmokeResult:
        return probe.upgrade_and_smoke(migrations.project, migrations.project / folder / f"{previous}.sql",
                                       migrations.scratch_url)

    gate(f"{previous}'s queries still run after the migration", measure, lambda r: crit.backward_compatible(r, previous))


@then(parsers.parse("every migration name has at least {words:d} meaningful words"))
def descriptive(migrations: MigrationTarget, words: int) -> None:
    gate("migration names are descriptive", lambda: probe.read_scripts(migrations.project),
         lambda s: crit.descriptive_names(s, words))


@then("the schema at head matches the orders table the bot defines")
def schema_matches(migrations: MigrationTarget) -> None:
    gate("migrations at head produce the schema the bot defines",
         lambda: probe.compare_with_bot(migrations.project, migrations.scratch_url),
         lambda r: crit.schema_matches(r[0], r[1], "goldgate.sandbox.bot.db.orders"))
