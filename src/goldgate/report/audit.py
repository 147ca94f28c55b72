"""The deployment audit trail of guide §11.1: one hash-chained record per run.

``reports/audit.jsonl`` gets one JSON line per goldgate run — who ran it, what version,
when, where (environment, cluster context, namespace), why (change ticket, reason), the
decision, and every mutating action the safety policy recorded. Each line carries

* ``seq`` — its position, 1, 2, 3 …, so a removed or reordered line shows as a gap or a step back;
* ``prev_hash`` — the SHA-256 of the previous line's exact bytes, chaining the log;
* ``record_hash`` — the SHA-256 of its own canonical content, so an edit of the last line
  (which no later line protects) shows too.

A chain only proves the file is consistent with itself; anchoring it elsewhere — the CI
artifact of each run, or the optional PostgreSQL table (:class:`PostgresAuditSink`) —
is what proves nobody rewrote it whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate import safeload
from goldgate.report.redact import redact_obj

GENESIS = "0" * 64
SCHEMA = "goldgate.audit/1"


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON without its own ``record_hash`` field."""
    body = {k: v for k, v in record.items() if k != "record_hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


# --------------------------------------------------------------------------- who / when
def actor(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The deploying user: the CI system's actor when there is one, else the local login."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS"):
        return {"user": env.get("GITHUB_ACTOR", ""), "via": "github-actions",
                "run": f"{env.get('GITHUB_REPOSITORY', '')}#{env.get('GITHUB_RUN_ID', '')}"}
    if env.get("GITLAB_CI"):
        return {"user": env.get("GITLAB_USER_LOGIN", ""), "via": "gitlab-ci",
                "run": f"{env.get('CI_PROJECT_PATH', '')}#{env.get('CI_PIPELINE_ID', '')}"}
    if env.get("GOLDGATE_ACTOR"):
        return {"user": env["GOLDGATE_ACTOR"], "via": "ci" if env.get("CI") else "local", "run": ""}
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = str(os.getuid())
    return {"user": user, "via": "ci" if env.get("CI") else "local", "run": ""}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class RunFacts:
    """What the plugin knows about a run at its end, before it becomes a record."""

    environment: str
    production: bool
    version: str
    previous_version: str | None
    image: str | None
    kube_context: str | None
    namespace: str
    deployment: str
    change: str | None
    reason: str | None
    decision: str
    reasons: list[str]
    exit_status: int | None
    counts: dict[str, int]
    actions: list[dict[str, Any]]
    started_at: str
    finished_at: str
    approvals: dict[str, Any] | None = None
    args: list[str] | None = None
    run_id: str | None = None
    not_run: list[dict[str, Any]] | None = None  # checks selected but not run, each with its waiver if any


def facts_for(
    env: Any,
    *,
    decision: str,
    reasons: list[str],
    exit_status: int | None,
    started_at: str,
    environment_name: str = "",
    counts: dict[str, int] | None = None,
    change: str | None = None,
    actions: list[dict[str, Any]] | None = None,
    reason: str | None = None,
    approvals: dict[str, Any] | None = None,
    args: list[str] | None = None,
    run_id: str | None = None,
    not_run: list[dict[str, Any]] | None = None,
) -> RunFacts:
    """RunFacts from a loaded Environment (or None when it could not be loaded)."""
    kube = getattr(env, "kubernetes", None)
    release = getattr(env, "release", None)
    return RunFacts(
        environment=getattr(env, "name", None) or environment_name,
        production=bool(getattr(env, "production", False)),
        version=getattr(release, "version", "") or "",
        previous_version=getattr(release, "previous_version", None),
        image=getattr(release, "image", None),
        kube_context=(kube.context or kube.kubeconfig) if kube else None,
        namespace=kube.namespace if kube else "",
        deployment=kube.deployment if kube else "",
        change=change,
        reason=reason,
        decision=decision,
        reasons=reasons,
        exit_status=exit_status,
        counts=counts or {},
        actions=list(actions or []),
        started_at=started_at,
        finished_at=utc_now(),
        approvals=approvals,
        args=args,
        run_id=run_id,
        not_run=not_run,
    )


def record_command_run(
    path: Path,
    env: Any,
    safety: Any,
    *,
    decision: str,
    reasons: list[str],
    exit_status: int,
    started_at: str,
    reason: str | None = None,
    args: list[str] | None = None,
) -> dict[str, Any]:
    """One audit record for a run outside pytest (``goldgate watch``, a load run).

    ``safety`` is the run's :class:`goldgate.safety.SafetyPolicy`: its change ticket and
    every action it recorded go into the record. Returns the stored record.
    """
    facts = facts_for(
        env, decision=decision, reasons=reasons, exit_status=exit_status, started_at=started_at,
        change=getattr(safety, "change", None), actions=getattr(safety, "actions", []),
        reason=reason or os.environ.get("GOLDGATE_REASON"), args=args,
    )
    return append(path, build_record(facts))


def build_record(facts: RunFacts, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The §11.1 who/what/when/where/why/status record, redacted, without chain fields."""
    record = {
        "schema": SCHEMA,
        "run_id": facts.run_id or uuid.uuid4().hex,
        "who": actor(environ),
        "what": {"version": facts.version, "previous_version": facts.previous_version, "image": facts.image},
        "when": {"started": facts.started_at, "finished": facts.finished_at},
        "where": {
            "environment": facts.environment,
            "production": facts.production,
            "kube_context": facts.kube_context,
            "namespace": facts.namespace,
            "deployment": facts.deployment,
        },
        "why": {"change": facts.change, "reason": facts.reason, "approvals": facts.approvals},
        "status": {
            "decision": facts.decision,
            "pytest_exit_status": facts.exit_status,
            "counts": facts.counts,
            "reasons": facts.reasons[:20],
            "not_run": list(facts.not_run or [])[:50],
            "waivers": [e for e in (facts.not_run or []) if e.get("waiver")],
            "not_applicable": [e for e in (facts.not_run or []) if e.get("not_applicable") and not e.get("waiver")],
        },
        "actions": facts.actions,
        "args": facts.args or [],
    }
    return redact_obj(record)


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


# --------------------------------------------------------------------------- PostgreSQL
class PostgresAuditSink:
    """Copies each stored record into a PostgreSQL table, outside the runner's file system.

    The table keeps the chain fields as columns so a database-side query can check the
    chain too; ``record`` holds the full JSON document.
    """

    TABLE = "goldgate_audit"

    def __init__(self, url: str, *, table: str | None = None, connect_timeout_s: int = 5) -> None:
        table = table or self.TABLE
        if not table.replace("_", "").isalnum():
            raise ValueError(f"table name {table!r}: letters, digits and '_' only")
        self.url = url
        self.table = table
        self.connect_timeout_s = connect_timeout_s

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, connect_timeout=self.connect_timeout_s, autocommit=False)

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(table=sql.Identifier(self.table))

    def ensure_table(self, conn: Any) -> None:
        conn.execute(self._sql(
            "CREATE TABLE IF NOT EXISTS {table} ("
            " run_id text PRIMARY KEY,"
            " seq bigint NOT NULL,"
            " recorded_at timestamptz NOT NULL,"
            " environment text NOT NULL,"
            " version text,"
            " decision text NOT NULL,"
            " prev_hash char(64) NOT NULL,"
            " record_hash char(64) NOT NULL,"
            " record jsonb NOT NULL)"
        ))

    def write(self, stored: Mapping[str, Any]) -> None:
        with self._connect() as conn:
            self.ensure_table(conn)
            conn.execute(
                self._sql("INSERT INTO {table} (run_id, seq, recorded_at, environment, version, decision,"
                          " prev_hash, record_hash, record) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"),
                (
                    stored["run_id"], stored["seq"], stored["recorded_at"],
                    stored["where"]["environment"], stored["what"]["version"], stored["status"]["decision"],
                    stored["prev_hash"], stored["record_hash"], json.dumps(stored, default=str),
                ),
            )

    def read_all(self) -> list[dict[str, Any]]:
        with self._connect() as conn:
            rows = conn.execute(self._sql("SELECT record FROM {table} ORDER BY seq, recorded_at")).fetchall()
        return [row[0] for row in rows]
