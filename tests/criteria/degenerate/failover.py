"""Degenerate inputs of the region failover criteria: a drill that wrote nothing, checked
nothing, waited too little, or reports times that are not durations."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.failover import AckedOrder, DataLoss, DrillRecord, Recovery, Routing

NOT_A_LIMIT = st.sampled_from([0.0, -1.0, float("nan"), float("inf"), float("-inf")])
NOT_A_TIME = st.sampled_from([float("nan"), float("inf"), float("-inf"), -1.0])
SECONDS = st.floats(min_value=0, max_value=1e6, allow_nan=False)
ORDER = st.builds(AckedOrder, st.just("drill-x-1"), st.integers(1, 10**6), SECONDS,
                  st.one_of(SECONDS, NOT_A_TIME))


def _recovery(elapsed: st.SearchStrategy[float]) -> st.SearchStrategy[Recovery]:
    return st.builds(Recovery, st.booleans(), elapsed, SECONDS, st.integers(0, 100),
                     st.just({}), st.one_of(st.none(), ORDER), st.just("http://127.0.0.1:1"))


def _rto_cases() -> st.SearchStrategy:
    nothing_written = st.tuples(_recovery(SECONDS), st.sampled_from([0, -1, None]), st.just(900.0))
    bad_time = st.tuples(_recovery(NOT_A_TIME), st.integers(1, 100), st.just(900.0))
    bad_limit = st.tuples(_recovery(SECONDS), st.integers(1, 100), NOT_A_LIMIT)
    return st.one_of(nothing_written, bad_time, bad_limit).map(lambda a: (a, {}))


def _rpo_cases() -> st.SearchStrategy:
    checked_nothing = st.builds(DataLoss, st.just(0), st.just([]), SECONDS)
    impossible = st.builds(DataLoss, st.sampled_from([-1, 0, 1]), st.lists(ORDER, min_size=2, max_size=4), SECONDS)
    bad_clock = st.builds(DataLoss, st.integers(1, 50), st.lists(ORDER, min_size=1, max_size=3), NOT_A_TIME)
    usable = st.builds(DataLoss, st.integers(1, 50), st.just([]), SECONDS)
    return st.one_of(
        st.tuples(st.one_of(checked_nothing, impossible, bad_clock), st.just(3600.0)),
        st.tuples(usable, NOT_A_LIMIT),
    ).map(lambda a: (a, {}))


def _failback_cases() -> st.SearchStrategy:
    routing = st.builds(Routing, st.sampled_from(["primary", "secondary", None]), st.one_of(SECONDS, NOT_A_TIME),
                        st.one_of(st.none(), ORDER), st.just(""))
    too_short = st.builds(Routing, st.just("secondary"), st.floats(0, 29.9), ORDER, st.just(""))
    untold = st.builds(Routing, st.none(), st.floats(30, 1e4), st.one_of(st.none(), ORDER), st.just("both"))
    return st.one_of(st.tuples(too_short, st.just(30.0)), st.tuples(untold, st.just(30.0)),
                     st.tuples(routing, NOT_A_LIMIT)).map(lambda a: (a, {}))


NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
AWARE = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
NAIVE = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))


def _drill_cases() -> st.SearchStrategy:
    failed_only = st.lists(st.builds(DrillRecord, AWARE, st.sampled_from(["failed", "unknown", ""]), st.just("r")),
                           max_size=3)
    any_drills = st.lists(st.builds(DrillRecord, AWARE, st.sampled_from(["passed", "failed"]), st.just("r")),
                          max_size=3)
    naive = st.lists(st.builds(DrillRecord, NAIVE, st.just("passed"), st.just("r")), min_size=1, max_size=2)
    future = st.lists(st.builds(DrillRecord, st.just(NOW + dt.timedelta(days=3)), st.just("passed"), st.just("r")),
                      min_size=1, max_size=1)
    return st.one_of(
        st.tuples(st.one_of(failed_only, naive, future), st.just(NOW), st.just(92.0), st.just("audit.jsonl")),
        st.tuples(any_drills, st.just(NOW), NOT_A_LIMIT, st.just("audit.jsonl")),
        st.tuples(any_drills, st.just(NOW.replace(tzinfo=None)), st.just(92.0), st.just("audit.jsonl")),
    ).map(lambda a: (a, {}))


def _primary_cases() -> st.SearchStrategy:
    return st.one_of(
        st.builds(Routing, st.sampled_from(["primary", "secondary", None]), SECONDS, st.none(), st.just("")),
        st.builds(Routing, st.sampled_from(["secondary", None, ""]), SECONDS, ORDER, st.just("")),
    ).map(lambda r: ((r,), {}))


CASES = {
    "failover.failover_within_rto": _rto_cases(),
    "failover.data_loss_within_rpo": _rpo_cases(),
    "failover.no_automatic_failback": _failback_cases(),
    "failover.drills_recent": _drill_cases(),
    "failover.serves_from_primary": _primary_cases(),
}
