"""Plain facts read from the record systems: what each API said, nothing decided."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Review:
    """One review of a pull/merge request: who, what verdict, on which commit."""

    author: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING (GitHub's words)
    commit: str
    submitted_at: dt.datetime | None = None
    review_id: str = ""


@dataclass(frozen=True)
class ReviewRecord:
    """The pull (merge) request that carries the release commit, and its reviews."""

    provider: str
    record_id: str  # e.g. "octo/bot#42" or "group/bot!42"
    author: str
    head_commit: str
    merge_commit: str | None
    reviews: tuple[Review, ...] = ()
    required: int | None = None  # the forge's own rule, when it has one (GitLab approvals_required)
    source: str = ""


@dataclass(frozen=True)
class OnCallEntry:
    """Someone on call at one escalation level from ``start`` to ``end`` (None: open-ended)."""

    person: str
    level: int
    start: dt.datetime | None
    end: dt.datetime | None
    schedule: str = ""


@dataclass(frozen=True)
class OnCallRecord:
    provider: str
    record_id: str  # escalation policy or schedule ids
    entries: tuple[OnCallEntry, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ChangeRecord:
    """A change request: its state, its approval and its planned window."""

    provider: str
    record_id: str  # CHG0030001, OPS-123
    state: str
    approval: str
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    source: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    """A message or work note, its author, its time and its text."""

    posted_at: dt.datetime | None
    author: str
    text: str
    message_id: str = ""


@dataclass(frozen=True)
class NotificationRecord:
    provider: str
    record_id: str  # channel id or change number
    messages: tuple[Message, ...] = ()
    source: str = ""
