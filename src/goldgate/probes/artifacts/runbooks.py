"""Runbooks: one Markdown file per procedure, its sections as ``##`` headings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable

_HEADING = re.compile(r"^#{2,3}\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Runbook:
    name: str
    path: str
    sections: dict[str, int]  # lower-cased heading -> line
    words: int


def read_runbooks(folder: Path) -> dict[str, Runbook]:
    """Every ``*.md`` in ``folder`` by file stem (``rollback.md`` -> ``rollback``)."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "runbooks folder not found")
    books = {}
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        sections = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if m := _HEADING.match(line):
                sections[m["title"].strip().lower()] = number
        books[path.stem.lower()] = Runbook(path.stem, str(path), sections, len(text.split()))
    return books
