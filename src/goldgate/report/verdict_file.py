"""reports/verdict.json: the one file a CI stage reads for GO / NO-GO / ROLLBACK.

The decision is derived, never asserted: GO only when tests ran and every one of them
passed; ROLLBACK when a criterion of guide §6.1 (a verdict marked ``rollback``) failed;
NO-GO for everything else — a breached gate, a probe that could not measure, too little
data, a suite defect, or nothing run at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.verdict import Status, Verdict


@dataclass
class TestRecord:
    nodeid: str
    outcome: str = "passed"  # passed | failed | error | skipped
    verdicts: list[Verdict] = field(default_factory=list)
    message: str = ""


@dataclass
class VerdictCollector:
    """Gathers every verdict of a session, keyed by the test that produced it."""

    tests: dict[str, TestRecord] = field(default_factory=dict)

    def record(self, nodeid: str) -> TestRecord:
        return self.tests.setdefault(nodeid, TestRecord(nodeid))

    def decision(self) -> tuple[str, list[str]]:
        ran = [t for t in self.tests.values() if t.outcome != "skipped"]
        reasons: list[str] = []
        rollback = False
        for t in ran:
            for v in t.verdicts:
                if v.status is not Status.PASS:
                    reasons.append(f"{t.nodeid}: {v.message()}")
                    rollback = rollback or (v.status is Status.FAIL and v.rollback)
            if t.outcome != "passed" and not any(v.status is not Status.PASS for v in t.verdicts):
                reasons.append(f"{t.nodeid}: {t.outcome}: {t.message or 'no verdict recorded'}")
        if not ran:
            return "NO-GO", ["no check ran: no data is never a pass"]
        if rollback:
            return "ROLLBACK", reasons
        if reasons:
            return "NO-GO", reasons
        return "GO", []


SCHEMA = "goldgate.verdict/1"


def evidence_summary(verdict: Verdict) -> str:
    """All of a verdict's evidence in one line, ``; ``-separated (what a reader re-runs)."""
    return "; ".join(ev.summary() for ev in verdict.evidence)


def criteria_rows(collector: VerdictCollector) -> list[dict[str, Any]]:
    """Every criterion judged in the run, flat: what a CI stage or dashboard tabulates."""
    rows = []
    for t in collector.tests.values():
        for v in t.verdicts:
            d = v.to_dict()
            rows.append({
                "test": t.nodeid,
                "criterion": v.criterion,
                "status": v.status.value,
                "value": d["observed"],
                "threshold": d["threshold"],
                "unit": v.unit,
                "rollback": v.rollback,
                "reason": v.reason,
                "evidence": evidence_summary(v),
            })
    return rows


def count_outcomes(collector: VerdictCollector) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in collector.tests.values():
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    return counts


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Redact, then write-then-rename: a reader never sees half a verdict, nor a secret."""
    from goldgate.report.redact import redact_obj

    doc = redact_obj(json.loads(json.dumps(doc, default=str)))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".verdict-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str)
        fh.write("\n")
    os.replace(tmp, path)


def write_refusal(path: Path, reason: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A run stopped before any test (bad environment, refused change) is a NO-GO on file.

    Without this a pipeline could read the GO a previous run left behind.
    """
    doc = {
        "schema": SCHEMA,
        "decision": "NO-GO",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **meta,
        "refused": True,
        "counts": {},
        "reasons": [reason],
        "criteria": [],
        "tests": [],
    }
    write_json_atomic(path, doc)
    return doc


def write_verdict_file(path: Path, collector: VerdictCollector, meta: dict[str, Any]) -> dict[str, Any]:
    decision, reasons = collector.decision()
    exit_status = meta.get("pytest_exit_status")
    if decision == "GO" and exit_status not in (None, 0):
        # Interrupted, collection errors, internal error: every test that ran passed, but
        # not every test ran.
        decision, reasons = "NO-GO", [f"pytest exited with status {exit_status}: the run did not complete"]
    doc = {
        "schema": SCHEMA,
        "decision": decision,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **meta,
        "counts": count_outcomes(collector),
        "reasons": reasons,
        "criteria": criteria_rows(collector),
        "tests": [
            {
                "nodeid": t.nodeid,
                "outcome": t.outcome,
                "message": t.message,
                "criteria": [v.to_dict() for v in t.verdicts],
            }
            for t in collector.tests.values()
        ],
    }
    write_json_atomic(path, doc)
    return doc
