"""SARIF judged by runs that executed and findings by severity: on what bandit writes in
the test (``bandit -f sarif``), on a Semgrep-shaped document, on empty and failed runs,
and on files that are not SARIF."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from goldgate.criteria.checklist import no_findings_at_or_above
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.sarif import read_sarif
from goldgate.verdict import Status
from tests.artifacts.tools import run_tool, write

WEAK = {"app/fingerprint.py": """
    import hashlib


    def fingerprint(text):
        return hashlib.md5(text.encode()).hexdigest()
    """}
CLEAN = {"app/calc.py": "def add(a, b):\n    return a + b\n"}


def bandit(root: Path, target: str, out: Path) -> Path:
    run_tool([sys.executable, "-m", "bandit", "-q", "-r", target, "-f", "sarif", "-o", str(out)], root, ok=(0, 1))
    return out


def test_bandit_high_finding_fails_naming_rule_and_line(tmp_path: Path) -> None:
    report = read_sarif(bandit(write(tmp_path, WEAK), "app", tmp_path / "bandit.sarif"))
    assert [(f.rule, f.severity) for f in report.findings] == [("B324", "high")]
    verdict = no_findings_at_or_above(report, "high")
    assert verdict.status is Status.FAIL and verdict.observed == 1 and verdict.threshold == 0
    assert "HIGH B324 at app/fingerprint.py:5" in verdict.reason
    assert no_findings_at_or_above(report, "critical").status is Status.PASS


def test_bandit_clean_scan_passes(tmp_path: Path) -> None:
    report = read_sarif(bandit(write(tmp_path, CLEAN), "app", tmp_path / "bandit.sarif"))
    verdict = no_findings_at_or_above(report, "high")
    assert verdict.status is Status.PASS and "1 runs executed, 0 findings" in verdict.reason


def test_bandit_low_severity_from_its_properties_not_its_level(tmp_path: Path) -> None:
    """bandit writes level "note" for LOW; its ``issue_severity`` is what is read."""
    report = read_sarif(bandit(write(tmp_path, {"app/a.py": "import subprocess\n"}), "app", tmp_path / "b.sarif"))
    assert [(f.rule, f.severity) for f in report.findings] == [("B404", "low")]
    assert no_findings_at_or_above(report, "low").status is Status.FAIL


def test_bandit_on_a_missing_target_is_an_error_not_zero_findings(tmp_path: Path) -> None:
    """bandit says executionSuccessful: true but records the missing target as an error notification."""
    report = read_sarif(bandit(tmp_path, "no-such-dir", tmp_path / "bandit.sarif"))
    verdict = no_findings_at_or_above(report, "high")
    assert verdict.status is Status.ERROR
    assert f"{tmp_path / 'bandit.sarif'} run 0 (Bandit)" in verdict.reason and "No such file" in verdict.reason


def _sarif(tmp_path: Path, doc: dict, name: str = "scan.sarif") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_no_runs_is_inconclusive_naming_the_file(tmp_path: Path) -> None:
    path = _sarif(tmp_path, {"version": "2.1.0", "runs": []})
    verdict = no_findings_at_or_above(read_sarif(path), "high")
    assert verdict.status is Status.INCONCLUSIVE and str(path) in verdict.reason and '"runs" is empty' in verdict.reason


def test_a_run_that_did_not_execute_is_an_error_naming_its_index(tmp_path: Path) -> None:
    ok = {"tool": {"driver": {"name": "Bandit"}}, "invocations": [{"executionSuccessful": True}], "results": []}
    failed = {"tool": {"driver": {"name": "Semgrep OSS"}}, "results": [],
              "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
                  {"level": "error", "message": {"text": "invalid rule config"}}]}]}
    path = _sarif(tmp_path, {"version": "2.1.0", "runs": [ok, failed]})
    verdict = no_findings_at_or_above(read_sarif(path), "high")
    assert verdict.status is Status.ERROR
    assert f"{path} run 1 (Semgrep OSS): invocations[0].executionSuccessful is false: invalid rule config" in verdict.reason


def test_semgrep_shaped_sarif(tmp_path: Path) -> None:
    """Semgrep is not installed here (its wheel pins versions that conflict with this venv):
    this document is written from Semgrep's documented ``--sarif`` output — severity as the
    rule's ``defaultConfiguration.level`` (ERROR→error, WARNING→warning, INFO→note), a result
    ``level`` where given, ``nosemgrep`` as an in-source suppression, and the run's
    ``invocations[].executionSuccessful``."""
    rule = "python.lang.security.audit.formatted-sql-query.formatted-sql-query"
    doc = {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
            "tool": {"driver": {"name": "Semgrep OSS", "semanticVersion": "1.95.0", "rules": [
                {"id": rule, "name": rule, "defaultConfiguration": {"level": "error"},
                 "properties": {"precision": "very-high", "tags": ["CWE-89", "security"]},
                 "shortDescription": {"text": "SQL injection"}},
                {"id": "python.lang.best-practice.open-never-closed", "defaultConfiguration": {"level": "note"},
                 "properties": {"precision": "very-high", "tags": []}},
                {"id": "python.lang.correctness.useless-eqeq", "defaultConfiguration": {"level": "warning"}}]}},
            "results": [
                {"ruleId": rule, "message": {"text": "Detected possible formatted SQL query"}, "properties": {},
                 "fingerprints": {"matchBasedId/v1": "ab12"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
                                                     "region": {"startLine": 12, "startColumn": 5}}}]},
                {"ruleId": rule, "message": {"text": "suppressed one"}, "suppressions": [{"kind": "inSource"}],
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/db.py"}, "region": {"startLine": 30}}}]},
                {"ruleId": "python.lang.best-practice.open-never-closed", "message": {"text": "file never closed"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/io.py"}, "region": {"startLine": 3}}}]},
                {"ruleId": "python.lang.correctness.useless-eqeq", "level": "warning", "message": {"text": "x == x"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/calc.py"}, "region": {"startLine": 7}}}]},
            ],
        }],
    }
    report = read_sarif(_sarif(tmp_path, doc, "semgrep.sarif"))
    assert [f.severity for f in report.findings] == ["high", "low", "medium"] and report.suppressed == 1
    verdict = no_findings_at_or_above(report, "high")
    assert verdict.status is Status.FAIL and f"HIGH {rule} at app/db.py:12" in verdict.reason
    assert "suppressed" not in verdict.reason and verdict.observed == 1
    assert no_findings_at_or_above(report, "critical").status is Status.PASS


def test_numeric_security_severity_wins(tmp_path: Path) -> None:
    doc = {"runs": [{"tool": {"driver": {"name": "CodeQL", "rules": [
        {"id": "py/sqli", "properties": {"security-severity": "9.1"}}]}},
        "results": [{"ruleId": "py/sqli", "level": "note", "properties": {"issue_severity": "LOW"}, "message": {"text": "x"}}]}]}
    assert read_sarif(_sarif(tmp_path, doc)).findings[0].severity == "critical"


def test_an_unknown_severity_is_an_error(tmp_path: Path) -> None:
    report = read_sarif(bandit(write(tmp_path, CLEAN), "app", tmp_path / "bandit.sarif"))
    assert no_findings_at_or_above(report, "severe").status is Status.ERROR


def test_no_report_at_all_is_inconclusive() -> None:
    assert no_findings_at_or_above([], "high").status is Status.INCONCLUSIVE


@pytest.mark.parametrize(("content", "cause"), [
    (b'{"version": "2.1.0", "runs": [', "not valid JSON"),
    (b'{"meta": {"format": 3}, "files": {}}', 'not a SARIF document'),
    (b'[1, 2]', 'not a SARIF document'),
    (b'{"runs": "\xff"}', "cannot read SARIF report"),
])
def test_malformed_reports_name_the_file(tmp_path: Path, content: bytes, cause: str) -> None:
    path = tmp_path / "x.sarif"
    path.write_bytes(content)
    with pytest.raises(ArtifactUnavailable, match=cause) as info:
        read_sarif(path)
    assert str(path) in str(info.value)
