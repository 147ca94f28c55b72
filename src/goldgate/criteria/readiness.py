"""Guide §1.3 operational readiness on evidence that can be checked, not ticked.

"Communication channels ready", "stakeholders notified", "team availability confirmed" and
"rollback procedure tested" are checklist lines a person ticks; each one here is decided on
a record that could be false:

* the channel answers: an HTTP answer from the release's channel URL, 2xx or 3xx;
* stakeholders notified: a notification to the audience, dated before the window opens
  (a notice sent after the change began informs nobody in time);
* team availability confirmed: confirmed on-call shifts whose union covers the whole
  deployment window, without a gap;
* rollback procedure tested: goldgate's own audit trail holds a run outside production
  (or marked as a rehearsal) whose actions include a completed rollback, no older than
  the guide's §6.3 "Monthly" rehearsal cadence.

Inputs are duck-typed records (the probes' dataclasses), so this module imports no probe.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from goldgate.criteria.coverage import covered_from
from goldgate.criteria.registry import criterion
from goldgate.verdict import DECLARED, Evidence, Verdict

__all__ = [
    "channel_answers",
    "notified_before_window",
    "on_call_covers_window",
    "rollback_rehearsed",
]


class ChannelAnswerLike(Protocol):
    url: str
    status: int
    elapsed_s: float


class NotificationLike(Protocol):
    audience: str
    channel: str
    sent_at: dt.datetime | None


class ShiftLike(Protocol):
    name: str
    role: str
    start: dt.datetime | None
    end: dt.datetime | None
    confirmed: bool


class AuditActionLike(Protocol):
    action: str
    outcome: str
    reason: str


class AuditRunLike(Protocol):
    run_id: str
    finished_at: dt.datetime | None
    environment: str
    production: bool
    reason: str
    actions: Sequence[AuditActionLike]


def _aware(moment: Any) -> bool:
    return isinstance(moment, dt.datetime) and moment.tzinfo is not None


def _iso(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if _aware(moment) else "?"


@criterion(needs="an HTTP answer (status code) from the communication channel URL")
def channel_answers(answer: ChannelAnswerLike | None, *, criterion: str = "communication channel ready",
                    evidence: Iterable[Evidence] = ()) -> Verdict:
    """PASS on a 2xx/3xx answer; a 4xx/5xx is a channel that is not ready (FAIL)."""
    if answer is None or not isinstance(getattr(answer, "status", None), int) \
            or isinstance(answer.status, bool):
        return Verdict.inconclusive(criterion, "no answer from the channel to judge", threshold="HTTP 2xx/3xx",
                                    evidence=tuple(evidence))
    ev = (*evidence, Evidence("http", answer.url, None, 1, {"status": answer.status,
                                                           "elapsed_s": getattr(answer, "elapsed_s", None)}))
    text = f"{answer.url} answered HTTP {answer.status}"
    if 200 <= answer.status < 400:
        return Verdict.passed(criterion, answer.status, "HTTP 2xx/3xx", text, evidence=ev)
    return Verdict.failed(criterion, answer.status, "HTTP 2xx/3xx", f"{text}: the channel is not ready",
                          evidence=ev)


@criterion(needs="the deployment window's start and at least one notification to the audience dated before it", provenance=DECLARED)
def notified_before_window(notifications: Sequence[NotificationLike], *, audience: str,
                           window_start: dt.datetime | None, criterion: str = "stakeholders notified",
                           evidence: Iterable[Evidence] = ()) -> Verdict:
    """PASS when a notification to ``audience`` was sent before the window opened."""
    threshold = f"sent before {_iso(window_start)}"
    ev = (*evidence, Evidence("release manifest", "notifications", None, len(notifications), {
        "notifications": [{"audience": n.audience, "channel": n.channel, "sent_at": _iso(n.sent_at)}
                          for n in notifications]}))
    if not notifications:
        # Nothing recorded is nothing measured: a release that records no notification at
        # all cannot be said to have breached the rule, only to lack the record.
        return Verdict.error(criterion, "the release manifest records no notifications (field notifications): "
                             f"nothing to judge whether {audience or 'the audience'} were notified",
                             evidence=ev)
    if not _aware(window_start):
        return Verdict.inconclusive(criterion, "the deployment window has no start to compare with",
                                    threshold=threshold, evidence=ev)
    assert window_start is not None
    wanted = audience.strip().lower()
    mine = [n for n in notifications if n.audience.strip().lower() == wanted and _aware(n.sent_at)]
    if not wanted:
        return Verdict.inconclusive(criterion, "no audience named", threshold=threshold, evidence=ev)
    early = sorted((n for n in mine if n.sent_at < window_start), key=lambda n: n.sent_at)  # type: ignore[operator]
    if early:
        first = early[0]
        lead = window_start - first.sent_at  # type: ignore[operator]
        return Verdict.passed(criterion, _iso(first.sent_at), threshold,
                              f"{audience} notified via {first.channel or 'unknown channel'} "
                              f"{lead.total_seconds() / 3600:.3g} h before the window", evidence=ev)
    if mine:
        late = min(mine, key=lambda n: n.sent_at)  # type: ignore[arg-type, return-value]
        return Verdict.failed(criterion, _iso(late.sent_at), threshold,
                              f"{audience} were notified only after the window opened", evidence=ev)
    return Verdict.failed(criterion, "no notification", threshold,
                          f"no dated notification to {audience} among {len(notifications)} records", evidence=ev)


@criterion(needs="the deployment window (start and end) and confirmed on-call shifts with start and end", provenance=DECLARED)
def on_call_covers_window(shifts: Sequence[ShiftLike], *, window_start: dt.datetime | None,
                          window_end: dt.datetime | None, criterion: str = "team availability confirmed",
                          evidence: Iterable[Evidence] = ()) -> Verdict:
    """PASS when confirmed shifts cover the window end to end; the first gap is named on FAIL."""
    threshold = f"{_iso(window_start)} .. {_iso(window_end)} covered"
    ev = (*evidence, Evidence("release manifest", "on_call_schedule", None, len(shifts), {
        "shifts": [{"name": s.name, "role": s.role, "start": _iso(s.start), "end": _iso(s.end),
                    "confirmed": s.confirmed} for s in shifts]}))
    if not shifts:
        return Verdict.error(criterion, "the release manifest records no on-call schedule (field on_call_schedule): "
                             "nothing to judge whether the team is available", evidence=ev)
    if not (_aware(window_start) and _aware(window_end)) or window_end <= window_start:  # type: ignore[operator]
        return Verdict.inconclusive(criterion, "the deployment window is missing or empty", threshold=threshold,
                                    evidence=ev)
    assert window_start is not None and window_end is not None
    usable = sorted(((s.start, s.end, s.name) for s in shifts
                     if s.confirmed is True and _aware(s.start) and _aware(s.end) and s.start < s.end),  # type: ignore[operator]
                    key=lambda t: t[0])
    covered_to, names = covered_from(usable, window_start, window_end)
    if covered_to >= window_end:
        return Verdict.passed(criterion, "covered", threshold,
                              f"confirmed on-call {', '.join(names)} cover the window", evidence=ev)
    unconfirmed = sum(1 for s in shifts if s.confirmed is not True)
    extra = f"; {unconfirmed} unconfirmed shifts not counted" if unconfirmed else ""
    gap_end = next((s for s, _, _ in usable if s > covered_to), window_end)
    return Verdict.failed(criterion, f"gap {_iso(covered_to)} .. {_iso(min(gap_end, window_end))}", threshold,
                          f"no confirmed on-call from {_iso(covered_to)}{extra}", evidence=ev)


def _is_rollback(action: AuditActionLike, names: Sequence[str]) -> bool:
    if action.outcome != "done":
        return False
    return action.action in names or "rollback" in (action.reason or "").lower()


@criterion(needs="audit records (at least one) and the current time; a rehearsal with a completed rollback "
                 "action within the maximum age")
def rollback_rehearsed(runs: Sequence[AuditRunLike], *, now: dt.datetime, max_age_days: float,
                       rollback_actions: Sequence[str] = ("rollout undo",),
                       criterion: str = "rollback procedure tested",
                       evidence: Iterable[Evidence] = ()) -> Verdict:
    """PASS when the newest rollback rehearsal in the audit trail is recent enough."""
    kw = {"unit": "days"}
    ev = (*evidence,)
    if not (isinstance(max_age_days, int | float) and math.isfinite(max_age_days) and max_age_days > 0):
        return Verdict.error(criterion, f"the maximum age {max_age_days!r} is not a positive number of days",
                             threshold=max_age_days, evidence=ev, **kw)
    if not _aware(now):
        return Verdict.error(criterion, "no time-zone-aware current time", threshold=max_age_days, evidence=ev, **kw)
    if not runs:  # a trail that was read and holds nothing: the rehearsal is missing, a measured fact
        return Verdict.failed(criterion, "no rehearsal", f"one within {max_age_days:g} days",
                              "no rollback rehearsal in the trail: it holds no run", evidence=ev)
    rehearsals = [r for r in runs
                  if (r.production is False or "rehearsal" in (r.reason or "").lower())
                  and _aware(r.finished_at) and r.finished_at <= now  # type: ignore[operator]
                  and any(_is_rollback(a, rollback_actions) for a in r.actions)]
    ev = (*ev, Evidence("audit trail", "", None, len(runs), {
        "rehearsals": [{"run_id": r.run_id, "environment": r.environment, "finished": _iso(r.finished_at)}
                       for r in rehearsals][-10:]}))
    if not rehearsals:
        return Verdict.failed(criterion, "no rehearsal", f"one within {max_age_days:g} days",
                              f"no rollback rehearsal in the trail: none of its {len(runs)} audit records "
                              "completed a rollback outside production",
                              evidence=ev)
    newest = max(rehearsals, key=lambda r: r.finished_at)  # type: ignore[arg-type, return-value]
    age = (now - newest.finished_at).total_seconds() / 86400  # type: ignore[operator]
    text = (f"last rehearsal run {newest.run_id} in {newest.environment or '?'} finished "
            f"{_iso(newest.finished_at)}, {age:.3g} days ago (maximum {max_age_days:g})")
    if age <= max_age_days:
        return Verdict.passed(criterion, round(age, 3), max_age_days, text, evidence=ev, **kw)
    return Verdict.failed(criterion, round(age, 3), max_age_days, f"too old: {text}", evidence=ev, **kw)
