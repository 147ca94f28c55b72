"""The record criteria on hand-built facts: the review rules a forge's answer can hide."""

from __future__ import annotations

import datetime as dt

from goldgate.criteria.records import (
    change_approved,
    inside_planned_window,
    notified_before,
    on_call_covers,
    reviews_approved,
)
from goldgate.probes.records.facts import (
    ChangeRecord,
    Message,
    NotificationRecord,
    OnCallEntry,
    OnCallRecord,
    Review,
    ReviewRecord,
)
from goldgate.verdict import Status

T0 = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=4)


def pr(*reviews: Review, merge: str | None = "m1") -> ReviewRecord:
    return ReviewRecord("GitHub", "o/r#7", "ann", "h1", merge, reviews)


def test_a_later_comment_does_not_withdraw_an_approval() -> None:
    v = reviews_approved(pr(Review("bob", "APPROVED", "h1"), Review("bob", "COMMENTED", "h1"),
                            Review("cy", "APPROVED", "h1")), "h1", 2)
    assert v.status is Status.PASS


def test_a_later_change_request_does_withdraw_it() -> None:
    v = reviews_approved(pr(Review("bob", "APPROVED", "h1"), Review("bob", "CHANGES_REQUESTED", "h1"),
                            Review("cy", "APPROVED", "h1")), "m1", 2)
    assert v.status is Status.FAIL and "bob requested changes" in v.reason and (v.observed, v.threshold) == (1, 2)


def test_case_of_the_author_does_not_matter() -> None:
    v = reviews_approved(pr(Review("Ann", "APPROVED", "h1"), Review("bob", "APPROVED", "h1")), "h1", 2)
    assert v.status is Status.FAIL and "ann is the author" in v.reason.lower()


def test_open_ended_entries_cover_the_window() -> None:
    rec = OnCallRecord("PagerDuty", "escalation policy P", (OnCallEntry("a", 1, None, None), OnCallEntry("b", 2, None, None)))
    assert on_call_covers(rec, T0, T1).status is Status.PASS


def test_no_secondary_at_all_fails_naming_the_level() -> None:
    rec = OnCallRecord("PagerDuty", "escalation policy P", (OnCallEntry("a", 1, None, None),))
    v = on_call_covers(rec, T0, T1)
    assert v.status is Status.FAIL and "no secondary (level 2)" in v.reason and "escalation policy P" in v.reason


def test_an_unapproved_change_in_an_approved_state_fails() -> None:
    rec = ChangeRecord("ServiceNow", "CHG9", "Scheduled", "Requested", T0, T1)
    v = change_approved(rec, T0, T1, ["Scheduled"], ["Approved"])
    assert v.status is Status.FAIL and "CHG9: approval is 'Requested'" in v.reason


def test_no_message_about_the_release_fails() -> None:
    rec = NotificationRecord("Slack", "channel C1", (Message(T0 - dt.timedelta(days=1), "U1", "lunch?", "1"),))
    v = notified_before(rec, T0, ["CHG9", "2.4.0"])
    assert v.status is Status.FAIL and "none of 1 messages mentions CHG9 or 2.4.0" in v.reason


def test_now_inside_the_planned_window_passes_and_after_it_fails() -> None:
    rec = ChangeRecord("ServiceNow", "CHG9", "Implement", "Approved", T0, T1)
    assert inside_planned_window(rec, T0 + dt.timedelta(hours=1)).status is Status.PASS
    late = inside_planned_window(rec, T1 + dt.timedelta(minutes=1))
    assert late.status is Status.FAIL and "CHG9: the planned window closed" in late.reason
