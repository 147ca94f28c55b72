"""Findings of ``goldgate check …`` and how they are shown: text, JSON, SARIF; exit codes.

A finding is one rule judged on one object (a workload's container, a migration
revision, a report file). The verdict inside it comes from ``criteria/``; this module
only renders. Exit codes follow the policy tools' convention: 0 every rule PASS, 1 any
FAIL, 2 no FAIL but some ERROR or INCONCLUSIVE (or nothing judged at all).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import goldgate
from goldgate.verdict import Status, Verdict

FORMATS = ("text", "json", "sarif")


class CheckInputError(Exception):
    """The command cannot start (no such path, unknown --env): the message says what and where.

    A file that exists but is malformed is not this: it is an ERROR finding naming the file.
    """


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one object, located so a reader can open the file at that spot."""

    file: str
    rule: str
    verdict: Verdict | None  # None: the rule did not run (``not_run`` says why)
    document: int | None = None  # index of the YAML document in a multi-document file
    kind: str = ""
    name: str = ""
    container: str = ""
    field: str = ""  # field path inside the document, e.g. spec.template.spec.containers[0]
    not_run: str = ""  # why a rule that was asked for could not be run (e.g. no --models)

    @property
    def status(self) -> Status | None:
        return self.verdict.status if self.verdict is not None else None

    def where(self) -> str:
        bits = [self.file + (f"#{self.document}" if self.document is not None else "")]
        if self.kind or self.name:
            bits.append(f"{self.kind}/{self.name}".strip("/"))
        if self.container:
            bits.append(f"container {self.container}")
        if self.field:
            bits.append(self.field)
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        if self.verdict is None:
            return {"file": self.file, "document": self.document, "kind": self.kind, "name": self.name,
                    "container": self.container, "field": self.field, "rule": self.rule,
                    "status": "NOT RUN", "observed": None, "expected": None, "message": self.not_run}
        d = self.verdict.to_dict()
        return {
            "file": self.file,
            "document": self.document,
            "kind": self.kind,
            "name": self.name,
            "container": self.container,
            "field": self.field,
            "rule": self.rule,
            "status": self.verdict.status.value,
            "observed": d["observed"],
            "expected": d["threshold"],
            "message": self.verdict.reason or self.verdict.message(),
        }


def exit_code(findings: Sequence[Finding]) -> int:
    """NOT RUN rules (optional inputs not given) are listed but do not change the code."""
    judged = [f for f in findings if f.verdict is not None]
    if any(f.status is Status.FAIL for f in judged):
        return 1
    if not judged or any(f.status is not Status.PASS for f in judged):
        return 2
    return 0


def render(findings: Sequence[Finding], fmt: str, *, tool: str, verbose: bool = False) -> str:
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2, default=str)
    if fmt == "sarif":
        return json.dumps(_sarif(findings, tool), indent=2, default=str)
    return _text(findings, verbose=verbose)


def _text(findings: Sequence[Finding], *, verbose: bool) -> str:
    lines = []
    for f in findings:
        if f.status is Status.PASS and not verbose:
            continue
        d = f.to_dict()
        lines.append(f"{d['status']} {f.rule}: {f.where()}: observed {d['observed']}, "
                     f"expected {d['expected']} — {d['message']}")
    counts = {s.value: sum(1 for f in findings if f.status is s) for s in Status}
    counts["NOT RUN"] = sum(1 for f in findings if f.verdict is None)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing judged"
    lines.append(f"{len(findings)} findings: {summary}")
    return "\n".join(lines)


_LEVEL = {Status.FAIL: "error", Status.ERROR: "error", Status.INCONCLUSIVE: "warning", Status.PASS: "none"}


def _sarif(findings: Sequence[Finding], tool: str) -> dict[str, Any]:
    rules = sorted({f.rule for f in findings})
    results = []
    for f in findings:
        if f.verdict is None or f.verdict.status is Status.PASS:
            continue
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": f.file}}}
        logical = "/".join(x for x in (f.kind, f.name, f.container, f.field) if x)
        if logical:
            location["logicalLocations"] = [{"fullyQualifiedName": logical}]
        results.append({
            "ruleId": f.rule,
            "level": _LEVEL[f.verdict.status],
            "kind": "fail" if f.verdict.status is Status.FAIL else "review",
            "message": {"text": f"{f.verdict.status.value}: {f.to_dict()['message']}"},
            "locations": [location],
            "properties": {"status": f.verdict.status.value, "document": f.document},
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": f"goldgate {tool}", "version": goldgate.__version__,
                                "rules": [{"id": r} for r in rules]}},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }
