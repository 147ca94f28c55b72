"""CHANGELOG.md in the Keep-a-Changelog shape: ``## [X.Y.Z] - date`` then ``### Section``.

The team's section names (Keep a Changelog's Added / Changed / Fixed / Removed / Security /
Deprecated, or the guide's own words) are mapped onto the guide's §10.2 categories by
:func:`categorised`, with the mapping from the environment's ``policy.changelog``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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


def categorised(log: Changelog, sections: Mapping[str, Sequence[str]], breaking_marker: str = "BREAKING") -> Changelog:
    """``log`` with every entry's sections renamed to the guide's categories.

    A section listed under a category counts as it (``Added`` -> ``Features``); an item
    starting with ``breaking_marker`` (Keep a Changelog's "**BREAKING**") counts as a
    breaking change wherever it stands; a section no category names keeps its own name.
    """
    by_name = {alias.strip().lower(): category for category, aliases in sections.items()
               for alias in (*aliases, category)}
    marker = breaking_marker.strip().lower()
    breaking = next((c for c in sections if c.lower().startswith("breaking")), "Breaking Changes")
    entries = []
    for entry in log.entries:
        mapped: dict[str, list[str]] = {}
        for name, items in entry.sections.items():
            category = by_name.get(name.strip().lower(), name)
            mapped.setdefault(category, [])
            for item in items:
                plain = item.lstrip("*_ ").lower()
                target = breaking if marker and plain.startswith(marker) else category
                mapped.setdefault(target, []).append(item)
        entries.append(replace(entry, sections=mapped))
    return Changelog(log.path, entries)


def read_release_notes(path: Path) -> str | None:
    """The release notes' text, or ``None`` when the project has none.

    A missing file is a finding (the criterion FAILs it: no notes were prepared), but a
    missing project folder means the probe is looking in the wrong place: that is
    :class:`ArtifactUnavailable`, an ERROR, never a FAIL.
    """
    if not path.parent.is_dir():
        raise ArtifactUnavailable(path.parent, "project folder not found")
    return read_text(path, "release notes") if path.is_file() else None
