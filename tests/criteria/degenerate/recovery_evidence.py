"""Degenerate inputs of the order database's recovery criteria: an archiver that archived
nothing or fails, an archive folder never read or empty, a drill too small or unmeasured,
a backup without a recorded digest or copy, a verification log that is empty or whose
last restore did not match; NaN / infinite / non-positive objectives. None may PASS."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.pg_activity import DbActivity
from goldgate.probes.pg_backup import RegionCopy, Verification
from goldgate.probes.restore_drill import RestoreDrill
from goldgate.probes.wal_archive import ArchiverState

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
NOT_A_LIMIT = st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -1.0])
ON = {"wal_level": "replica", "archive_mode": "on", "archive_command": "cp %p /a/%f", "archive_timeout": "60"}
OFF = st.sampled_from([{}, {**ON, "archive_mode": "off"}, {**ON, "archive_command": ""}, {**ON, "wal_level": "minimal"},
                       {**ON, "archive_command": "(disabled)"}])
HOUR_AGO = NOW - dt.timedelta(hours=1)


def _state(**kw: object) -> ArchiverState:
    base: dict[str, object] = {"source": "db", "read_at": NOW, "settings": ON, "archived_count": 5, "failed_count": 0,
                               "last_archived_wal": "000000010000000000000005",
                               "last_archived_time": NOW - dt.timedelta(seconds=5), "archive": "/a", "segments": 5,
                               "oldest_segment": "000000010000000000000001", "oldest_segment_at": HOUR_AGO}
    return ArchiverState(**{**base, **kw})  # type: ignore[arg-type]


def _archiver_cases() -> st.SearchStrategy:
    off = OFF.map(lambda s: _state(settings=s))
    nothing = st.integers(-2, 0).map(lambda n: _state(archived_count=n, last_archived_time=None))
    failing = st.just(_state(failed_count=3, last_failed_time=NOW - dt.timedelta(seconds=1)))
    no_folder = st.just(_state(archive=None, segments=None, oldest_segment_at=None))
    empty = st.just(_state(segments=0, oldest_segment=None, oldest_segment_at=None))
    states = st.one_of(off, nothing, failing, no_folder, empty)
    return st.one_of(st.tuples(states, st.just(3600.0), st.just(60.0)),
                     st.tuples(st.just(_state()), NOT_A_LIMIT, st.just(60.0)),
                     st.tuples(st.just(_state()), st.just(3600.0), NOT_A_LIMIT)).map(lambda a: (a, {}))


def _drill(**kw: object) -> RestoreDrill:
    base: dict[str, object] = {"server": "db", "rows": 1_000_000, "restored_rows": 1_000_000, "dump_bytes": 10**7,
                               "restored_bytes": 1.5e8, "restore_s": 20.0, "ok": True}
    return RestoreDrill(**{**base, **kw})  # type: ignore[arg-type]


def _drill_cases() -> st.SearchStrategy:
    unmeasured = st.one_of(NOT_A_LIMIT.map(lambda t: _drill(restore_s=t)),
                           st.sampled_from([0, -1]).map(lambda b: _drill(restored_bytes=b)),
                           st.just(_drill(ok=False, error="pg_restore: error")),
                           st.integers(0, 999).map(lambda n: _drill(rows=n, restored_rows=n)),
                           st.just(_drill(restored_rows=999_999)))
    return st.one_of(st.tuples(unmeasured, st.just(0.1), st.just(900.0), st.just(1000)),
                     st.tuples(st.just(_drill()), NOT_A_LIMIT, st.just(900.0), st.just(1000)),
                     st.tuples(st.just(_drill()), st.just(0.1), NOT_A_LIMIT, st.just(1000))).map(lambda a: (a, {}))


COPIES = st.sampled_from([RegionCopy("b.dump", NOW, None, "/b/b.dump", "ab" * 32),
                          RegionCopy("b.dump", NOW, "ab" * 32),
                          RegionCopy("b.dump", NOW, "ab" * 32, "/b/b.dump", "cd" * 32)])


def _verification(**kw: object) -> Verification:
    base: dict[str, object] = {"file": "b.dump", "verified_at": NOW - dt.timedelta(hours=1), "ok": True,
                               "duration_s": 0.3, "restored": {"orders": 5}, "recorded": {"orders": 5}}
    return Verification(**{**base, **kw})  # type: ignore[arg-type]


LOGS = st.sampled_from([[], [_verification(recorded={})], [_verification(ok=False)],
                        [_verification(restored={"orders": 0})], [_verification(verified_at=NOW - dt.timedelta(days=2))],
                        [_verification(verified_at=NOW + dt.timedelta(hours=1))]])

CASES = {
    "recovery.wal_archiving": _archiver_cases(),
    "recovery.restore_rate_within_rto": _drill_cases(),
    "recovery.backup_in_second_region": st.tuples(COPIES, st.just("/b")).map(lambda a: (a, {})),
    "recovery.backup_verified_recently": st.one_of(
        st.tuples(LOGS, st.just(NOW), st.just(43200.0), st.just("log")),
        st.tuples(st.just([_verification()]), st.just(NOW), NOT_A_LIMIT, st.just("log"))).map(lambda a: (a, {})),
}


def _activity(**kw: object) -> DbActivity:
    base: dict[str, object] = {"source": "db", "window_s": 5.0, "statements": True, "calls": 500, "exec_ms": 50.0,
                               "connections": 5, "max_connections": 100}
    return DbActivity(**{**base, **kw})  # type: ignore[arg-type]


QUIET = st.one_of(st.just(_activity(statements=False, calls=0, exec_ms=0.0)),
                  st.integers(-5, 49).map(lambda n: _activity(calls=n)),
                  st.sampled_from([float("nan"), float("inf"), -1.0]).map(lambda t: _activity(exec_ms=t)))
CASES |= {
    "database_metrics.db_query_latency": st.one_of(
        st.tuples(QUIET, st.just(50.0), st.just(50)),
        st.tuples(st.just(_activity()), NOT_A_LIMIT, st.just(50))).map(lambda a: (a, {})),
    "database_metrics.db_connections": st.one_of(
        st.tuples(st.sampled_from([_activity(max_connections=0), _activity(max_connections=-1),
                                   _activity(connections=-1)]), st.just(0.8)),
        st.tuples(st.just(_activity()), st.sampled_from([float("nan"), float("inf"), 0.0, -0.5, 1.5]))).map(
        lambda a: (a, {})),
}
