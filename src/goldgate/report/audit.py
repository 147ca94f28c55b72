"""The deployment audit trail of guide §11.1: one hash-chained record per run.

``reports/audit.jsonl`` gets one JSON line per goldgate run — who ran it, what version,
when, where (environment, cluster context, namespace), why (change ticket, reason), the
decision, and every mutating action the safety policy recorded. Each line carries

* ``seq`` — its position, 1, 2, 3 …, so a removed or reordered line shows as a gap or a step back;
* ``prev_hash`` — the SHA-256 of the previous line's exact bytes, chaining the log;
* ``record_hash`` — the SHA-256 of its own canonical content, so an edit of the last line
  (which no later line protects) shows too.

The file, its chain and its check live in :mod:`goldgate.audit_trail` (the ground floor,
where probes read the trail as evidence); this module builds the records and keeps the
store's names importable. A chain only proves the file is consistent with itself;
anchoring it elsewhere — the CI artifact of each run, or the optional PostgreSQL table
(:class:`PostgresAuditSink`) — is what proves nobody rewrote it whole.
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate.audit_trail import (  # the trail's store: kept importable from here for the writers
    GENESIS,
    LOG_SIZE_FACTOR,
    Problem,
    append,
    line_hash,
    read_log_bytes,
    read_records,
    record_hash,
    utc_now,
    verify,
)
from goldgate.report.redact import redact_obj

SCHEMA = "goldgate.audit/1"

__all__ = ["GENESIS", "LOG_SIZE_FACTOR", "SCHEMA", "PostgresAuditSink", "Problem", "RunFacts", "actor", "append",
           "build_record", "facts_for", "line_hash", "read_log_bytes", "read_records", "record_command_run",
           "record_hash", "utc_now", "verify"]


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
