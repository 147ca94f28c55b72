"""`goldgate verdict` exit codes and `goldgate report`'s messages when something is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldgate.cli import main


def _verdict(path: Path, decision: str) -> Path:
    reasons = [] if decision == "GO" else ["x: FAIL: error rate — observed 0.03 vs threshold 0.01"]
    path.write_text(json.dumps({"decision": decision, "environment": "staging", "version": "v1.2.0",
                                "reasons": reasons}))
    return path


@pytest.mark.parametrize(("decision", "code"), [("GO", 0), ("NO-GO", 1), ("ROLLBACK", 3)])
def test_verdict_exit_code_per_decision(tmp_path: Path, decision: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verdict", "--file", str(_verdict(tmp_path / "v.json", decision))]) == code
    assert capsys.readouterr().out.startswith(f"{decision}: staging v1.2.0")


def test_missing_or_broken_verdict_is_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verdict", "--file", str(tmp_path / "absent.json")]) == 2
    (tmp_path / "bad.json").write_text("{")
    assert main(["verdict", "--file", str(tmp_path / "bad.json")]) == 2
    (tmp_path / "odd.json").write_text('{"decision": "MAYBE"}')
    assert main(["verdict", "--file", str(tmp_path / "odd.json")]) == 2
    assert "no decision read" in capsys.readouterr().err


def test_report_without_results_says_how_to_get_them(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDGATE_ALLURE", "/bin/true")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--results", str(tmp_path / "none")]) == 2
    assert "run pytest with --alluredir=" in capsys.readouterr().err


def test_report_without_allure_says_how_to_install(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDGATE_ALLURE", str(tmp_path / "no-allure"))
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "goldgate report --install" in capsys.readouterr().err


def test_report_without_java_names_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    monkeypatch.setenv("GOLDGATE_ALLURE", "/bin/true")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["report", "--results", str(results), "--output", str(tmp_path / "out")]) == 2
    assert "apt-get install default-jre-headless" in capsys.readouterr().err


def test_pinned_allure_matches_the_lock_file() -> None:
    root = Path(__file__).resolve().parents[2] / "tools"
    pinned = json.loads((root / "package.json").read_text())["dependencies"]["allure-commandline"]
    lock = json.loads((root / "package-lock.json").read_text())
    assert pinned[0].isdigit(), "the Allure CLI must be pinned to an exact version"
    assert lock["packages"]["node_modules/allure-commandline"]["version"] == pinned
