"""reports/verdict.json: the one file a CI stage reads for GO / NO-GO / ROLLBACK.

The decision is derived, never asserted: GO only when every selected check ran and
passed, or did not run under a waiver of the environment or because the environment
declares it not applicable to the service (``not_applicable:``); ROLLBACK when a criterion of
guide §6.1 (a verdict marked ``rollback``) failed; NO-GO for everything else — a breached
gate, a probe that could not measure, too little data, a check that did not run, a suite
defect (a check that ended without a verdict), or nothing run at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.report.guide_lines import guide_lines_block
from goldgate.verdict import PROVENANCES, Status, Verdict


@dataclass
class TestRecord:
    nodeid: str
    outcome: str = "passed"  # passed | failed | error | skipped
    verdicts: list[Verdict] = field(default_factory=list)
    message: str = ""
    waiver: dict[str, str] | None = None  # the environment's waiver covering this check if it does not run
    not_applicable: dict[str, str] | None = None  # the environment's not_applicable entry for this check
    scenario: str = ""  # "<feature file>: <scenario>" as docs/guide_coverage.yaml names it; "" outside features

    def not_run_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"test": self.nodeid, "reason": self.message or "skipped"}
        if self.waiver is not None:
            entry["waiver"] = dict(self.waiver)
        if self.not_applicable is not None:
            entry["not_applicable"] = dict(self.not_applicable)
        return entry

    @property
    def excused(self) -> bool:
        """Not run, and the environment says why that is no gap: a waiver or not applicable."""
        return self.waiver is not None or self.not_applicable is not None


@dataclass
class VerdictCollector:
    """Gathers every verdict of a session, keyed by the test that produced it."""

    tests: dict[str, TestRecord] = field(default_factory=dict)
    waivers: dict[str, dict[str, str]] = field(default_factory=dict)  # node id → the waiver covering it
    not_applicable: dict[str, dict[str, str]] = field(default_factory=dict)  # node id → its not_applicable entry

    def record(self, nodeid: str) -> TestRecord:
        if nodeid not in self.tests:
            self.tests[nodeid] = TestRecord(nodeid, waiver=self.waivers.get(nodeid),
                                            not_applicable=self.not_applicable.get(nodeid))
        return self.tests[nodeid]

    def not_run(self) -> list[TestRecord]:
        return [t for t in self.tests.values() if t.outcome == "skipped"]

    def waived(self) -> list[TestRecord]:
        return [t for t in self.not_run() if t.waiver is not None]

    def inapplicable(self) -> list[TestRecord]:
        return [t for t in self.not_run() if t.not_applicable is not None and t.waiver is None]

    def decision(self) -> tuple[str, list[str]]:
        ran = [t for t in self.tests.values() if t.outcome != "skipped"]
        reasons: list[str] = [f"{t.nodeid}: NOT RUN: {t.message or 'skipped'} (a check that did not run is not a pass)"
                              for t in self.not_run() if not t.excused]
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

    def provenance_counts(self) -> dict[str, Any]:
        """How many verdicts rest on measurements and how many on declarations, and of the
        PASSes: a GO whose passes are mostly declared is a different GO (README "Provenance")."""
        counts: dict[str, Any] = dict.fromkeys(PROVENANCES, 0)
        passed: dict[str, int] = dict.fromkeys(PROVENANCES, 0)
        for t in self.tests.values():
            for v in t.verdicts:
                counts[v.provenance] = counts.get(v.provenance, 0) + 1
                if v.status is Status.PASS:
                    passed[v.provenance] = passed.get(v.provenance, 0) + 1
        counts["passed"] = passed
        return counts

    def decision_text(self) -> str:
        """The decision as a person reads it: "GO with 2 waivers" keeps the waivers in sight."""
        decision, _ = self.decision()
        return decision + decision_suffix(len(self.waived()), len(self.inapplicable()))


def decision_suffix(waived: int, inapplicable: int) -> str:
    """" with 2 waivers, 1 check not applicable": what the decision rests on besides the checks run."""
    parts = [f"{waived} waiver{'s' if waived != 1 else ''}"] if waived else []
    if inapplicable:
        parts.append(f"{inapplicable} check{'s' if inapplicable != 1 else ''} not applicable")
    return f" with {', '.join(parts)}" if parts else ""


def not_applicable_line(entry: dict[str, Any]) -> str:
    """One line for a check the environment declares not applicable (terminal, ``goldgate verdict``)."""
    na = entry.get("not_applicable") or {}
    approved = (f" (approved by {na.get('approver')}, expires {na.get('expiry')})"
                if na.get("approver") else "")
    return f"  not applicable: {entry.get('test')} — {na.get('reason')}{approved}"


SCHEMA = "goldgate.verdict/1"


def provenance_text(counts: dict[str, Any]) -> str:
    """``12 verdicts measured, 3 declared (passes: 11 measured, 2 declared)``."""
    passed = counts.get("passed") or {}
    return (f"{counts.get('measured', 0)} verdicts measured, {counts.get('declared', 0)} declared "
            f"(passes: {passed.get('measured', 0)} measured, {passed.get('declared', 0)} declared)")


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
                "provenance": v.provenance,
                "reason": v.reason,
                "evidence": evidence_summary(v),
            })
    return rows


def count_outcomes(collector: VerdictCollector) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in collector.tests.values():
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    return counts


def test_entries(collector: VerdictCollector) -> list[dict[str, Any]]:
    """verdict.json's ``tests``: each check, its outcome and scenario, its verdicts."""
    return [
        {
            "nodeid": t.nodeid,
            "outcome": t.outcome,
            "message": t.message,
            **({"scenario": t.scenario} if t.scenario else {}),
            **({"waiver": dict(t.waiver)} if t.waiver else {}),
            **({"not_applicable": dict(t.not_applicable)} if t.not_applicable else {}),
            "criteria": [v.to_dict() for v in t.verdicts],
        }
        for t in collector.tests.values()
    ]


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
        "decision_text": "NO-GO",
        "counts": {},
        "provenance": {},
        "reasons": [reason],
        "criteria": [],
        "not_run": [],
        "waivers": [],
        "not_applicable": [],
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
        "decision_text": collector.decision_text() if decision == collector.decision()[0] else decision,
        "counts": count_outcomes(collector),
        "provenance": collector.provenance_counts(),
        "reasons": reasons,
        "criteria": criteria_rows(collector),
        "not_run": [t.not_run_entry() for t in collector.not_run()],
        "waivers": [t.not_run_entry() for t in collector.waived()],
        "not_applicable": [t.not_run_entry() for t in collector.inapplicable()],
        "tests": test_entries(collector),
    }
    doc["guide_lines"] = guide_lines_block(doc)
    write_json_atomic(path, doc)
    return doc


