"""Degenerate inputs of the record criteria (criteria/records.py): requests without
reviews or with only the author's, empty on-call answers, unusable windows, change records
with no approved state to match and channels that say nothing."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.records.facts import (
    ChangeRecord,
    Message,
    NotificationRecord,
    OnCallEntry,
    OnCallRecord,
    Review,
    ReviewRecord,
)

T0 = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=4)
BAD_WINDOW = st.sampled_from([(None, None), (T0, None), (None, T1), (T1, T0), (T0, T0),
                              (T0.replace(tzinfo=None), T1.replace(tzinfo=None))])


def _reviews() -> st.SearchStrategy:
    own = st.builds(lambda n: ReviewRecord("GitHub", "o/r#1", "ann", "abc", None,
                                           tuple(Review("ann", "APPROVED", "abc") for _ in range(n))), st.integers(0, 3))
    nothing = st.just(ReviewRecord("GitHub", "o/r#1", "ann", "abc", None, ()))
    no_head = st.just(ReviewRecord("GitLab", "g/r!1", "ann", "", None, (Review("bob", "APPROVED", ""),)))
    record = st.one_of(own, nothing, no_head)
    minimum = st.sampled_from([0, -1, 1, 2])
    commit = st.sampled_from(["", "abc", "   "])
    bad_min = st.tuples(st.just(ReviewRecord("GitHub", "o/r#1", "ann", "abc", None, (Review("bob", "APPROVED", "abc"),))),
                        st.just("abc"), st.sampled_from([0, -2]))
    return st.one_of(st.tuples(record, commit, minimum), bad_min).map(lambda a: (a, {}))


def _on_call() -> st.SearchStrategy:
    empty = st.just(OnCallRecord("PagerDuty", "escalation policy P1", ()))
    one_level = st.just(OnCallRecord("PagerDuty", "escalation policy P1", (OnCallEntry("ann", 1, None, None),)))
    healthy = OnCallRecord("PagerDuty", "escalation policy P1",
                           (OnCallEntry("ann", 1, None, None), OnCallEntry("bob", 2, None, None)))
    good_window = st.tuples(st.one_of(empty, one_level), st.just(T0), st.just(T1))
    bad_window = st.tuples(st.just(healthy), BAD_WINDOW).map(lambda a: (a[0], *a[1]))
    return st.one_of(good_window, bad_window).map(lambda a: (a, {}))


def _change() -> st.SearchStrategy:
    approved = ChangeRecord("ServiceNow", "CHG1", "Scheduled", "Approved", T0 - dt.timedelta(hours=1),
                            T1 + dt.timedelta(hours=1))
    no_plan = ChangeRecord("ServiceNow", "CHG1", "Scheduled", "Approved", None, None)
    no_states = st.tuples(st.just(approved), st.just(T0), st.just(T1), st.sampled_from([[], [""], ["  "]]))
    no_window = st.tuples(st.just(approved), BAD_WINDOW, st.just(["Scheduled"])).map(
        lambda a: (a[0], *a[1], a[2]))
    unplanned = st.tuples(st.just(no_plan), st.just(T0), st.just(T1), st.just(["Scheduled"]))
    no_approvals = st.tuples(st.just(approved), st.just(T0), st.just(T1), st.just(["Scheduled"]), st.just([]))
    return st.one_of(no_states, no_window, unplanned, no_approvals).map(lambda a: (a, {}))


def _notified() -> st.SearchStrategy:
    early = Message(T0 - dt.timedelta(hours=5), "U1", "CHG1 tomorrow 06:00 UTC", "1.0")
    silent = st.just(NotificationRecord("Slack", "channel C1", ()))
    said = st.just(NotificationRecord("Slack", "channel C1", (early,)))
    no_words = st.tuples(said, st.just(T0), st.sampled_from([[], [""], ["  "]]))
    no_start = st.tuples(said, st.sampled_from([None, T0.replace(tzinfo=None)]), st.just(["CHG1"]))
    nothing = st.tuples(silent, st.just(T0), st.just(["CHG1"]))
    return st.one_of(no_words, no_start, nothing).map(lambda a: (a, {}))


def _planned() -> st.SearchStrategy:
    unplanned = ChangeRecord("ServiceNow", "CHG1", "Scheduled", "Approved", None, None)
    planned = ChangeRecord("ServiceNow", "CHG1", "Scheduled", "Approved", T0, T1)
    naive = st.tuples(st.just(planned), st.just(T0.replace(tzinfo=None) + dt.timedelta(hours=1)))
    return st.one_of(st.tuples(st.just(unplanned), st.just(T0 + dt.timedelta(hours=1))), naive).map(lambda a: (a, {}))


CASES = {
    "records.inside_planned_window": _planned(),
    "records.reviews_approved": _reviews(),
    "records.on_call_covers": _on_call(),
    "records.change_approved": _change(),
    "records.notified_before": _notified(),
}
