"""Guide lines a run earned: verdict.json's ``guide_lines`` and ``guide_coverage.py --check-verdict``.

README's coverage table says which lines are measured; a run only earns that when the
scenarios ran and their verdicts were measured. Built on hand-made verdict documents and a
small YAML, plus one tiny Gherkin run that shows the plugin records each test's scenario.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from goldgate.report import guide_lines as gl
from goldgate.report.session import RunContext, summary_lines

ROOT = Path(__file__).resolve().parents[2]

COVERAGE = """\
- id: §1.1/1
  text: All tests passing
  checks:
  - 'checklist/code_readiness.feature: All tests pass'
  provenance: measured
- id: §1.1/2
  text: Code coverage >85%
  checks:
  - 'checklist/code_readiness.feature: Code coverage is above 85 %'
  - 'checklist/code_readiness.feature: Coverage report is fresh'
  provenance: measured
- id: §1.1/4
  text: Code review approved (2+ reviewers)
  checks:
  - 'checklist/operational_readiness.feature: The change is approved by two reviewers'
  provenance: declared
  why: release.yaml's approvals
- id: §1.1/7
  text: Documentation updated
  checks:
  - 'documentation/release_documentation.feature: The CHANGELOG has an entry for the release'
  provenance: partly measured
  why: the CHANGELOG entry only
- id: §8.3/4
  text: 'Network: Network I/O'
  checks: []
  provenance: not checked
  why: no check reads it
"""

TABLE = {"measured": 2, "partly measured": 1, "declared": 1, "not checked": 1}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guide_coverage", ROOT / "scripts" / "guide_coverage.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("guide_coverage", module)
    spec.loader.exec_module(module)
    return module


gc = _load_script()


def _test(scenario: str, nodeid: str, *provenances: str, outcome: str = "passed", **extra: Any) -> dict[str, Any]:
    return {"nodeid": nodeid, "outcome": outcome, "message": extra.pop("message", ""), "scenario": scenario,
            "criteria": [{"criterion": f"c{i}", "status": "PASS", "provenance": p} for i, p in enumerate(provenances)],
            **extra}


def _all_ran() -> list[dict[str, Any]]:
    return [
        _test("checklist/code_readiness.feature: All tests pass",
              "features/checklist/test_checklist.py::test_all_tests_pass", "measured"),
        _test("checklist/code_readiness.feature: Code coverage is above 85 %",
              "features/checklist/test_checklist.py::test_code_coverage_is_above_85_", "measured"),
        _test("checklist/code_readiness.feature: Coverage report is fresh",
              "features/checklist/test_checklist.py::test_coverage_report_is_fresh", "measured", "declared"),
        _test("checklist/operational_readiness.feature: The change is approved by two reviewers",
              "features/checklist/test_checklist.py::test_the_change_is_approved_by_two_reviewers", "declared"),
        _test("documentation/release_documentation.feature: The CHANGELOG has an entry for the release",
              "features/documentation/test_documentation.py::test_the_changelog_has_an_entry_for_the_release",
              "measured"),
    ]


@pytest.fixture
def coverage(tmp_path: Path) -> Path:
    path = tmp_path / "guide_coverage.yaml"
    path.write_text(COVERAGE, encoding="utf-8")
    return path


@pytest.fixture
def verdict(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    def _write(tests: list[dict[str, Any]]) -> Path:
        path = tmp_path / "verdict.json"
        path.write_text(json.dumps({"schema": "goldgate.verdict/1", "decision": "GO", "tests": tests}), encoding="utf-8")
        return path
    return _write


def _earned(coverage: Path, tests: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    block = gl.guide_lines_block({"tests": tests}, coverage)
    return {line["id"]: line for line in block["lines"]}


# ----------------------------------------------------------------------------- the rollup
def test_everything_ran_the_totals_are_the_tables(coverage: Path) -> None:
    block = gl.guide_lines_block({"tests": _all_ran()}, coverage)
    assert block["totals"] == block["table_totals"] == TABLE
    assert block["differ"] == []


def test_a_line_whose_scenario_did_not_run_is_not_checked(coverage: Path) -> None:
    tests = [t for t in _all_ran() if "All tests pass" not in t["scenario"]]
    line = _earned(coverage, tests)["§1.1/1"]
    assert (line["table"], line["earned"]) == ("measured", "not checked")
    assert "All tests pass: not in this run" in line["reason"]


def test_a_skipped_or_waived_scenario_is_not_checked_and_says_so(coverage: Path) -> None:
    tests = _all_ran()
    tests[0] = {**tests[0], "outcome": "skipped", "criteria": [], "message": "no JUnit report",
                "waiver": {"reason": "x", "approver": "a", "expiry": "2099-01-01"}}
    line = _earned(coverage, tests)["§1.1/1"]
    assert line["earned"] == "not checked"
    assert "waived: no JUnit report" in line["reason"]


def test_a_measured_line_decided_by_a_declared_verdict_is_declared(coverage: Path) -> None:
    tests = _all_ran()
    tests[0]["criteria"] = [{"criterion": "c", "status": "PASS", "provenance": "declared"}]
    line = _earned(coverage, tests)["§1.1/1"]
    assert (line["table"], line["earned"]) == ("measured", "declared")
    assert "decided by declared verdicts only" in line["reason"]


def test_one_of_two_scenarios_missing_leaves_a_measured_line_partly_measured(coverage: Path) -> None:
    tests = [t for t in _all_ran() if "fresh" not in t["scenario"]]
    assert _earned(coverage, tests)["§1.1/2"]["earned"] == "partly measured"


def test_a_line_never_earns_more_than_its_table(coverage: Path) -> None:
    """A partly measured line whose verdicts are all measured stays partly measured: the
    table's "partly" is about how much of the line the check covers."""
    assert _earned(coverage, _all_ran())["§1.1/7"]["earned"] == "partly measured"


