"""Backup and disaster-recovery vocabulary (guide §3.3, §9): RPO, restore drills, PITR,
RTO and the standby region."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.actions import database as database_actions
from goldgate.config import Environment, resolve_secret
from goldgate.criteria import recovery
from goldgate.criteria.measured import measure_and_judge
from goldgate.criteria.post_deploy import shows_status
from goldgate.durations import scaled_note
from goldgate.probes import database, pg_backup, wal_archive
from goldgate.probes import restore_drill as drill_probe
from goldgate.probes.artifacts import ArtifactUnavailable, manifest
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.http import HttpProbe
from goldgate.verdict import Status, Verdict, expect
from steps.checklist import gate


def _scratch(environment: Environment) -> str | None:
    ref = environment.database.scratch_url
    return resolve_secret(ref) if ref else None


def _live_url(environment: Environment) -> str | None:
    ref = environment.database.url
    return resolve_secret(ref) if ref else None


def _pg_server(environment: Environment) -> str:
    """The server goldgate creates its scratch databases on: the scratch URL's when it is
    PostgreSQL, else the live database's (a new database there, never the live one) —
    except in production, whose server never carries a restore drill's load."""
    scratch = _scratch(environment)
    if scratch and database.engine_of(scratch) == "postgresql":
        return scratch
    live = _live_url(environment)
    if live and database.engine_of(live) == "postgresql":
        if environment.production:
            raise ArtifactUnavailable("database.scratch_url", "restores and the RTO drill do not run on the production "
                                      "database's server: name a PostgreSQL scratch server in database.scratch_url")
        return live
    raise ArtifactUnavailable("database.scratch_url", "a PostgreSQL backup is restored into a scratch database "
                              "created on a PostgreSQL server: set database.scratch_url or database.url")


def _restore_latest(latest: database.Backup, environment: Environment, timeout_s: float = 900) -> database.RestoreResult:
    path = Path(latest.path)
    if path.suffix not in database.POSTGRES_DUMPS or _scratch(environment):
        return database.restore(path, _scratch(environment), timeout_s=timeout_s, checksum=latest.checksum)
    with pg_backup.scratch_database(_pg_server(environment)) as scratch:
        return database.restore(path, scratch, timeout_s=timeout_s, checksum=latest.checksum)


def _backups(release: ReleaseInputs) -> list[database.Backup]:
    return database.list_backups(release.need("backups"), release.policy.backups.row_counts)


def _latest(release: ReleaseInputs) -> database.Backup:
    backups = _backups(release)
    if not backups:
        raise ArtifactUnavailable(release.need("backups"), "no backups to restore")
    return backups[-1]


def _migration_head(release: ReleaseInputs) -> str | None:
    """The head the release's manifest declares, when there is a manifest to read."""
    if release.manifest is None or not release.manifest.is_file():
        return None
    return manifest.read_manifest(release.manifest).migration_head


@then("the latest backup is younger than the recovery point objective")
def backup_fresh(release: ReleaseInputs, environment: Environment, gate_clock: Callable[[], dt.datetime]) -> None:
    gate("latest backup younger than the RPO", lambda: _backups(release),
         lambda bs: recovery.latest_backup_fresh(bs, gate_clock(), environment.recovery.rpo_s, str(release.backups)))


@then("the latest backup restores into a scratch database with the recorded row counts")
def backup_restores(release: ReleaseInputs, environment: Environment) -> None:
    def measure() -> tuple[database.RestoreResult, Any, str | None, set[str]]:
        latest = _latest(release)
        head = _migration_head(release)
        revisions = database.known_revisions(release.project) if release.project else set()
        return _restore_latest(latest, environment), latest.tables, head, revisions

    gate("latest backup restores into scratch with matching row counts", measure,
         lambda r: recovery.restore_matches(r[0], r[1], r[2], release.policy.backups.min_tables, r[3]))


@then("point-in-time recovery is enabled with the environment's retention")
def pitr(release: ReleaseInputs, environment: Environment, gate_clock: Callable[[], dt.datetime]) -> None:
    """Asked of the running PostgreSQL the environment names (its archiver and WAL archive);
    a database of another engine, or only a postgresql.conf, is judged on its settings;
    with neither, ERROR naming both fields — never another database's settings."""
    url = _live_url(environment)
    if url and database.engine_of(url) == "postgresql":
        _archiving_gate(environment)
        return
    def measure() -> tuple[database.PitrSettings, list[database.Backup]]:
        if url:
            settings = database.pitr_from_url(url)
        elif release.postgresql_conf is not None:
            settings = database.pitr_from_conf(release.postgresql_conf)
        else:
            raise ArtifactUnavailable(release.source, "neither database.url nor recovery.postgresql_conf is set: "
                                      "no database whose point-in-time recovery settings could be read")
        return settings, _backups(release) if settings.engine == "postgresql" else []

    gate("point-in-time recovery enabled", measure,
         lambda r: recovery.pitr_enabled(r[0], r[1], gate_clock(), environment.recovery.pitr_days))


