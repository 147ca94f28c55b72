"""Backup and disaster-recovery vocabulary (guide §3.3, §9): RPO, restore drills, PITR,
RTO and the standby region."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import recovery
from goldgate.durations import scaled_note
from goldgate.probes import database
from goldgate.probes.artifacts import ArtifactUnavailable, manifest
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.http import HttpProbe
from goldgate.verdict import expect
from steps.checklist import gate


def _scratch(environment: Environment) -> str | None:
    ref = environment.database.scratch_url
    return resolve_secret(ref) if ref else None


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
        restored = database.restore(Path(latest.path), _scratch(environment), checksum=latest.checksum)
        return restored, latest.tables, head, revisions

    gate("latest backup restores into scratch with matching row counts", measure,
         lambda r: recovery.restore_matches(r[0], r[1], r[2], release.policy.backups.min_tables, r[3]))


@then("point-in-time recovery is enabled with the environment's retention")
def pitr(release: ReleaseInputs, environment: Environment, gate_clock: Callable[[], dt.datetime]) -> None:
    """From the database the environment names, else its postgresql.conf; with neither,
    ERROR naming both fields — never another database's settings."""
    def measure() -> tuple[database.PitrSettings, list[database.Backup]]:
        url = resolve_secret(environment.database.url) if environment.database.url else None
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
    latest = _latest(release)
    return database.restore(Path(latest.path), _scratch(environment), timeout_s=environment.recovery.rto_s,
                            checksum=latest.checksum)


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
