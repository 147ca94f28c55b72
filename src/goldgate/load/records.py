"""Per-request records written by the locust processes, read back by the pytest process.

Every request becomes one JSON line (see ``load/locustfile.py``)::

    {"t": 1764140000.123, "name": "GET /api/v1/signal", "ms": 23.4, "ok": true,
     "status": 200, "err": null, "lag": 0.4}

``t`` is the intended send time (open model) or the actual one (closed model) in epoch
seconds; ``ms`` the latency in milliseconds measured from ``t``; ``lag`` how late the
generator actually sent (open model only) — the generator-health signal. Each process
writes its own file (``requests-<pid>.jsonl``), so a distributed run needs no shared
writer; a line cut short by a killed process is skipped, not fatal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REQUESTS_GLOB = "requests-*.jsonl"
SUMMARY_GLOB = "summary-*.json"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    t: float
    name: str
    ms: float
    ok: bool
    status: int | None = None
    err: str | None = None
    lag: float | None = None


def _parse(line: str) -> RequestRecord | None:
    try:
        raw = json.loads(line)
        return RequestRecord(
            t=float(raw["t"]), name=str(raw["name"]), ms=float(raw["ms"]), ok=bool(raw["ok"]),
            status=raw.get("status"), err=raw.get("err"), lag=raw.get("lag"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def read_records(paths: Iterable[Path]) -> list[RequestRecord]:
    """All complete records of the given files, ordered by time."""
    out: list[RequestRecord] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            rec = _parse(line) if line.strip() else None
            if rec is not None:
                out.append(rec)
    out.sort(key=lambda r: r.t)
    return out


def read_results_dir(directory: Path) -> list[RequestRecord]:
    return read_records(sorted(directory.glob(REQUESTS_GLOB)))


def read_summaries(directory: Path) -> list[dict[str, object]]:
    """What each locust process said about itself at exit (dropped arrivals, budget)."""
    out = []
    for path in sorted(directory.glob(SUMMARY_GLOB)):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


class Tail:
    """Incremental reader of the growing result files, for live counting during a run.

    Keeps a byte offset per file and only parses complete lines, so polling it every
    few hundred milliseconds costs as much as the new lines, not the whole run.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, bytes] = {}

    def poll(self) -> Iterator[RequestRecord]:
        for path in sorted(self.directory.glob(REQUESTS_GLOB)):
            offset = self._offsets.get(path, 0)
            try:
                size = os.path.getsize(path)
                if size <= offset:
                    continue
                with path.open("rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read(size - offset)
            except OSError:
                continue
            self._offsets[path] = offset + len(chunk)
            data = self._partial.pop(path, b"") + chunk
            *lines, rest = data.split(b"\n")
            if rest:
                self._partial[path] = rest
            for line in lines:
                rec = _parse(line.decode("utf-8", "replace")) if line.strip() else None
                if rec is not None:
                    yield rec
