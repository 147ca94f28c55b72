"""How a verdict that rests on a guide duration shows the duration it used.

The text comes from :func:`goldgate.durations.scaled_note` ("phase 12 s (guide: 30 min;
scaled by environment local)"); the criteria only attach it: in the reason, where a
reader looks first, and as evidence, so verdict.json and Allure carry it too.
"""

from __future__ import annotations

from goldgate.verdict import Evidence

__all__ = ["duration_evidence", "with_duration"]


def duration_evidence(note: str) -> tuple[Evidence, ...]:
    """``(Evidence("duration", note),)``, or nothing without a note."""
    note = note.strip() if isinstance(note, str) else ""
    return (Evidence("duration", note),) if note else ()


def with_duration(text: str, note: str) -> str:
    """The reason with the duration note after it ("" notes change nothing)."""
    note = note.strip() if isinstance(note, str) else ""
    return f"{text} [{note}]" if note else text