# ----------------------------------------------------------------------------- reading
DECISIONS = ("GO", "NO-GO", "ROLLBACK")


class VerdictFileError(ValueError):
    """A verdict file that does not validate: no decision may be read from it."""


def read_verdict_file(path: Path) -> dict[str, Any]:
    """The verdict file at ``path`` when it validates, else :class:`VerdictFileError` in one line.

    A pipeline acts on what ``goldgate verdict`` prints, so a damaged or hand-edited file
    must not yield a decision: every field a reader uses is type-checked, and a GO that
    carries reasons or criteria that did not pass contradicts itself and is refused too.
    """
    from goldgate import safeload

    try:
        doc = safeload.load_json(path)
    except safeload.LoadError as exc:
        raise VerdictFileError(str(exc)) from None
    problems = verdict_problems(doc)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise VerdictFileError(f"{path}: {problems[0]}{more}")
    return doc


def _typed(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], label: str) -> list[str]:
    value = doc.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return []
    return [f"{key}: expected {label}, got {type(value).__name__}"]


def verdict_problems(doc: Any) -> list[str]:
    """``field: problem`` for everything in a parsed verdict file that a reader cannot trust."""
    if not isinstance(doc, dict):
        return [f"(top level): expected a JSON object, got {type(doc).__name__}"]
    decision = doc.get("decision")
    if decision not in DECISIONS:
        return [f"decision: expected one of {', '.join(DECISIONS)}, got {str(decision)[:40]!r}"]
    out: list[str] = []
    if doc.get("schema") is not None and doc["schema"] != SCHEMA:
        out.append(f"schema: expected {SCHEMA!r}, got {str(doc['schema'])[:40]!r}")
    for key in ("decision_text", "environment", "version", "generated_at"):
        out += _typed(doc, key, str, "a string")
    text = doc.get("decision_text")
    if isinstance(text, str) and text.split(" ", 1)[0] != decision:
        out.append(f"decision_text: {text[:40]!r} does not state the decision {decision}")
    out += _typed(doc, "counts", dict, "an object")
    for key in ("reasons", "criteria", "not_run", "waivers", "tests"):
        items = doc.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            out.append(f"{key}: expected a list, got {type(items).__name__}")
            continue
        want = str if key == "reasons" else dict
        for i, item in enumerate(items):
            if not isinstance(item, want):
                out.append(f"{key}[{i}]: expected {'a string' if want is str else 'an object'}, "
                           f"got {type(item).__name__}")
                break
            if key == "waivers" and not isinstance(item.get("waiver", {}), dict):
                out.append(f"waivers[{i}].waiver: expected an object, got {type(item['waiver']).__name__}")
                break
    if decision == "GO" and not out:
        if doc.get("reasons"):
            out.append(f"reasons: a GO with {len(doc['reasons'])} reason(s) against it contradicts itself")
        failing = [c for c in doc.get("criteria") or [] if c.get("status") != Status.PASS.value]
        if failing:
            out.append(f"criteria: a GO with {len(failing)} criteria not PASS contradicts itself")
    return out
