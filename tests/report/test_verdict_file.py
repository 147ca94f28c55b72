"""reports/verdict.json and reports/junit.xml from real pytest runs of synthetic checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.report.conftest import read_json

Project = Callable[..., pytest.Pytester]


def test_all_passing_is_go(gg_project: Project) -> None:
    p = gg_project("passing")
    result = p.runpytest()
    assert result.ret == 0
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "GO"
    assert doc["reasons"] == []
    assert doc["environment"] == "local"
    assert doc["version"] == "v9.9.9"
    assert doc["pytest_exit_status"] == 0
    [row] = doc["criteria"]
    assert row["status"] == "PASS"
    assert row["value"] == 0.002
    assert row["threshold"] == 0.01
    assert "prometheus" in row["evidence"] and "1200 samples" in row["evidence"]


def test_breach_is_no_go_with_value_and_threshold(gg_project: Project) -> None:
    p = gg_project("passing", "breach")
    result = p.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*= goldgate =*", "decision: NO-GO — */reports/verdict.json",
                                 "  test_breach.py::test_p95_latency: FAIL: p95 latency — observed 812 ms*",
                                 "audit record #1 in */reports/audit.jsonl"])
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    [reason] = doc["reasons"]
    assert "p95 latency" in reason and "812 ms" in reason and "500 ms" in reason
    breach = next(r for r in doc["criteria"] if r["status"] == "FAIL")
    assert (breach["value"], breach["threshold"], breach["unit"]) == (812.0, 500.0, "ms")
    assert "400 samples" in breach["evidence"]


def test_rollback_criterion_is_rollback(gg_project: Project) -> None:
    p = gg_project("passing", "breach", "rollback")
    assert p.runpytest().ret == 1
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "ROLLBACK"
    assert any("0.034" in r and "0.01" in r for r in doc["reasons"])


@pytest.mark.parametrize("check", ["error", "inconclusive"])
def test_unmeasured_is_no_go_and_a_junit_error(gg_project: Project, check: str) -> None:
    p = gg_project("passing", check)
    result = p.runpytest()
    assert result.ret == 1
    result.assert_outcomes(passed=1, errors=1)
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert sorted(r["status"] for r in doc["criteria"]) == sorted(["PASS", check.upper()])
    suite = ET.parse(p.path / "reports" / "junit.xml").getroot().find("testsuite")  # noqa: S314 - written by the run above
    assert suite is not None
    assert (suite.get("errors"), suite.get("failures")) == ("1", "0")
    [error] = suite.iter("error")
    assert f"{check.upper()}: error rate" in error.get("message", "")


def test_junit_written_by_default_with_verdict_properties(gg_project: Project) -> None:
    p = gg_project("passing", "breach")
    p.runpytest()
    root = ET.parse(p.path / "reports" / "junit.xml").getroot()  # noqa: S314 - written by the run above
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("errors") == "0"
    props = {prop.get("name"): prop.get("value") for prop in root.iter("property")}
    assert "812 ms vs threshold 500 ms" in props["goldgate.FAIL"]
    assert props["goldgate.PASS"].startswith("PASS: error rate")


def test_explicit_junitxml_path_is_kept(gg_project: Project) -> None:
    p = gg_project("passing")
    p.runpytest("--junitxml=out/j.xml")
    assert (p.path / "out" / "j.xml").is_file()
    assert not (p.path / "reports" / "junit.xml").exists()


def test_nothing_ran_is_no_go(gg_project: Project) -> None:
    p = gg_project()
    p.makepyfile(test_empty="import pytest\n\n@pytest.mark.skip(reason='not here')\ndef test_skipped():\n    pass\n")
    p.runpytest()
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert "no check ran" in doc["reasons"][0]


def test_stale_go_is_replaced_by_refusal(gg_project: Project) -> None:
    """A run stopped before any test must not leave the previous run's GO for CI to read."""
    p = gg_project("passing")
    assert p.runpytest().ret == 0
    assert read_json(p.path / "reports" / "verdict.json")["decision"] == "GO"
    result = p.runpytest("--env=nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert doc["refused"] is True
    assert "unknown environment 'nowhere'" in doc["reasons"][0]


def test_interrupted_run_is_not_go(gg_project: Project) -> None:
    p = gg_project("passing")
    p.makepyfile(test_zz_stop="import pytest\n\ndef test_stop():\n    pytest.exit('operator stopped the run', returncode=2)\n")
    p.runpytest()
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert "did not complete" in doc["reasons"][0]


def test_verdict_file_can_be_disabled(gg_project: Project) -> None:
    p = gg_project("passing")
    p.runpytest("--verdict-file=")
    assert not (p.path / "reports" / "verdict.json").exists()


def test_junit_finalize_leaves_a_file_it_cannot_parse(tmp_path: Path) -> None:
    from goldgate.report import junit

    broken = tmp_path / "junit.xml"
    broken.write_text("<testsuites><testsuite")
    assert junit.finalize(broken) == 0
    assert broken.read_text() == "<testsuites><testsuite"
    assert junit.finalize(tmp_path / "absent.xml") == 0
