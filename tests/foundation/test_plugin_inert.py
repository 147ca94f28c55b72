"""Installed in a team's venv, goldgate leaves that team's own pytest runs alone.

A throwaway project with its own tests (and a tests/conftest.py, the layout that made
other plugins misbehave) is run with the venv's pytest, where goldgate's plugin is
registered through its entry point: nothing is required, written or started unless the
run selects goldgate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def team_project(tmp_path: Path) -> Path:
    root = tmp_path / "payments-service"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n", encoding="utf-8")
    (root / "tests" / "conftest.py").write_text("import pytest\n\n@pytest.fixture\ndef amount():\n    return 42\n",
                                                 encoding="utf-8")
    (root / "tests" / "test_app.py").write_text("def test_amount(amount):\n    assert amount == 42\n", encoding="utf-8")
    return root


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts}


def test_the_teams_own_run_is_untouched(team_project: Path) -> None:
    before = _files(team_project)
    result = _pytest(team_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "= goldgate =" not in result.stdout and "decision:" not in result.stdout
    assert "goldgate" not in result.stderr
    assert _files(team_project) == before, "goldgate wrote files into the team's project"


def test_the_plugin_is_loaded_but_its_options_are_optional(team_project: Path) -> None:
    result = _pytest(team_project, "--help")
    assert result.returncode == 0
    assert "--env=" in result.stdout and "--goldgate" in result.stdout


@pytest.mark.parametrize("opt_in", [["--env=local"], ["--goldgate"]])
def test_an_explicit_opt_in_selects_goldgate(team_project: Path, opt_in: list[str]) -> None:
    result = _pytest(team_project, *opt_in)
    assert result.returncode == 4
    assert "unknown environment 'local'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_rootdir_configuration_selects_goldgate(team_project: Path) -> None:
    ini = team_project / "pyproject.toml"
    ini.write_text(ini.read_text(encoding="utf-8") + "goldgate = true\n", encoding="utf-8")
    result = _pytest(team_project)
    assert result.returncode == 4
    assert "unknown environment 'local'" in result.stderr
