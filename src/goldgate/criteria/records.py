"""§1.1, §1.3 and §11.2 decided on the records themselves: the forge's reviews, the paging
service's on-call entries, the change system's request and the channel's messages.

These are the measured counterparts of the declared release.yaml checks in
:mod:`goldgate.criteria.operational` and :mod:`goldgate.criteria.readiness`: each verdict
names the record it read (``octo/bot#42``, ``CHG0030001``...) so a reader can open it.
Pure: the facts arrive from :mod:`goldgate.probes.records`, the window and the limits as
arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from goldgate.criteria.coverage import covered_from
from goldgate.criteria.registry import criterion
from goldgate.probes.records.facts import (
    ChangeRecord,
    NotificationRecord,
    OnCallRecord,
    ReviewRecord,
)
from goldgate.verdict import Evidence, Verdict

__all__ = ["change_approved", "inside_planned_window", "notified_before", "on_call_covers", "reviews_approved"]

# Review states that replace a reviewer's earlier verdict (a COMMENTED review does not
# withdraw an approval on GitHub; PENDING is not submitted).
_DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


def _iso(t: dt.datetime | None) -> str:
    return t.isoformat().replace("+00:00", "Z") if t else "none"


def _aware(t: object) -> bool:
    return isinstance(t, dt.datetime) and t.tzinfo is not None


def _window_problem(start: object, end: object) -> str:
    if not (_aware(start) and _aware(end)):
        return "the deployment window has no start or end with a time zone"
    if end <= start:  # type: ignore[operator]
        return "the deployment window is empty (end not after start)"
    return ""


@criterion(needs="the pull/merge request of the release commit with its reviews, and a minimum of at least 1 "
                 "reviewer other than the author approving that commit")
def reviews_approved(record: ReviewRecord, release_commit: str, minimum: int) -> Verdict:
    """Latest decisive review per reviewer; APPROVED counts when not dismissed, on the commit
    that was released (the request's head when the release is its head or its merge commit),
    and by someone other than the author."""
    crit = "code review approved by reviewers other than the author"
    required = max(minimum, record.required or 0) if isinstance(minimum, int) else minimum
    ev = Evidence(record.provider.lower(), record.source or record.record_id, samples=len(record.reviews),
                  details={"record": record.record_id, "author": record.author, "head": record.head_commit,
                           "reviews": [f"{r.author} {r.state} {r.commit[:12]}" for r in record.reviews][:50]})
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
        return Verdict.error(crit, f"{record.record_id}: a minimum of {minimum!r} reviewers reviews nothing", evidence=ev)
    commit = (release_commit or "").strip().lower()
    if not commit:
        return Verdict.error(crit, f"{record.record_id}: no release commit to match reviews against", evidence=ev)
    head, merge = record.head_commit.lower(), (record.merge_commit or "").lower()
    if not head:
        return Verdict.error(crit, f"{record.record_id}: the request names no head commit", evidence=ev)
    reviewed = head if commit in (head, merge) else commit
    latest: dict[str, tuple[str, str]] = {}
    for r in record.reviews:
        who = r.author.strip().lower()
        if who and r.state.upper() in _DECISIVE:
            latest[who] = (r.state.upper(), (r.commit or head).lower())  # no commit given: the head (GitLab)
    author = record.author.strip().lower()
    counted = sorted(w for w, (state, c) in latest.items() if state == "APPROVED" and c == reviewed and w != author)
    if len(counted) >= required:
        return Verdict.passed(crit, len(counted), required,
                              f"{record.record_id}: approved by {', '.join(counted)} on {reviewed[:12]}", evidence=ev)
    left_out = []
    if latest.get(author, ("",))[0] == "APPROVED":
        left_out.append(f"{record.author} is the author")
    left_out += [f"{w}'s review was dismissed" for w, (s, _) in sorted(latest.items()) if s == "DISMISSED"]
    left_out += [f"{w} approved {c[:12]}, not {reviewed[:12]} (stale)" for w, (s, c) in sorted(latest.items())
                 if s == "APPROVED" and c != reviewed and w != author]
    left_out += [f"{w} requested changes" for w, (s, _) in sorted(latest.items()) if s == "CHANGES_REQUESTED"]
    note = f" (not counted: {'; '.join(left_out)})" if left_out else ""
    return Verdict.failed(crit, len(counted), required,
                          f"{record.record_id}: {len(counted)} approval(s) [{', '.join(counted) or 'none'}] of "
                          f"{reviewed[:12]}, need {required}{note}", evidence=ev)


@criterion(needs="the on-call entries of the primary (level 1) and secondary (level 2) over a non-empty "
                 "deployment window; every instant covered at both levels by distinct people")
def on_call_covers(record: OnCallRecord, window_start: dt.datetime | None, window_end: dt.datetime | None,
                   criterion: str = "on-call primary and secondary cover the deployment window") -> Verdict:
    threshold = f"levels 1 and 2 cover {_iso(window_start)} .. {_iso(window_end)}, distinct people"
    ev = Evidence(record.provider.lower(), record.source or record.record_id, samples=len(record.entries),
                  details={"record": record.record_id,
                           "entries": [f"L{e.level} {e.person} {_iso(e.start)} .. {_iso(e.end)}"
                                       for e in record.entries][:50]})
    problem = _window_problem(window_start, window_end)
    if problem:
        return Verdict.inconclusive(criterion, f"{record.record_id}: {problem}", threshold=threshold, evidence=ev)
    assert window_start is not None and window_end is not None
    for level, name in ((1, "primary"), (2, "secondary")):
        mine = [(e.start, e.end, e.person) for e in record.entries if e.level == level]
        reached, _ = covered_from(mine, window_start, window_end)
        if reached < window_end:
            later = [s for s, _, _ in mine if s is not None and reached < s < window_end]
            gap_end = min(later) if later else window_end
            return Verdict.failed(criterion, f"{name} gap {_iso(reached)} .. {_iso(gap_end)}", threshold,
                                  f"{record.record_id}: no {name} (level {level}) on call from {_iso(reached)} to "
                                  f"{_iso(gap_end)}", evidence=ev)
    far_past, far_future = dt.datetime.min.replace(tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC)
    for p in (e for e in record.entries if e.level == 1):
        for s in (e for e in record.entries if e.level == 2):
            lo = max(p.start or far_past, s.start or far_past, window_start)
            hi = min(p.end or far_future, s.end or far_future, window_end)
            if lo < hi and p.person.strip().lower() == s.person.strip().lower():
                return Verdict.failed(criterion, f"{p.person} is primary and secondary", threshold,
                                      f"{record.record_id}: {p.person} is both primary and secondary from {_iso(lo)} "
                                      f"to {_iso(hi)}", evidence=ev)
    people = sorted({e.person for e in record.entries if e.level in (1, 2)})
    return Verdict.passed(criterion, "covered", threshold,
                          f"{record.record_id}: {', '.join(people)} cover the window at levels 1 and 2", evidence=ev)


@criterion(needs="a change record with its state, approval and planned start/end, a non-empty deployment window "
                 "and at least one state that counts as approved")
def change_approved(record: ChangeRecord, window_start: dt.datetime | None, window_end: dt.datetime | None,
                    approved_states: Sequence[str], approved_approvals: Sequence[str] | None = None) -> Verdict:
    crit = "change request approved and scheduled for the deployment window"
    states = [s.strip().lower() for s in approved_states if s and s.strip()]
    approvals = None if approved_approvals is None else [a.strip().lower() for a in approved_approvals if a.strip()]
    threshold = f"state in {list(approved_states)}, window inside the planned start/end"
    ev = Evidence(record.provider.lower(), record.source or record.record_id, samples=1,
                  details={"record": record.record_id, "state": record.state, "approval": record.approval,
                           "planned": f"{_iso(record.planned_start)} .. {_iso(record.planned_end)}"})
    if not states or approvals == []:
        return Verdict.error(crit, f"{record.record_id}: no state or approval value counts as approved", evidence=ev)
    problem = _window_problem(window_start, window_end)
    if problem:
        return Verdict.inconclusive(crit, f"{record.record_id}: {problem}", threshold=threshold, evidence=ev)
    assert window_start is not None and window_end is not None
    if record.state.strip().lower() not in states:
        return Verdict.failed(crit, record.state, threshold,
                              f"{record.record_id} is in state {record.state!r}, not one of {list(approved_states)}",
                              evidence=ev)
    if approvals is not None and record.approval.strip().lower() not in approvals:
        return Verdict.failed(crit, record.approval, list(approved_approvals or ()),
                              f"{record.record_id}: approval is {record.approval!r}", evidence=ev)
    if not (_aware(record.planned_start) and _aware(record.planned_end)):
        return Verdict.failed(crit, "no planned window", threshold,
                              f"{record.record_id}: planned start/end not set", evidence=ev)
    assert record.planned_start is not None and record.planned_end is not None
    if not (record.planned_start <= window_start and window_end <= record.planned_end):
        return Verdict.failed(crit, f"{_iso(window_start)} .. {_iso(window_end)}", threshold,
                              f"{record.record_id}: the deployment window {_iso(window_start)} .. {_iso(window_end)} "
                              f"is not inside the planned {_iso(record.planned_start)} .. {_iso(record.planned_end)}",
                              evidence=ev)
    return Verdict.passed(crit, record.state, threshold,
                          f"{record.record_id}: {record.state}, approval {record.approval or 'n/a'}, planned "
                          f"{_iso(record.planned_start)} .. {_iso(record.planned_end)}", evidence=ev)


@criterion(needs="a change record with its planned start and end, and a time-zone-aware now")
def inside_planned_window(record: ChangeRecord, now: dt.datetime) -> Verdict:
    """Now lies inside the window the change system scheduled (the record, not release.yaml)."""
    crit = "now is inside the change's planned window"
    planned = f"{_iso(record.planned_start)} .. {_iso(record.planned_end)}"
    ev = Evidence(record.provider.lower(), record.source or record.record_id, samples=1,
                  details={"record": record.record_id, "planned": planned})
    if not _aware(now):
        return Verdict.error(crit, f"{record.record_id}: no time-zone-aware current time", evidence=ev)
    if not (_aware(record.planned_start) and _aware(record.planned_end)):
        return Verdict.failed(crit, _iso(now), "a planned window", f"{record.record_id}: planned start/end not set",
                              evidence=ev)
    assert record.planned_start is not None and record.planned_end is not None
    if record.planned_start <= now <= record.planned_end:
        left = (record.planned_end - now).total_seconds() / 60
        return Verdict.passed(crit, _iso(now), planned, f"{record.record_id}: {left:.0f} minutes left", evidence=ev)
    when = "opens" if now < record.planned_start else "closed"
    return Verdict.failed(crit, _iso(now), planned, f"{record.record_id}: the planned window {when} "
                          f"({planned})", evidence=ev)


@criterion(needs="messages read from the channel or change record, the deployment window's start and at least "
                 "one non-empty word (ticket or version) a notification must mention")
def notified_before(record: NotificationRecord, window_start: dt.datetime | None, mentions: Sequence[str],
                    criterion: str = "stakeholders notified") -> Verdict:
    words = [m.strip() for m in mentions if m and m.strip()]
    threshold = f"a message mentioning {' or '.join(words) or '?'} before {_iso(window_start)}"
    ev = Evidence(record.provider.lower(), record.source or record.record_id, samples=len(record.messages),
                  details={"record": record.record_id})
    if not words:
        return Verdict.error(criterion, f"{record.record_id}: nothing (ticket or version) a notification must mention",
                             evidence=ev)
    if not _aware(window_start):
        return Verdict.inconclusive(criterion, f"{record.record_id}: the deployment window has no start",
                                    threshold=threshold, evidence=ev)
    assert window_start is not None
    about = sorted((m for m in record.messages if _aware(m.posted_at)
                    and any(w.lower() in m.text.lower() for w in words)), key=lambda m: m.posted_at)  # type: ignore[arg-type, return-value]
    if not about:
        return Verdict.failed(criterion, "no message", threshold,
                              f"{record.record_id}: none of {len(record.messages)} messages mentions "
                              f"{' or '.join(words)}", evidence=ev)
    first = about[0]
    assert first.posted_at is not None
    if first.posted_at < window_start:
        lead = (window_start - first.posted_at).total_seconds() / 3600
        return Verdict.passed(criterion, _iso(first.posted_at), threshold,
                              f"{record.record_id}: message {first.message_id} by {first.author or 'unknown'} "
                              f"{lead:.3g} h before the window", evidence=ev)
    late = (first.posted_at - window_start).total_seconds() / 60
    return Verdict.failed(criterion, _iso(first.posted_at), threshold,
                          f"{record.record_id}: the first notification ({first.message_id}) was posted {late:.0f} min "
                          "after the window opened", evidence=ev)
