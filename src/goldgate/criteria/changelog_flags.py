"""Which flag each new feature of a changelog entry names: one reading for the flags file's
check and the flag server's, so both judge the same features against the same names."""

from __future__ import annotations

import re

from goldgate.probes.artifacts.changelog import ChangelogEntry

# "flag: name", "(flag `name`)", "behind flag name", "feature flag: name"
FLAG_REF = re.compile(r"\bflag\b\s*[:=]?\s*`?([A-Za-z0-9_.-]*[A-Za-z0-9_])`?", re.I)


def new_features(entry: ChangelogEntry, section: str = "Features") -> list[str]:
    """The items of the entry's ``section`` (the guide's Features, whatever the changelog calls it)."""
    return next((items for name, items in entry.sections.items() if name.lower() == section.lower()), [])


def named_flag(feature: str) -> str | None:
    """The flag a changelog item names, or None when it names none."""
    m = FLAG_REF.search(feature)
    return m[1] if m else None
