"""CHANGELOG.md in the Keep-a-Changelog shape: ``## [X.Y.Z] - date`` then ``### Section``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

_ENTRY = re.compile(r"^##\s+\[?v?(?P<version>[^\]\s]+)\]?(?:\s*[-–]\s*(?P<date>\S+))?\s*$")
_SECTION = re.compile(r"^###\s+(?P<name>.+?)\s*$")


@dataclass
class ChangelogEntry:
    version: str
    line: int
    date: str | None
    sections: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Changelog:
    path: str
    entries: list[ChangelogEntry]

    def entry(self, version: str) -> ChangelogEntry | None:
        wanted = version.removeprefix("v")
        return next((e for e in self.entries if e.version.removeprefix("v") == wanted), None)


def read_changelog(path: Path) -> Changelog:
    entries: list[ChangelogEntry] = []
    section: list[str] | None = None
    for number, line in enumerate(read_text(path, "changelog").splitlines(), start=1):
        if m := _ENTRY.match(line):
            entries.append(ChangelogEntry(m["version"], number, m["date"]))
            section = None
        elif (m := _SECTION.match(line)) and entries:
            section = entries[-1].sections.setdefault(m["name"], [])
        elif section is not None and line.strip().startswith(("-", "*")):
            section.append(line.strip()[1:].strip())
    return Changelog(str(path), entries)


def read_release_notes(path: Path) -> str | None:
    """The release notes' text, or ``None`` when the project has none.

    A missing file is a finding (the criterion FAILs it: no notes were prepared), but a
    missing project folder means the probe is looking in the wrong place: that is
    :class:`ArtifactUnavailable`, an ERROR, never a FAIL.
    """
    if not path.parent.is_dir():
        raise ArtifactUnavailable(path.parent, "project folder not found")
    return read_text(path, "release notes") if path.is_file() else None
