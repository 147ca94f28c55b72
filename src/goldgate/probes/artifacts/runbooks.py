"""Runbooks: one Markdown file per procedure, its sections as headings.

Headings are read at every level below the title (``##`` to ``####``), lower-cased and
without numbering or a trailing colon, so "## 2. Rolling back:" is the section
"rolling back". Which headings a runbook needs is the team's to say (``policy.runbooks``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

_HEADING = re.compile(r"^#{2,4}\s+(?P<title>.+?)\s*#*\s*$")
_NUMBERING = re.compile(r"^(?:\d+[.)]|[ivx]+\.)\s+", re.I)


@dataclass(frozen=True)
class Runbook:
    name: str
    path: str
    sections: dict[str, int]  # normalised heading -> line
    words: int


def normalise_heading(title: str) -> str:
    """The comparable form of a heading: lower case, no numbering, no trailing colon."""
    return _NUMBERING.sub("", title.strip()).rstrip(":").strip().lower()


def read_runbooks(folder: Path) -> dict[str, Runbook]:
    """Every ``*.md`` in ``folder`` by lower-cased file stem (``Rollback.md`` -> ``rollback``)."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "runbooks folder not found")
    books = {}
    for path in sorted(folder.glob("*.md")):
        text = read_text(path, "runbook")
        sections = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if m := _HEADING.match(line):
                sections.setdefault(normalise_heading(m["title"]), number)
        books[path.stem.lower()] = Runbook(path.stem, str(path), sections, len(text.split()))
    return books
