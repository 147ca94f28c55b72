"""JUnit reports read by counting test cases: on what pytest itself writes (passing,
failing, skipped-only, empty), other tools' flavours, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldgate.criteria.checklist import all_tests_passed
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.junit import read_junit
from goldgate.verdict import Status
from tests.artifacts.tools import FAILING, PASSING, SKIPPED_ONLY, pytest_junit, tiny_project


def test_pytest_all_passing_is_a_pass(tmp_path: Path) -> None:
    report = read_junit(pytest_junit(tiny_project(tmp_path, PASSING), tmp_path / "junit.xml"))
    assert (report.tests, report.passed, report.failures, report.errors, report.skipped) == (2, 2, 0, 0, 0)
    verdict = all_tests_passed(report)
    assert verdict.status is Status.PASS, verdict.message()
    assert "2/2 passed" in str(verdict.observed)


def test_pytest_failing_test_fails_naming_it(tmp_path: Path) -> None:
    verdict = all_tests_passed(read_junit(pytest_junit(tiny_project(tmp_path, FAILING), tmp_path / "junit.xml")))
    assert verdict.status is Status.FAIL
    assert "test_add_wrong" in verdict.reason and "one plus two" in verdict.reason
    assert "1/2 passed, 1 failed" in str(verdict.observed) and "100 %" in str(verdict.threshold)


def test_pytest_skipped_only_is_inconclusive_not_zero_passed(tmp_path: Path) -> None:
    report = read_junit(pytest_junit(tiny_project(tmp_path, SKIPPED_ONLY), tmp_path / "junit.xml"))
    assert (report.tests, report.skipped, report.ran) == (2, 2, 0)
    verdict = all_tests_passed(report)
    assert verdict.status is Status.INCONCLUSIVE and "no test ran" in verdict.reason


def test_pytest_collecting_nothing_is_inconclusive(tmp_path: Path) -> None:
    project = tiny_project(tmp_path, {"tests/test_none.py": "x = 1\n"})
    verdict = all_tests_passed(read_junit(pytest_junit(project, tmp_path / "junit.xml")))
    assert verdict.status is Status.INCONCLUSIVE and "0 cases" in verdict.reason


def test_a_skip_beside_passes_is_not_counted_as_a_pass(tmp_path: Path) -> None:
    tests = {**PASSING, "tests/test_skip.py": "import pytest\n\n\n@pytest.mark.skip(reason='later')\ndef test_x():\n    pass\n"}
    verdict = all_tests_passed(read_junit(pytest_junit(tiny_project(tmp_path, tests), tmp_path / "junit.xml")))
    assert verdict.status is Status.PASS
    assert "2/2 passed" in str(verdict.observed) and "1 skipped" in str(verdict.observed)


def test_suite_attributes_are_not_trusted(tmp_path: Path) -> None:
    """A suite claiming ``tests=5 failures=0`` around one failing case is read by its cases."""
    path = tmp_path / "junit.xml"
    path.write_text('<testsuite name="s" tests="5" failures="0" errors="0" skipped="0">'
                    '<testcase classname="a" name="b"><failure message="boom"/></testcase></testsuite>')
    verdict = all_tests_passed(read_junit(path))
    assert verdict.status is Status.FAIL and "a::b failed: boom" in verdict.reason


def test_several_suites_and_nested_suites(tmp_path: Path) -> None:
    """surefire-style several suites under <testsuites>, a jest-junit style nested suite, an <error>."""
    path = tmp_path / "junit.xml"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4">
  <testsuite name="OrderServiceTest" tests="2">
    <testcase classname="com.bot.OrderServiceTest" name="fills" time="0.1"/>
    <testcase classname="com.bot.OrderServiceTest" name="rejects" time="0.1">
      <error type="java.lang.NullPointerException" message="null broker">stack</error>
    </testcase>
  </testsuite>
  <testsuite name="outer">
    <testcase classname="outer" name="one"/>
    <testsuite name="inner"><testcase classname="inner" name="two"><skipped/></testcase></testsuite>
  </testsuite>
</testsuites>""")
    report = read_junit(path)
    assert (report.tests, report.passed, report.errors, report.skipped, report.suites) == (4, 2, 1, 1, 2)
    verdict = all_tests_passed(report)
    assert verdict.status is Status.FAIL and "com.bot.OrderServiceTest::rejects error: null broker" in verdict.reason


@pytest.mark.parametrize(("content", "cause"), [
    (b"<testsuites><testcase name='a'", "not valid JUnit XML"),
    (b"<coverage line-rate='1'/>", r"not a JUnit report \(root element"),
    (b"<testsuite><testcase name='\xff\xfe'/></testsuite>", "not valid JUnit XML"),
    (b"", "not valid JUnit XML"),
])
def test_malformed_reports_name_the_file(tmp_path: Path, content: bytes, cause: str) -> None:
    path = tmp_path / "junit.xml"
    path.write_bytes(content)
    with pytest.raises(ArtifactUnavailable, match=cause) as info:
        read_junit(path)
    assert str(path) in str(info.value)


def test_missing_report_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnavailable, match="JUnit report not found"):
        read_junit(tmp_path / "nowhere.xml")


def test_cases_outside_any_suite_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites><testcase name="loose"><failure message="x"/></testcase>'
                    '<testsuite name="s"><testcase name="a"/></testsuite></testsuites>')
    report = read_junit(path)
    assert (report.tests, report.failures, report.suites) == (2, 1, 1)
    assert all_tests_passed(report).status is Status.FAIL
