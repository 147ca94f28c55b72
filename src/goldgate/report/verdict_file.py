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


def write_verdict_file(path: Path, collector: VerdictCollector, meta: dict[str, Any]) -> dict[str, Any]:
    decision, reasons = collector.decision()
    counts: dict[str, int] = {}
    for t in collector.tests.values():
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    doc = {
        "decision": decision,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **meta,
        "counts": counts,
        "reasons": reasons,
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
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write-then-rename: a reader never sees half a verdict.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".verdict-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str)
        fh.write("\n")
    os.replace(tmp, path)
    return doc
