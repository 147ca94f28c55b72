"""The order database's recovery criteria on hand-made measurements: each FAIL shows the
value and the threshold, each healthy measurement passes."""

from __future__ import annotations

import datetime as dt

import pytest

from goldgate.criteria import recovery
from goldgate.probes.pg_backup import RegionCopy
from goldgate.verdict import Status
from tests.criteria.degenerate.recovery_evidence import NOW, _drill, _state, _verification


def test_archiving_that_keeps_up_and_reaches_back_the_window_passes() -> None:
    verdict = recovery.wal_archiving(_state(), 3600, 600)
    assert verdict.status is Status.PASS, verdict.message()
    assert "5 segments archived" in verdict.reason and "reaching back 3600 s" in verdict.reason


def test_a_failure_after_the_last_archived_segment_fails_naming_both() -> None:
    failing = _state(failed_count=2, last_failed_wal="000000010000000000000006",
                     last_failed_time=NOW - dt.timedelta(seconds=1))
    verdict = recovery.wal_archiving(failing, 3600, 600)
    assert verdict.status is Status.FAIL
    assert "archive_command failed on 000000010000000000000006" in verdict.reason
    assert "after the last archived segment 000000010000000000000005" in verdict.reason


def test_archive_mode_off_fails_naming_the_setting() -> None:
    verdict = recovery.wal_archiving(_state(settings={"wal_level": "replica", "archive_mode": "off",
                                                      "archive_command": ""}), 3600, 600)
    assert verdict.status is Status.FAIL
    assert "archive_mode = off (needs on)" in verdict.reason and verdict.threshold.startswith("archive_mode on")


def test_an_archive_younger_than_the_window_fails_with_value_and_threshold() -> None:
    verdict = recovery.wal_archiving(_state(), 3600, 604800, "PITR window 168 h")
    assert verdict.status is Status.FAIL
    assert (verdict.observed, verdict.threshold) == (3600.0, 604800)
    assert "the window needs 604800 s" in verdict.reason and "[PITR window 168 h]" in verdict.reason


def test_a_database_younger_than_the_window_is_inconclusive_never_pass_nor_fail() -> None:
    young = _state(initialised_at=NOW - dt.timedelta(seconds=3700))
    verdict = recovery.wal_archiving(young, 3600, 604800, "PITR window 168 h")
    assert verdict.status is Status.INCONCLUSIVE, verdict.message()
    assert (verdict.observed, verdict.threshold) == (3600.0, 604800)
    assert "initialised 3700 s ago, less than the PITR window of 604800 s" in verdict.reason
    # As old as the window and still short of it: the archive lost history, a breach.
    old = _state(initialised_at=NOW - dt.timedelta(days=8))
    assert recovery.wal_archiving(old, 3600, 604800).status is Status.FAIL


def test_the_wait_for_a_young_database_is_what_its_archive_lacks_of_the_window() -> None:
    from goldgate.probes import wal_archive

    def young(age_s: float, reach_s: float | None) -> object:
        return _state(initialised_at=NOW - dt.timedelta(seconds=age_s),
                      oldest_segment_at=None if reach_s is None else NOW - dt.timedelta(seconds=reach_s))

    assert wal_archive.seconds_until_window(young(19, 8.9), 10, 60) == pytest.approx(2.1)  # seen in a fresh run
    assert wal_archive.seconds_until_window(young(4, None), 10, 60) == 11.0  # nothing archived yet
    assert wal_archive.seconds_until_window(young(19, 12), 10, 60) == 0.0  # already reaches back
    assert wal_archive.seconds_until_window(young(600, 3), 10, 60) == 0.0  # old database: judged as read
    assert wal_archive.seconds_until_window(young(100, 3), 604800, 60) == 0.0  # the guide's 7 days: no wait
    assert wal_archive.seconds_until_window(_state(), 10, 60) == 0.0  # age unknown: judged as read
    assert wal_archive.initialised_at((1_700_000_000 << 32) | 12345) == dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
    for bad in (None, 0, -5, True, "7", 2**200):
        assert wal_archive.initialised_at(bad) is None


