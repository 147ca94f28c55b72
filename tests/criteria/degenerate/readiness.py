"""Degenerate inputs of the §1.3 readiness criteria and the post-deploy decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import strategies as st

from goldgate.probes.applied_migration import AppliedMigration
from goldgate.verdict import Status, Verdict

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
NOT_A_COUNT = st.sampled_from([None, -1, float("nan"), float("inf"), float("-inf"), 2.5, True])
NOT_A_TIME = st.sampled_from([None, dt.datetime(2026, 12, 1, 12, 0)])  # missing, or without a time zone
NOT_A_RATE = st.sampled_from([0.0, 1.0, -0.1, float("nan"), float("inf")])


@dataclass(frozen=True)
class _Answer:
    url: str
    status: object
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class _Note:
    audience: str
    channel: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class _Shift:
    name: str
    role: str
    start: dt.datetime | None
    end: dt.datetime | None
    confirmed: object


@dataclass(frozen=True)
class _Action:
    action: str
    outcome: str
    reason: str = ""


@dataclass(frozen=True)
class _Run:
    run_id: str
    finished_at: dt.datetime | None
    environment: str
    production: object
    reason: str
    actions: tuple[_Action, ...]


@dataclass(frozen=True)
class _Counts:
    total: int
    errors: int

    def rounded(self) -> tuple[int, int]:
        return self.total, self.errors


@dataclass(frozen=True)
class _Measurement:
    counts: _Counts | None
    window_s: float | None = None
    error: str = ""
    reason: str = ""

    def evidence(self) -> object:
        from goldgate.verdict import Evidence

        return Evidence("fake")


def _channel():
    no_answer = st.just(((None,), {}))
    bad_status = st.sampled_from([None, "200", True, 3.5]).map(lambda s: ((_Answer("http://x", s),), {}))
    return st.one_of(no_answer, bad_status)


def _notified():
    hour = dt.timedelta(hours=1)
    no_window = NOT_A_TIME.map(lambda w: (([_Note("stakeholders", "email", NOW - hour)],),
                                          {"audience": "stakeholders", "window_start": w}))
    nothing = st.just((([],), {"audience": "stakeholders", "window_start": NOW}))
    undated = NOT_A_TIME.map(lambda t: (([_Note("stakeholders", "email", t)],),
                                        {"audience": "stakeholders", "window_start": NOW}))
    no_audience = st.just((([_Note("", "email", NOW - hour)],), {"audience": "", "window_start": NOW}))
    return st.one_of(no_window, nothing, undated, no_audience)


def _on_call():
    h = dt.timedelta(hours=1)
    good = _Shift("dana", "primary", NOW - 5 * h, NOW + 5 * h, True)
    no_window = st.tuples(NOT_A_TIME, NOT_A_TIME).map(
        lambda w: (([good],), {"window_start": w[0], "window_end": w[1]}))
    empty_window = st.just((([good],), {"window_start": NOW, "window_end": NOW}))
    nothing = st.just((([],), {"window_start": NOW, "window_end": NOW + h}))
    unconfirmed = st.sampled_from([False, None, "yes", 1]).map(
        lambda c: (([_Shift("dana", "primary", NOW - 5 * h, NOW + 5 * h, c)],),
                   {"window_start": NOW, "window_end": NOW + h}))
    undated = NOT_A_TIME.map(lambda t: (([_Shift("dana", "primary", t, t, True)],),
                                        {"window_start": NOW, "window_end": NOW + h}))
    return st.one_of(no_window, empty_window, nothing, unconfirmed, undated)


def _rehearsed():
    day = dt.timedelta(days=1)
    undo = (_Action("rollout undo", "done"),)
    nothing = st.just((([],), {"now": NOW, "max_age_days": 30}))
    production = st.sampled_from([True, None, "false"]).map(
        lambda p: (([_Run("r", NOW - day, "production", p, "", undo)],), {"now": NOW, "max_age_days": 30}))
    no_rollback = st.sampled_from([(), (_Action("rollout undo", "failed"),), (_Action("scale", "done"),)]).map(
        lambda a: (([_Run("r", NOW - day, "staging", False, "", a)],), {"now": NOW, "max_age_days": 30}))
    undated = NOT_A_TIME.map(lambda t: (([_Run("r", t, "staging", False, "", undo)],),
                                        {"now": NOW, "max_age_days": 30}))
    future = st.just((([_Run("r", NOW + day, "staging", False, "", undo)],), {"now": NOW, "max_age_days": 30}))
    bad_age = st.sampled_from([0, -1, float("nan"), float("inf")]).map(
        lambda a: (([_Run("r", NOW - day, "staging", False, "", undo)],), {"now": NOW, "max_age_days": a}))
    bad_now = NOT_A_TIME.map(lambda n: (([_Run("r", NOW - day, "staging", False, "", undo)],),
                                        {"now": n, "max_age_days": 30}))
    return st.one_of(nothing, production, no_rollback, undated, future, bad_age, bad_now)


def _error_rate():
    bad_counts = st.tuples(NOT_A_COUNT, st.integers(0, 5)).map(lambda a: (a, {"limit": 0.001}))
    bad_errors = st.tuples(st.integers(0, 10**6), NOT_A_COUNT).map(lambda a: (a, {"limit": 0.001}))
    thin = st.integers(0, 2993).map(lambda n: ((n, 0), {"limit": 0.001}))  # fewer than 2,995 clean requests
    more_errors = st.integers(1, 100).map(lambda k: ((k - 1, k), {"limit": 0.001}))
    bad_limit = NOT_A_RATE.map(lambda lim: ((10**6, 0), {"limit": lim}))
    bad_confidence = st.sampled_from([0.0, 1.0, 0.2, float("nan")]).map(
        lambda c: ((10**6, 0), {"limit": 0.001, "confidence": c}))
    return st.one_of(bad_counts, bad_errors, thin, more_errors, bad_limit, bad_confidence)


def _error_rate_from():
    failed = st.just(((_Measurement(_Counts(10**6, 0), error="connection refused"),), {"limit": 0.001}))
    empty = st.just(((_Measurement(None, reason="no series"),), {"limit": 0.001}))
    thin = st.integers(0, 2993).map(lambda n: ((_Measurement(_Counts(n, 0)),), {"limit": 0.001}))
    return st.one_of(failed, empty, thin)


def _window():
    passing = Verdict.passed("error rate", 0.0, 0.01, "ok")
    held = Verdict.inconclusive("p95", "too few")
    short = st.floats(0, 9.99).map(lambda c: ((c, 10.0, [passing]), {}))
    unknown = st.sampled_from([None, float("nan"), float("inf"), -1.0]).map(lambda c: ((c, 10.0, [passing]), {}))
    no_triggers = st.just(((10.0, 10.0, []), {}))
    undecided = st.just(((10.0, 10.0, [passing, held]), {}))
    bad_required = st.sampled_from([0, -5, float("nan"), float("inf")]).map(lambda r: ((100.0, r, [passing]), {}))
    # a watch that began before the migration committed, an unknown start, no migration recorded
    committed = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    late = AppliedMigration("database.url x", True, ("b2",), committed, "", committed, 1000.0)
    unmigrated = AppliedMigration("database.url x", False, (), None, "no alembic_version table", None, 1000.0)
    unseen = AppliedMigration("database.url x", True, ("b2",), None, "track_commit_timestamp is off", None, 1000.0)
    before = st.tuples(st.sampled_from([late, unseen]), st.floats(0, 999.9)).map(
        lambda a: ((10.0, 10.0, [passing]), {"migration": a[0], "watch_started_at": a[1]}))
    no_start = st.tuples(st.sampled_from([late, unmigrated, unseen]),
                         st.sampled_from([None, float("nan"), float("inf")])).map(
        lambda a: ((10.0, 10.0, [passing]), {"migration": a[0], "watch_started_at": a[1]}))
    nothing = st.just(((10.0, 10.0, [passing]), {"migration": unmigrated, "watch_started_at": 2000.0}))
    return st.one_of(short, unknown, no_triggers, undecided, bad_required, before, no_start, nothing)


def _drained():
    bad = st.tuples(NOT_A_COUNT, NOT_A_COUNT).map(lambda a: (a, {"pods_deleted": 1, "min_requests": 50}))
    thin = st.integers(0, 49).map(lambda n: ((n, 0), {"pods_deleted": 1, "min_requests": 50}))
    nothing_deleted = st.sampled_from([0, -1, None]).map(
        lambda d: ((500, 0), {"pods_deleted": d, "min_requests": 50}))
    return st.one_of(bad, thin, nothing_deleted)


def _shows_status():
    passing = Verdict.passed("x", 1, 1, "ok")
    no_verdict = st.sampled_from([None, "PASS", 1]).map(
        lambda v: ((v, Status.INCONCLUSIVE), {"criterion": "c"}))
    asks_pass = st.just(((passing, Status.PASS), {"criterion": "c"}))
    return st.one_of(no_verdict, asks_pass)


CASES = {
    "readiness.channel_answers": _channel(),
    "readiness.notified_before_window": _notified(),
    "readiness.on_call_covers_window": _on_call(),
    "readiness.rollback_rehearsed": _rehearsed(),
    "post_deploy.post_deploy_error_rate": _error_rate(),
    "post_deploy.post_deploy_error_rate_from": _error_rate_from(),
    "post_deploy.migration_monitoring_window": _window(),
    "post_deploy.drained_while_terminating": _drained(),
    "post_deploy.shows_status": _shows_status(),
}
