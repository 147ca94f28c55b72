"""SARIF 2.1.0 reports from any scanner (bandit ``-f sarif``, Semgrep ``--sarif``, CodeQL,
Trivy...): which runs executed, and every finding with one severity.

A run counts as a scan only when it executed: ``invocations[].executionSuccessful`` is
not false and no notification of level ``error`` says the tool could not read its input
or configuration (bandit reports a missing target that way and still writes
``executionSuccessful: true``). A document with ``"runs": []`` scanned nothing. Neither
case may read as "0 findings"; the run's index and tool are kept so the verdict can say
which.

Severity, first rule that applies (documented in README "Checking CI artifacts"):

1. a numeric ``security-severity`` on the result's or the rule's properties (the
   code-scanning convention: >= 9 critical, >= 7 high, >= 4 medium, else low);
2. the scanner's own word in the result's or rule's properties — bandit's
   ``issue_severity`` (HIGH/MEDIUM/LOW) or a ``severity`` property; Semgrep's words
   map ERROR→high, WARNING→medium, INFO→low;
3. the SARIF ``level`` of the result, else the rule's ``defaultConfiguration.level``,
   else SARIF's default ``warning`` — Semgrep's way: error→high, warning→medium,
   note→low, none→note.

Results whose ``kind`` says they are not problems (pass, notApplicable, informational),
suppressed results (``suppressions`` not rejected) and ``baselineState: absent`` are not
findings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

SEVERITIES = ("critical", "high", "medium", "low", "note")
_LEVEL = {"error": "high", "warning": "medium", "note": "low", "none": "note"}
_WORD = {"critical": "critical", "high": "high", "error": "high", "medium": "medium", "moderate": "medium",
         "warning": "medium", "low": "low", "info": "low", "informational": "low", "note": "note"}
_NOT_A_PROBLEM = {"pass", "notApplicable", "informational"}


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    message: str
    file: str
    line: int | None

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class SarifRun:
    index: int
    tool: str
    results: int
    problem: str = ""  # why this run is not a scan that executed ("" when it is)


@dataclass(frozen=True)
class SarifReport:
    path: str
    runs: list[SarifRun] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0

    @property
    def executed_runs(self) -> list[SarifRun]:
        return [r for r in self.runs if not r.problem]


def _from_score(score: Any) -> str | None:
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    if value != value:  # NaN
        return None
    if value >= 9:
        return "critical"
    if value >= 7:
        return "high"
    return "medium" if value >= 4 else "low"


def _props(obj: dict[str, Any]) -> dict[str, Any]:
    props = obj.get("properties")
    return props if isinstance(props, dict) else {}


def _severity(result: dict[str, Any], rule: dict[str, Any]) -> str:
    sources = (_props(result), _props(rule))
    for props in sources:
        sev = _from_score(props.get("security-severity"))
        if sev:
            return sev
    for props in sources:
        word = str(props.get("issue_severity") or props.get("severity") or "").lower()
        if word in _WORD:
            return _WORD[word]
    default = rule.get("defaultConfiguration") if isinstance(rule.get("defaultConfiguration"), dict) else {}
    level = result.get("level") or default.get("level") or "warning"
    return _LEVEL.get(str(level), "medium")


def _run_problem(run: dict[str, Any]) -> str:
    invocations = run.get("invocations") or []
    if not isinstance(invocations, list):
        return "invocations is not a list"
    for i, inv in enumerate(invocations):
        if not isinstance(inv, dict):
            return f"invocations[{i}] is not an object"
        notes = [*(inv.get("toolExecutionNotifications") or []), *(inv.get("toolConfigurationNotifications") or [])]
        errors = [str((n.get("message") or {}).get("text") or "?") for n in notes
                  if isinstance(n, dict) and n.get("level") == "error"]
        if inv.get("executionSuccessful") is False:
            return f"invocations[{i}].executionSuccessful is false" + (f": {'; '.join(errors[:3])}" if errors else "")
        if errors:
            return f"invocations[{i}] reports errors: {'; '.join(errors[:3])}"
    if not isinstance(run.get("results"), list):
        return "no results array (SARIF: results not computed)"
    return ""


def _suppressed(result: dict[str, Any]) -> bool:
    sup = result.get("suppressions")
    return isinstance(sup, list) and any(isinstance(s, dict) and s.get("status") != "rejected" for s in sup)


def read_sarif(path: Path) -> SarifReport:
    text = read_text(path, "SARIF report")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ArtifactUnavailable(path, f"not a SARIF document: not valid JSON: {exc}") from None
    if not is_sarif(doc):
        raise ArtifactUnavailable(path, "not a SARIF document (no \"runs\" list)")
    runs: list[SarifRun] = []
    findings: list[Finding] = []
    suppressed = 0
    for index, run in enumerate(doc["runs"]):
        if not isinstance(run, dict):
            runs.append(SarifRun(index, "?", 0, "run is not an object"))
            continue
        driver = (run.get("tool") or {}).get("driver") or {}
        tool = str(driver.get("name", "?"))
        rules = {r.get("id"): r for r in driver.get("rules") or [] if isinstance(r, dict)}
        results = [r for r in run.get("results") or [] if isinstance(r, dict)]
        runs.append(SarifRun(index, tool, len(results), _run_problem(run)))
        for res in results:
            if res.get("kind") in _NOT_A_PROBLEM or res.get("baselineState") == "absent":
                continue
            if _suppressed(res):
                suppressed += 1
                continue
            rule = rules.get(res.get("ruleId"), {})
            loc = ((res.get("locations") or [{}])[0] or {}).get("physicalLocation") or {}
            uri = str((loc.get("artifactLocation") or {}).get("uri", "?"))
            findings.append(Finding(
                tool=tool,
                rule=str(res.get("ruleId", "?")),
                severity=_severity(res, rule),
                message=str((res.get("message") or {}).get("text") or "").strip()[:200],
                file=uri.removeprefix("file://"),
                line=(loc.get("region") or {}).get("startLine"),
            ))
    return SarifReport(str(path), runs, findings, suppressed)


def is_sarif(doc: Any) -> bool:
    """A SARIF log: a JSON object whose ``runs`` is a list (the one required member besides version)."""
    return isinstance(doc, dict) and isinstance(doc.get("runs"), list)