def test_an_archiver_behind_the_rpo_fails() -> None:
    verdict = recovery.wal_archiving(_state(last_archived_time=NOW - dt.timedelta(hours=2)), 3600, 600)
    assert verdict.status is Status.FAIL and verdict.observed == 7200 and verdict.threshold == 3600


def test_the_restore_rate_is_projected_to_the_production_size() -> None:
    drill = _drill(restored_bytes=150 * 2**20, restore_s=20.0)  # 7.5 MB/s
    ok = recovery.restore_rate_within_rto(drill, 1.0, 900, 1_000_000)
    assert ok.status is Status.PASS and ok.observed == round(1024 / 7.5, 1)
    assert "7.5 MB/s" in ok.reason and "50,000 rows/s" in ok.reason
    slow = recovery.restore_rate_within_rto(drill, 50.0, 900, 1_000_000)
    assert slow.status is Status.FAIL and slow.threshold == 900
    assert "50 GB at that rate takes 6826.7 s, more than the RTO of 900 s" in slow.reason


def test_a_drill_below_its_size_decides_nothing() -> None:
    small = _drill(rows=5000, restored_rows=5000)
    assert recovery.restore_rate_within_rto(small, 1.0, 900, 1_000_000).status is Status.INCONCLUSIVE


def test_second_region_copy() -> None:
    digest = "ab" * 32
    same = RegionCopy("b.dump", NOW, digest, "/second/b.dump", digest)
    assert recovery.backup_in_second_region(same, "/second").status is Status.PASS
    missing = recovery.backup_in_second_region(RegionCopy("b.dump", NOW, digest), "/second")
    assert missing.status is Status.FAIL and "no copy of the latest backup b.dump" in missing.reason
    changed = recovery.backup_in_second_region(RegionCopy("b.dump", NOW, digest, "/second/b.dump", "cd" * 32),
                                               "/second")
    assert changed.status is Status.FAIL and "differs" in changed.reason


def test_verification_twice_a_day() -> None:
    assert recovery.backup_verified_recently([_verification()], NOW, 43200, "log").status is Status.PASS
    old = recovery.backup_verified_recently([_verification(verified_at=NOW - dt.timedelta(hours=13))], NOW, 43200,
                                            "log")
    assert old.status is Status.FAIL and (old.observed, old.threshold) == (46800, 43200)
    lost = recovery.backup_verified_recently([_verification(restored={"orders": 0})], NOW, 43200, "log")
    assert lost.status is Status.FAIL and "orders: 0 restored, 5 recorded" in lost.reason


def test_database_latency_and_connections() -> None:
    from goldgate.criteria import database_metrics
    from tests.criteria.degenerate.recovery_evidence import _activity

    fast = database_metrics.db_query_latency(_activity(calls=500, exec_ms=250.0), 50, 50)
    assert fast.status is Status.PASS and fast.observed == 0.5
    slow = database_metrics.db_query_latency(_activity(calls=100, exec_ms=12000.0), 50, 50)
    assert slow.status is Status.FAIL and (slow.observed, slow.threshold) == (120.0, 50)
    assert "100 statements in 5 s took 12000 ms: 120 ms each on average, limit 50 ms" in slow.reason
    quiet = database_metrics.db_query_latency(_activity(calls=3), 50, 50)
    assert quiet.status is Status.INCONCLUSIVE
    assert database_metrics.db_connections(_activity(connections=10), 0.8).status is Status.PASS
    full = database_metrics.db_connections(_activity(connections=95), 0.8)
    assert full.status is Status.FAIL and (full.observed, full.threshold) == (95, 80.0)
    assert "95 client connections of max_connections 100, more than 80% of it (80)" in full.reason
