"""The release's migration on the database it runs on (§3.2), and the post-migration window
placed after it: PASS, FAIL naming both revisions, INCONCLUSIVE for a watch that began first."""

from __future__ import annotations

import datetime as dt

from goldgate.criteria import migrations, post_deploy
from goldgate.probes.applied_migration import AppliedMigration, since
from goldgate.verdict import Status, Verdict

HEAD, FIRST = "b2d4f6a80002", "a1c3e5f70001"
COMMITTED = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)
SOURCE = "database.url postgresql://postgres@127.0.0.1:5432/postgres"
PASSING = (Verdict.passed("error rate (§6.1)", 0.0, 0.01, "ok"), Verdict.passed("p95 budget (§6.1)", 0.1, 0.5, "ok"))


def _applied(revisions: tuple[str, ...] = (HEAD,), *, committed: dt.datetime | None = COMMITTED,
             age_s: float = 30.0, read_locally_at: float = 10_000.0, note: str = "") -> AppliedMigration:
    """A reading taken ``age_s`` after the commit (database clock), at ``read_locally_at`` here."""
    read_at = (committed or COMMITTED) + dt.timedelta(seconds=age_s)
    return AppliedMigration(SOURCE, True, revisions, committed, note, read_at, read_locally_at)


def test_database_at_the_declared_head_passes_with_its_commit_time() -> None:
    v = migrations.migration_applied(_applied(), HEAD, [HEAD])
    assert v.status is Status.PASS, v.message()
    assert HEAD in v.reason and "committed at 2026-12-06T15:00:00+00:00" in v.reason


def test_database_behind_the_release_fails_naming_both_revisions() -> None:
    v = migrations.migration_applied(_applied((FIRST,)), HEAD, [HEAD])
    assert v.status is Status.FAIL
    assert v.observed == FIRST and v.threshold == HEAD
    assert FIRST in v.message() and HEAD in v.message()


def test_never_migrated_database_fails() -> None:
    v = migrations.migration_applied(AppliedMigration(SOURCE, False, ()), HEAD)
    assert v.status is Status.FAIL and "never migrated" in v.reason and HEAD in v.reason


def test_head_from_the_scripts_when_the_manifest_declares_none() -> None:
    assert migrations.migration_applied(_applied(), None, [HEAD]).status is Status.PASS
    v = migrations.migration_applied(_applied(), None, [HEAD, "c3e5a7b90003"], manifest="release.yaml")
    assert v.status is Status.ERROR and "release.yaml" in v.reason


def test_unknown_commit_time_is_said() -> None:
    v = migrations.migration_applied(_applied(committed=None, note="track_commit_timestamp is off on the server"),
                                     HEAD)
    assert v.status is Status.PASS and "commit time unknown (track_commit_timestamp is off" in v.reason


def _window(applied: AppliedMigration | None, started: float) -> Verdict:
    return post_deploy.migration_monitoring_window(10.2, 10.0, PASSING, migration=applied, watch_started_at=started)


def test_window_wholly_after_the_migration_passes_and_states_it() -> None:
    applied = _applied(age_s=30.0, read_locally_at=10_000.0)  # committed at 9,970 on this machine's clock
    v = _window(applied, 9_990.0)
    assert v.status is Status.PASS, v.message()
    assert f"wholly after migration {HEAD} committed at 2026-12-06T15:00:00+00:00 (20.0 s before" in v.reason
    details = [e.details for e in v.evidence if e.source == "alembic_version"]
    assert details and details[0]["revision"] == HEAD


def test_watch_that_began_before_the_migration_committed_does_not_count() -> None:
    v = _window(_applied(age_s=30.0, read_locally_at=10_000.0), 9_960.0)
    assert v.status is Status.INCONCLUSIVE
    assert "began 10.0 s before migration" in v.reason


def test_unknown_commit_time_uses_the_first_read_that_saw_the_revision() -> None:
    given = _applied(committed=None, note="track_commit_timestamp is off", read_locally_at=9_000.0)
    end = _applied(committed=None, note="track_commit_timestamp is off", read_locally_at=10_020.0)
    v = _window(since(given, end), 9_010.0)
    assert v.status is Status.PASS and "commit time unknown: track_commit_timestamp is off" in v.reason
    assert _window(end, 9_010.0).status is Status.INCONCLUSIVE  # only seen after the watch began


def test_revision_changed_during_the_watch_is_not_carried_over() -> None:
    given = _applied((FIRST,), committed=None, read_locally_at=9_000.0)
    end = _applied((HEAD,), committed=None, read_locally_at=10_020.0)
    assert since(given, end).seen_since is None
    assert _window(since(given, end), 9_010.0).status is Status.INCONCLUSIVE


def test_breach_inside_the_window_still_fails_after_a_migration() -> None:
    breach = Verdict.failed("error rate (§6.1)", 0.05, 0.01, "5 % errors")
    v = post_deploy.migration_monitoring_window(10.2, 10.0, (breach,), migration=_applied(), watch_started_at=1.0)
    assert v.status is Status.FAIL
