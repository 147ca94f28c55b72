"""The audit trail's file and its hash chain: append, read, verify (guide §11.1).

Each line of ``reports/audit.jsonl`` carries

* ``seq`` — its position, 1, 2, 3 …, so a removed or reordered line shows as a gap or a step back;
* ``prev_hash`` — the SHA-256 of the previous line's exact bytes, chaining the log;
* ``record_hash`` — the SHA-256 of its own canonical content, so an edit of the last line
  (which no later line protects) shows too.

This is the trail's store, on the ground floor: the report writers append to it
(:mod:`goldgate.report.audit` builds the records), and probes read it back as evidence
(a rollback rehearsal, a failover drill) only after its chain verifies. Neither needs the
other's floor for that, so the store imports nothing of goldgate but the safe loader.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate import safeload

__all__ = ["GENESIS", "LOG_SIZE_FACTOR", "Problem", "append", "line_hash", "read_log_bytes", "read_records",
           "record_hash", "utc_now", "verify"]

GENESIS = "0" * 64


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON without its own ``record_hash`` field."""
    body = {k: v for k, v in record.items() if k != "record_hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------- the log
@contextlib.contextmanager
def _locked(path: Path) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _last_line(fh: Any) -> bytes | None:
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block = 4096
    pos = end
    data = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    return data.rstrip(b"\n") or None


def append(path: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    """Chain ``record`` onto the log at ``path`` and append it; returns the stored record.

    An exclusive lock covers reading the last line and writing the new one, so two runs
    finishing together still produce one unbroken chain.
    """
    with _locked(path) as fh:
        last = _last_line(fh)
        if last is None:
            seq, prev = 1, GENESIS
        else:
            try:
                seq = int(json.loads(last).get("seq", 0)) + 1
            except (ValueError, AttributeError):
                seq = 0  # the previous line is damaged; verify will say so
            prev = line_hash(last)
        stored = {**record, "seq": seq, "prev_hash": prev, "recorded_at": utc_now()}
        stored["record_hash"] = record_hash(stored)
        fh.seek(0, os.SEEK_END)
        fh.write(_canonical(stored) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return stored


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def verify(path: Path) -> tuple[int, list[Problem]]:
    """Check the whole chain; returns (records read, problems). No problems: untouched.

    Each problem names the line (1-based) and what is wrong with it: edited (its content
    no longer matches its hash, or the next record's ``prev_hash`` does not match it),
    removed (a gap in ``seq``) or reordered (``seq`` out of sequence). The chain is
    followed by ``seq``, so a reordering is reported as such rather than as edits.
    """
    problems: list[Problem] = []
    lines = read_log_bytes(path).splitlines()
    parsed: list[tuple[int, bytes, dict[str, Any] | None]] = []
    by_seq: dict[int, tuple[int, bytes]] = {}
    for number, raw in enumerate(lines, start=1):
        rec: dict[str, Any] | None = None
        with contextlib.suppress(safeload.LoadError):
            loaded = safeload.load_json_line(raw, name=str(path), line=number)
            rec = loaded if isinstance(loaded, dict) else None
        parsed.append((number, raw, rec))
        if rec is not None and isinstance(rec.get("seq"), int):
            by_seq.setdefault(rec["seq"], (number, raw))
    highest = 0
    count = 0
    for number, raw, rec in parsed:
        if not raw.strip():
            problems.append(Problem(number, "empty line inside the log"))
            continue
        count += 1
        if rec is None:
            problems.append(Problem(number, "not a JSON record: edited or truncated"))
            highest += 1
            continue
        seq = rec.get("seq")
        if rec.get("record_hash") != record_hash(rec):
            problems.append(Problem(number, f"record seq {seq} was edited: its content does not match its record_hash"))
        if not isinstance(seq, int):
            problems.append(Problem(number, "record has no seq number"))
            continue
        if by_seq[seq][0] != number:
            problems.append(Problem(number, f"record seq {seq} appears twice (first on line {by_seq[seq][0]})"))
        elif seq <= highest:
            problems.append(Problem(number, f"record seq {seq} comes after seq {highest}: records were reordered"))
        elif seq > highest + 1:
            if highest + 1 in by_seq:
                problems.append(Problem(number, f"record seq {seq} stands where seq {highest + 1} belongs: records were reordered"))
            else:
                gone = [n for n in range(highest + 1, seq) if n not in by_seq]
                label = f"seq {gone[0]}" if len(gone) == 1 else f"seq {gone[0]}..{gone[-1]}"
                problems.append(Problem(number, f"record seq {seq} follows seq {highest}: record {label} was removed"))
        highest = max(highest, seq)
        if seq == 1:
            expected = GENESIS
        elif seq - 1 in by_seq:
            expected = line_hash(by_seq[seq - 1][1])
        else:
            continue  # reported as removed above
        if rec.get("prev_hash") != expected:
            where = "the start of the log" if seq == 1 else f"record seq {seq - 1} (line {by_seq[seq - 1][0]})"
            problems.append(Problem(number, f"prev_hash does not match {where}: that record was edited or replaced"))
    return count, problems


#: An audit log grows by one record per run, so it may be this many times the loader's limit.
LOG_SIZE_FACTOR = 32


def read_log_bytes(path: Path) -> bytes:
    """The log's bytes through the one safe loader (a regular file, bounded size), or LoadError."""
    limits = safeload.Limits.from_environ()
    return safeload.read_bytes(path, dataclasses.replace(limits, max_bytes=limits.max_bytes * LOG_SIZE_FACTOR))


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line that is a JSON record (damaged lines are left out: ``verify`` names them)."""
    out = []
    for number, raw in enumerate(read_log_bytes(path).splitlines(), start=1):
        with contextlib.suppress(safeload.LoadError):
            rec = safeload.load_json_line(raw, name=str(path), line=number)
            if isinstance(rec, dict):
                out.append(rec)
    return out