@then("restoring the latest backup into a scratch database takes less than the RTO")
def restore_drill(release: ReleaseInputs, environment: Environment) -> None:
    gate("restore of the latest backup within the RTO",
         lambda: _timed_restore(release, environment),
         lambda r: recovery.restore_within_rto(r, environment.recovery.rto_s,
                                               scaled_note(environment, "recovery.rto_s")))


def _timed_restore(release: ReleaseInputs, environment: Environment) -> database.RestoreResult:
    return _restore_latest(_latest(release), environment, timeout_s=environment.recovery.rto_s)


@given("the standby named in the environment", target_fixture="standby")
def the_standby(environment: Environment) -> HttpProbe:
    if not environment.http.standby_url:
        pytest.skip(f"{environment.source_file or environment.name}: http.standby_url is not set — no secondary region to check")
    return HttpProbe(environment.http.standby_url, environment.timeouts, verify_tls=environment.http.verify_tls)


@then(parsers.parse('the standby answers "{path}" with 200'))
def standby_answers(standby: HttpProbe, path: str) -> None:
    try:
        expect(recovery.standby_healthy(standby.get(path)))
    finally:
        standby.close()


# ----------------------------------------------------------------------------- live PostgreSQL evidence
ARCHIVING = "point-in-time recovery: WAL archiving keeps up"
RESTORE_MATCH = "latest backup restores into scratch with matching row counts"
RTO_RATE = "restore rate projected to the production database within the RTO"


def _order_database(environment: Environment) -> str:
    url = _live_url(environment)
    if not url or database.engine_of(url) != "postgresql":
        pytest.skip(f"{environment.source_file or environment.name}: database.url names no PostgreSQL order "
                    "database (in the sandbox: recovery.wal_archive: sandbox with two regions running)")
    return url


#: The longest a check waits for a database younger than the PITR window to reach it (a run
#: that starts its own order database, as the sandbox does); longer is judged at once.
ARCHIVE_WAIT_MAX_S = 60.0


def _archiver_verdict(environment: Environment) -> Verdict:
    rec = environment.recovery

    def read() -> wal_archive.ArchiverState:
        url, folder = _order_database(environment), Path(rec.wal_archive) if rec.wal_archive else None
        state = wal_archive.read_archiver(url, folder)
        wait = wal_archive.seconds_until_window(state, rec.pitr_window_s, ARCHIVE_WAIT_MAX_S)
        if wait > 0:
            time.sleep(wait)
            state = wal_archive.read_archiver(url, folder)
        return state

    return measure_and_judge(
        ARCHIVING,
        read,
        lambda state: recovery.wal_archiving(state, rec.rpo_s, rec.pitr_window_s,
                                             scaled_note(environment, "recovery.pitr_window_s")),
        (ArtifactUnavailable,))


def _archiving_gate(environment: Environment) -> None:
    expect(_archiver_verdict(environment))


@then("the order database archives its write-ahead log within the RPO, reaching back the PITR window")
def archiving_keeps_up(environment: Environment) -> None:
    _archiving_gate(environment)


@when("the order database's archive command fails")
def archive_command_fails(environment: Environment, safety: Any, request: pytest.FixtureRequest) -> None:
    url = _order_database(environment)
    request.addfinalizer(lambda: database_actions.restore_archive_command(safety, url))
    database_actions.fail_archive_command(safety, url)


@then("the WAL archiving check fails")
def archiving_check_fails(environment: Environment) -> None:
    expect(shows_status(_archiver_verdict(environment), Status.FAIL,
                        criterion="a failing archive_command fails the point-in-time recovery check"))


@pytest.fixture
def taken_backup() -> dict[str, Any]:
    """The backup a scenario took (folder and catalogue entry)."""
    return {}


@when("a backup of the order database is taken with pg_dump")
def backup_taken(environment: Environment, taken_backup: dict[str, Any], tmp_path: Path) -> None:
    url = _order_database(environment)
    taken_backup.update(folder=tmp_path / "backups", entry=pg_backup.take_backup(url, tmp_path / "backups"))


