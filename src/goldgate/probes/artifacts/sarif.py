"""SARIF 2.1.0 reports from any scanner (bandit ``-f sarif``, CodeQL, Semgrep, Trivy...).

Severity is read the way code-scanning services read it: a rule's or result's numeric
``security-severity`` (>= 9 critical, >= 7 high) when present, else the scanner's own
severity property (bandit's ``issue_severity``), else the SARIF ``level`` (error = high).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

SEVERITIES = ("critical", "high", "medium", "low", "note")
_LEVEL = {"error": "high", "warning": "medium", "note": "low", "none": "note"}


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


def _from_score(score: Any) -> str | None:
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    if value >= 9:
        return "critical"
    if value >= 7:
        return "high"
    return "medium" if value >= 4 else "low"


def _severity(result: dict[str, Any], rule: dict[str, Any]) -> str:
    props = result.get("properties") or {}
    for source in (props, rule.get("properties") or {}):
        sev = _from_score(source.get("security-severity"))
        if sev:
            return sev
    own = str(props.get("issue_severity") or props.get("severity") or "").lower()
    if own in SEVERITIES:
        return own
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    return _LEVEL.get(level, "medium")


def read_sarif(path: Path) -> list[Finding]:
    text = read_text(path, "SARIF report")
    try:
        doc = json.loads(text)
        runs = doc["runs"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactUnavailable(path, f"not a SARIF document: {exc}") from None
    findings = []
    for run in runs:
        driver = (run.get("tool") or {}).get("driver") or {}
        rules = {r.get("id"): r for r in driver.get("rules") or []}
        for res in run.get("results") or []:
            rule = rules.get(res.get("ruleId"), {})
            loc = ((res.get("locations") or [{}])[0]).get("physicalLocation") or {}
            uri = (loc.get("artifactLocation") or {}).get("uri", "?")
            findings.append(Finding(
                tool=driver.get("name", "?"),
                rule=str(res.get("ruleId", "?")),
                severity=_severity(res, rule),
                message=((res.get("message") or {}).get("text") or "").strip()[:200],
                file=uri.removeprefix("file://"),
                line=(loc.get("region") or {}).get("startLine"),
            ))
    return findings
