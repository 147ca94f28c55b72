"""A container's processes: its root process and every descendant, read cheaply.

Each container's memory and CPU are sampled once a second (``container.SAMPLE_S``).
psutil's ``Process.children(recursive=True)`` builds a parent map from every process's
``/proc/<pid>/stat`` on the host for each call, so a sandbox of ten pods read about a
thousand files a second, and a third of an idle sandbox's CPU went there. Linux lists each
task's children in ``/proc/<pid>/task/<tid>/children``: walking those reads only the
container's own processes. Where that file does not exist (a kernel built without it, or
not Linux) psutil's walk is used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

_PROC = Path("/proc")


def _children_files_exist() -> bool:
    me = os.getpid()
    return (_PROC / str(me) / "task" / str(me) / "children").is_file()


CHILDREN_FILES = _children_files_exist()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(_PROC / str(pid) / "task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found.extend(int(c) for c in (_PROC / str(pid) / "task" / tid / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def members(pid: int) -> list[int]:
    """``pid`` first, then its descendants (a process gone meanwhile is simply not listed)."""
    if not CHILDREN_FILES:
        return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
    seen: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo.extend(_children(current))
    return seen