@when(parsers.parse("a backup of the order database is taken with the {table} table's rows left out"))
def filtered_backup_taken(environment: Environment, taken_backup: dict[str, Any], tmp_path: Path, table: str) -> None:
    url = _order_database(environment)
    taken_backup.update(folder=tmp_path / "backups",
                        entry=pg_backup.take_backup(url, tmp_path / "backups", exclude_table_data=[table]))


def _verify_taken(environment: Environment, taken_backup: dict[str, Any]) -> Verdict:
    def measure() -> tuple[database.RestoreResult, dict[str, int]]:
        if not taken_backup:
            raise ArtifactUnavailable("backup", "no backup was taken in this scenario")
        entry = taken_backup["entry"]
        return pg_backup.verify_backup(taken_backup["folder"], entry, _pg_server(environment))[0], entry["tables"]

    return measure_and_judge(RESTORE_MATCH, measure, lambda r: recovery.restore_matches(r[0], r[1], None, 1),
                             (ArtifactUnavailable,))


@then("the backup restores into a scratch database with the row counts recorded at backup time")
def taken_backup_restores(environment: Environment, taken_backup: dict[str, Any]) -> None:
    expect(_verify_taken(environment, taken_backup))


@then("the restore check fails naming the table and its counts")
def taken_backup_differs(environment: Environment, taken_backup: dict[str, Any]) -> None:
    expect(shows_status(_verify_taken(environment, taken_backup), Status.FAIL,
                        criterion="a backup missing rows of its source fails the restore check"))


@pytest.fixture(scope="session")
def rto_drills(pytestconfig: pytest.Config) -> dict[tuple[str, int], Any]:
    """One drill per server and size a session: the rehearsal judges the same measurement."""
    return {}


def _drill(environment: Environment, drills: dict[tuple[str, int], Any], cache: Path) -> drill_probe.RestoreDrill:
    server = _pg_server(environment)
    key = (server, environment.recovery.drill_rows)
    if key not in drills:
        drills[key] = drill_probe.run_drill(server, environment.recovery.drill_rows,
                                              timeout_s=max(environment.recovery.rto_s, 300), cache=cache)
    return drills[key]


def _rate_verdict(environment: Environment, drills: dict[tuple[str, int], Any], cache: Path, rto_s: float,
                  scaled: str) -> Verdict:
    rec = environment.recovery
    return measure_and_judge(RTO_RATE, lambda: _drill(environment, drills, cache),
                             lambda d: recovery.restore_rate_within_rto(d, rec.production_db_size_gb, rto_s,
                                                                        rec.drill_rows, scaled),
                             (ArtifactUnavailable,))


def _drill_cache(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.rootpath) / ".goldgate" / "rto-drill"


@then("the measured restore rate restores the production database size within the RTO")
def restore_rate(environment: Environment, rto_drills: dict[tuple[str, int], Any], pytestconfig: pytest.Config) -> None:
    _order_database(environment)
    expect(_rate_verdict(environment, rto_drills, _drill_cache(pytestconfig), environment.recovery.rto_s,
                         scaled_note(environment, "recovery.rto_s")))


@then(parsers.parse("the restore-rate check fails against an RTO of {rto_s:g} seconds"))
def restore_rate_fails(environment: Environment, rto_drills: dict[tuple[str, int], Any],
                       pytestconfig: pytest.Config, rto_s: float) -> None:
    _order_database(environment)
    expect(shows_status(_rate_verdict(environment, rto_drills, _drill_cache(pytestconfig), rto_s, ""), Status.FAIL,
                        criterion="a restore slower than the RTO fails the restore-rate check"))


@then("the latest backup has an identical copy in the second region")
def second_region_copy(release: ReleaseInputs, environment: Environment) -> None:
    store = environment.recovery.second_region_backups
    if not store:
        pytest.skip(f"{environment.source_file or environment.name}: recovery.second_region_backups is not set")
    gate("the latest backup has a copy in the second region",
         lambda: pg_backup.second_region_copy(release.need("backups"), Path(store)),
         lambda copy: recovery.backup_in_second_region(copy, store))


@then("the backups were verified by a restore within the verification interval")
def verified_recently(release: ReleaseInputs, environment: Environment,
                      gate_clock: Callable[[], dt.datetime]) -> None:
    folder = release.need("backups")
    gate("backups verified by a restore at least twice a day", lambda: pg_backup.read_verifications(folder),
         lambda found: recovery.backup_verified_recently(found, gate_clock(), environment.recovery.verify_interval_s,
                                                         str(folder / pg_backup.VERIFICATIONS)))