def test_a_scenario_that_ran_without_a_verdict_decided_nothing(coverage: Path) -> None:
    tests = _all_ran()
    tests[0]["criteria"] = []
    assert _earned(coverage, tests)["§1.1/1"]["earned"] == "not checked"


def test_without_recorded_scenarios_tests_are_matched_by_their_pytest_bdd_name(coverage: Path) -> None:
    """Verdict files written before tests carried their scenario: pytest-bdd's function
    name in the feature's folder, outlines' parameters and numbered duplicates included."""
    tests = [{k: v for k, v in t.items() if k != "scenario"} for t in _all_ran()]
    tests[0]["nodeid"] += "[first example]"
    tests[1]["nodeid"] = tests[1]["nodeid"] + "_1"
    block = gl.guide_lines_block({"tests": tests}, coverage)
    assert block["totals"] == TABLE
    elsewhere = [{**t, "nodeid": t["nodeid"].replace("features/checklist/", "features/recovery/")} for t in tests]
    assert _earned(coverage, elsewhere)["§1.1/1"]["earned"] == "not checked"


def test_the_summary_line_states_the_totals_and_the_lines_below_the_table(coverage: Path) -> None:
    block = gl.guide_lines_block({"tests": _all_ran()[1:]}, coverage)
    text = gl.summary_text(block)
    assert text.startswith("guide lines: 1 measured, 1 partly measured, 1 declared, 2 not checked of 5 guide lines")
    assert "1 below README's table: §1.1/1" in text
    ctx = RunContext(started_at="", started_epoch=0.0, verdict_path=Path("reports/verdict.json"), audit_path=None,
                     postgres_ref=None, reason=None, decision="GO", provenance={"measured": 3, "declared": 1},
                     guide_lines=block)
    lines = summary_lines(ctx)
    evidence = next(i for i, line in enumerate(lines) if line.startswith("  evidence:"))
    assert lines[evidence + 1] == f"  {text}"


@pytest.mark.parametrize("body", ["- id: [unclosed\n", "{}\n", "- id: §1.1/1\n  text: x\n  provenance: sometimes\n"])
def test_a_bad_yaml_is_one_line_in_the_verdict_file(tmp_path: Path, body: str) -> None:
    path = tmp_path / "guide_coverage.yaml"
    path.write_text(body, encoding="utf-8")
    block = gl.guide_lines_block({"tests": []}, path)
    assert set(block) == {"error"} and "\n" not in block["error"] and str(path) in block["error"]
    assert gl.summary_text(block).startswith("guide lines: not rolled up: ")


def test_a_missing_yaml_is_one_line_in_the_verdict_file(tmp_path: Path) -> None:
    block = gl.guide_lines_block({"tests": []}, tmp_path / "nowhere.yaml")
    assert block["error"].startswith(f"{tmp_path / 'nowhere.yaml'}: cannot read the guide coverage")


def test_the_packaged_yaml_is_found_and_rolls_up() -> None:
    block = gl.guide_lines_block({"tests": []})
    assert "error" not in block, block
    assert block["totals"]["not checked"] == sum(block["table_totals"].values())


# ----------------------------------------------------------------------------- --check-verdict
def test_check_verdict_passes_and_prints_both_totals(coverage: Path, verdict: Callable[..., Path],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gc, "COVERAGE_FILE", coverage)
    assert gc.main(["--check-verdict", str(verdict(_all_ran()))]) == 0
    out = capsys.readouterr().out.splitlines()
    want = "2 measured, 1 partly measured, 1 declared, 1 not checked of 5 guide lines"
    assert out == [f"README's table: {want}", f"this run ({coverage.parent / 'verdict.json'}): {want}"]


