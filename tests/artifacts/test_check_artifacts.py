"""``goldgate check artifacts``: every file recognised by its content and judged, on
reports made in the test by pytest, coverage.py and bandit; exit codes as policy tools
give them; unusable files are ERROR findings naming the file; a missing path is one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from goldgate.checks.artifacts import GUIDE_MIN_COVERAGE
from goldgate.cli import main
from tests.artifacts.tools import (
    FAILING,
    PASSING,
    coverage_reports,
    pytest_junit,
    run_tool,
    tiny_project,
    write,
)


@pytest.fixture(scope="module")
def ci(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CI artifacts folder as a pipeline leaves it."""
    root = tmp_path_factory.mktemp("ci")
    project = tiny_project(root, PASSING)
    out = root / "artifacts"
    out.mkdir()
    pytest_junit(project, out / "junit.xml")
    coverage_reports(project, out)
    run_tool([sys.executable, "-m", "bandit", "-q", "-r", "tinypkg", "-f", "sarif", "-o", str(out / "bandit.sarif")],
             project, ok=(0, 1))
    (out / "requirements.lock").write_text("requests==2.32.3\nidna==3.10\n")
    (out / "package.json").write_text('{"name": "dashboard"}')  # not an artifact: skipped when a folder is given
    return out


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", "artifacts", *args])
    return code, capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code, out = _check(capsys, "--format", "json", *args)
    return code, json.loads(out)


def test_default_minimum_is_the_guides() -> None:
    assert GUIDE_MIN_COVERAGE == 85  # guide §1.1 "Code coverage >85%"


def test_a_healthy_folder_passes_every_rule(ci: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = _json(capsys, str(ci), "--min-coverage", "50")
    by_file = {Path(f["file"]).name: f for f in findings}
    assert set(by_file) == {"junit.xml", "coverage.xml", "coverage.json", "bandit.sarif", "requirements.lock"}
    assert {f["status"] for f in findings} == {"PASS"}, findings
    assert by_file["junit.xml"]["rule"] == "junit.all-tests-passed" and code == 0


def test_coverage_below_the_guides_minimum_fails_with_both_numbers(ci: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, str(ci / "coverage.xml"), str(ci / "coverage.json"))
    assert code == 1
    assert out.count("FAIL coverage.line-coverage") == 2 and "observed 62.5, expected 85" in out
    assert "5/8 lines" in out


def test_fail_on_lowers_the_severity_that_fails(ci: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"app/a.py": "import subprocess\n"})
    run_tool([sys.executable, "-m", "bandit", "-q", "-r", "app", "-f", "sarif", "-o", "low.sarif"], tmp_path, ok=(0, 1))
    assert _check(capsys, str(tmp_path / "low.sarif"))[0] == 0
    code, out = _check(capsys, str(tmp_path / "low.sarif"), "--fail-on", "low")
    assert code == 1 and "LOW B404 at app/a.py:1" in out


def test_failing_tests_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = pytest_junit(tiny_project(tmp_path, FAILING), tmp_path / "junit.xml")
    code, out = _check(capsys, str(report))
    assert code == 1 and "FAIL junit.all-tests-passed" in out and "test_add_wrong" in out


@pytest.mark.parametrize(("name", "content", "cause"), [
    ("junit.xml", b"<testsuites><testsuite><testcase", "not valid JUnit XML"),
    ("report.xml", b"<html><body/></html>", "XML root <html> is neither JUnit"),
    ("latin1.xml", b"<testsuite><testcase name='caf\xe9'/></testsuite>", "not valid JUnit XML"),
    ("scan.json", b'{"results": []}', "neither SARIF"),
    ("scan.sarif", b'{"runs": [', "not valid JSON"),
    ("scan.sarif", b'{"runs": ["\xff"]}', "not UTF-8"),
    ("notes.txt", b"hello", "neither XML nor JSON"),
])
def test_unusable_files_are_errors_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   name: str, content: bytes, cause: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, findings = _json(capsys, str(path))
    assert code == 2 and len(findings) == 1
    assert findings[0]["status"] == "ERROR" and findings[0]["file"] == str(path)
    assert cause in findings[0]["message"] and str(path) in findings[0]["message"]


def test_empty_reports_are_inconclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.sarif").write_text('{"version": "2.1.0", "runs": []}')
    (tmp_path / "junit.xml").write_text('<testsuite name="s" tests="0"/>')
    code, findings = _json(capsys, str(tmp_path / "empty.sarif"), str(tmp_path / "junit.xml"))
    assert code == 2 and [f["status"] for f in findings] == ["INCONCLUSIVE", "INCONCLUSIVE"]


def test_a_missing_path_is_one_line_without_traceback(tmp_path: Path) -> None:
    goldgate = shutil.which("goldgate", path=str(Path(sys.executable).parent))
    assert goldgate
    proc = subprocess.run([goldgate, "check", "artifacts", str(tmp_path / "nowhere.xml")], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"goldgate check artifacts: {tmp_path / 'nowhere.xml'}: no such file or folder"


def test_a_folder_without_artifacts_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("x")
    code = main(["check", "artifacts", str(tmp_path)])
    assert code == 2 and "no JUnit, coverage, SARIF or lock file" in capsys.readouterr().err


def test_sarif_output_is_sarif(ci: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, "--format", "sarif", str(ci / "coverage.xml"))
    doc = json.loads(out)
    assert code == 1 and doc["runs"][0]["results"][0]["ruleId"] == "coverage.line-coverage"
