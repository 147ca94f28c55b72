"""Coverage judged by counted lines, on what coverage.py writes in the test (``coverage
run`` + ``coverage xml`` + ``coverage json``), including a run that measured no line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldgate.criteria.checklist import coverage_above
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.coverage import read_cobertura, read_coverage, read_coverage_json
from goldgate.verdict import Status
from tests.artifacts.tools import PASSING, coverage_reports, tiny_project, write


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cov")
    return coverage_reports(tiny_project(root, PASSING), root)


def test_both_formats_count_the_same_lines(reports: tuple[Path, Path]) -> None:
    xml, js = (read_coverage(p) for p in reports)
    assert (xml.lines_covered, xml.lines_valid) == (js.lines_covered, js.lines_valid)
    # add and sub are covered; the body of unused() (3 statements) never runs
    assert (xml.lines_covered, xml.lines_valid) == (5, 8)
    assert xml.format == "cobertura" and js.format == "coverage.py json"
    assert xml.weakest_files[0][0].endswith("calc.py")


def test_a_breach_fails_with_value_and_threshold(reports: tuple[Path, Path]) -> None:
    for path in reports:
        s = read_coverage(path)
        verdict = coverage_above(s, 85)
        assert verdict.status is Status.FAIL, verdict.message()
        assert verdict.threshold == 85 and verdict.observed == round(s.percent, 2)
        assert f"{s.lines_covered}/{s.lines_valid} lines" in verdict.reason and "not above 85 %" in verdict.reason


def test_above_the_limit_passes(reports: tuple[Path, Path]) -> None:
    for path in reports:
        verdict = coverage_above(read_coverage(path), 50)
        assert verdict.status is Status.PASS, verdict.message()
        assert verdict.criterion == "code coverage above 50 %"


def test_a_run_that_measured_no_line_is_inconclusive_not_100(tmp_path: Path) -> None:
    """Only an empty package is measured: coverage.py writes line-rate="1" lines-valid="0"."""
    project = write(tmp_path / "p", {"emptypkg/__init__.py": "", "tests/test_x.py": "import emptypkg\n\n\ndef test_x():\n    pass\n"})
    xml, js = coverage_reports(project, tmp_path, source="emptypkg")
    assert 'line-rate="1"' in xml.read_text() and 'lines-valid="0"' in xml.read_text()
    assert json.loads(js.read_text())["totals"]["percent_covered"] == 100.0
    for path in (xml, js):
        verdict = coverage_above(read_coverage(path), 85)
        assert verdict.status is Status.INCONCLUSIVE, verdict.message()
        assert "0 lines valid" in verdict.reason


def test_the_summary_attribute_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "coverage.xml"
    path.write_text('<coverage line-rate="0.99" lines-valid="100" lines-covered="99"><packages><package name="p">'
                    '<classes><class name="a.py" filename="a.py" line-rate="0.99"><lines>'
                    '<line number="1" hits="1"/><line number="2" hits="0"/></lines></class>'
                    '<class name="a.py" filename="a.py"><lines><line number="2" hits="0"/></lines></class>'
                    '</classes></package></packages></coverage>')
    s = read_cobertura(path)
    assert (s.lines_covered, s.lines_valid, s.reported_rate) == (1, 2, 0.99)
    assert coverage_above(s, 85).observed == 50.0


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), -5.0, 101.0])
def test_an_unusable_limit_is_an_error(reports: tuple[Path, Path], limit: float) -> None:
    assert coverage_above(read_coverage(reports[0]), limit).status is Status.ERROR


@pytest.mark.parametrize(("name", "content", "cause"), [
    ("coverage.xml", b"<coverage line-rate='0.9'><packages>", "not valid Cobertura XML"),
    ("coverage.xml", b"<report/>", "not a Cobertura report"),
    ("coverage.xml", b"<coverage><packages><package><classes><class filename='a'><lines>"
                     b"<line number='x' hits='1'/></lines></class></classes></package></packages></coverage>",
     "is not a pair of integers"),
    ("coverage.json", b'{"runs": []}', "not a coverage.py JSON report"),
    ("coverage.json", b'{"meta": {"format": 3}, "files": {"a.py": {"executed_lines": "1"}}}', "executed_lines"),
    ("coverage.json", b'{"meta": ', "not valid JSON"),
    ("coverage.json", b'{"meta": "\xff"}', "cannot read coverage report"),
])
def test_malformed_reports_name_the_file(tmp_path: Path, name: str, content: bytes, cause: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ArtifactUnavailable, match=cause) as info:
        read_coverage(path)
    assert str(path) in str(info.value)


def test_json_reader_refuses_xml(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("<coverage/>")
    with pytest.raises(ArtifactUnavailable, match="not valid JSON"):
        read_coverage_json(path)
