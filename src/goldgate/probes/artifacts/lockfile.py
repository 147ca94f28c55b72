"""Dependency lock files: every requirement pinned to one exact version.

Reads pip requirement files (``requirements*.txt``, ``requirements.lock``): a line is
pinned when it says ``name==version`` (or ``===``); when any line carries ``--hash``,
every requirement must (pip's own hash-checking rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import read_text

_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;=<>!~*]+(\s*;.*)?$")


@dataclass(frozen=True)
class Requirement:
    line: int
    text: str
    pinned: bool
    hashed: bool


@dataclass(frozen=True)
class LockFile:
    path: str
    requirements: list[Requirement] = field(default_factory=list)

    @property
    def uses_hashes(self) -> bool:
        return any(r.hashed for r in self.requirements)


def read_requirements(path: Path) -> LockFile:
    text = read_text(path, "lock file")
    logical: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            logical.append((start, buffer.strip()))
        buffer = ""
    reqs = []
    for number, line in logical:
        if line.startswith(("-r ", "-c ", "--index-url", "--extra-index-url", "-i ", "--find-links")):
            continue
        hashed = "--hash" in line
        spec = re.split(r"\s+--hash", line, maxsplit=1)[0].strip()
        reqs.append(Requirement(number, spec, bool(_PINNED.match(spec)), hashed))
    return LockFile(str(path), reqs)