def test_check_verdict_names_each_line_below_the_table(coverage: Path, verdict: Callable[..., Path],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gc, "COVERAGE_FILE", coverage)
    tests = _all_ran()[1:]
    tests[-1]["criteria"] = [{"criterion": "c", "status": "PASS", "provenance": "declared"}]
    assert gc.main(["--check-verdict", str(verdict(tests))]) == 1
    out = capsys.readouterr().out
    assert "§1.1/1: README says measured, the run earned not checked: " in out
    assert "§1.1/7: README says partly measured, the run earned declared: " in out
    assert "this run (" in out and "0 measured" not in out.splitlines()[-2]


@pytest.mark.parametrize("content, expected", [
    (None, "cannot read the verdict file"),
    ("{not json", "line 1: not valid JSON"),
    ('{"decision": "GO"}', "tests: expected a verdict file with a list of tests"),
    ('{"tests": [1]}', "tests: every entry must be an object"),
])
def test_check_verdict_on_a_bad_verdict_file_is_one_line_exit_2(
        coverage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        content: str | None, expected: str) -> None:
    monkeypatch.setattr(gc, "COVERAGE_FILE", coverage)
    path = tmp_path / "verdict.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert gc.main(["--check-verdict", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and str(path) in err and "Traceback" not in err


def test_check_verdict_with_a_bad_yaml_is_one_line_exit_2(tmp_path: Path, verdict: Callable[..., Path],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  text: y\n", encoding="utf-8")
    monkeypatch.setattr(gc, "COVERAGE_FILE", bad)
    assert gc.main(["--check-verdict", str(verdict([]))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs id, text and provenance" in err


MAIN_JOB = Path(__file__).parent / "data" / "main_job_tests.json"


def test_a_main_job_run_earns_the_table_but_for_the_scenario_it_predates() -> None:
    """The ``tests`` of a real main-job run (GO with 1 waiver), trimmed to node id, outcome
    and verdict provenance: it names no scenarios (it predates them), so matching falls back
    to pytest-bdd's names, and only the lines of scenarios added after that run (the A/B flag
    split, the network I/O baseline) are missing."""
    tests = json.loads(MAIN_JOB.read_text(encoding="utf-8"))
    block = gl.rollup(gc.load_coverage(), {"tests": tests})
    below = {line["id"]: line["reason"] for line in block["lines"] if line["earned"] != line["table"]}
    assert set(below) <= {"§4.2/2", "§8.3/4"}, below


# ----------------------------------------------------------------------------- the plugin
FEATURE = """\
Feature: Code readiness
  Scenario: All tests pass
    Then the release's tests pass
"""

STEPS = '''
from pytest_bdd import then
from goldgate.verdict import Evidence, Verdict, expect


@then("the release's tests pass")
def _tests_pass():
    expect(Verdict.passed("all tests passed", 17, 17, evidence=Evidence("junit", "junit.xml", 17, 17)))
'''


def test_the_verdict_file_records_each_tests_scenario_and_its_guide_lines(
        gg_project: Callable[..., pytest.Pytester]) -> None:
    p = gg_project()
    ini = p.path / "tox.ini" if (p.path / "tox.ini").exists() else p.path / "pytest.ini"
    ini.write_text(ini.read_text(encoding="utf-8").rstrip("\n") + "\nbdd_features_base_dir = features\n", encoding="utf-8")
    folder = p.path / "features" / "checklist"
    folder.mkdir(parents=True)
    (folder / "code_readiness.feature").write_text(FEATURE, encoding="utf-8")
    (folder / "test_checklist.py").write_text('from pytest_bdd import scenarios\n\nscenarios("checklist")\n',
                                             encoding="utf-8")
    p.makeconftest(textwrap.dedent(STEPS))
    result = p.runpytest()
    doc = json.loads((p.path / "reports" / "verdict.json").read_text(encoding="utf-8"))
    assert [t.get("scenario") for t in doc["tests"]] == ["checklist/code_readiness.feature: All tests pass"]
    lines = {line["id"]: line for line in doc["guide_lines"]["lines"]}
    assert lines["§1.1/1"]["earned"] == "measured"
    assert doc["guide_lines"]["totals"]["not checked"] > 100
    assert any(line.startswith("  guide lines: 3 measured, ") for line in result.outlines), result.outlines[-8:]


def test_goldgate_verdict_prints_the_guide_lines_beside_the_evidence(
        coverage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from goldgate.cli import main

    doc = {"decision": "GO", "decision_text": "GO", "environment": "local", "version": "v1", "reasons": [],
           "provenance": {"measured": 4, "declared": 1, "passed": {"measured": 4, "declared": 1}},
           "tests": _all_ran()}
    doc["guide_lines"] = gl.guide_lines_block(doc, coverage)
    path = tmp_path / "verdict.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["verdict", "--file", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    evidence = next(i for i, line in enumerate(out) if line.startswith("  evidence:"))
    assert out[evidence + 1] == ("  guide lines: 2 measured, 1 partly measured, 1 declared, 1 not checked "
                                 "of 5 guide lines (as README's table)")
