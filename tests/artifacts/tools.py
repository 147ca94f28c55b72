"""Helpers (plain functions, no fixtures) that make real CI artifacts inside the test: pytest's JUnit, coverage.py's
XML and JSON, bandit's SARIF, pip-compile's hashed requirements, promtool's runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOL_TIMEOUT_S = 120


def run_tool(args: list[str], cwd: Path, *, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run a real tool of the venv; fail the test with its output if it exits unexpectedly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_", "GOLDGATE_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the venv's plugins are not the tiny project's
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False, env=env)
    if proc.returncode not in ok:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


#: a tiny package with three functions, one of them never called by the tests below
PACKAGE = {
    "tinypkg/__init__.py": "",
    "tinypkg/calc.py": """
        def add(a, b):
            return a + b


        def sub(a, b):
            return a - b


        def unused(a):
            if a:
                return a * 2
            return 0
        """,
}
PASSING = {"tests/test_calc.py": """
    from tinypkg.calc import add, sub


    def test_add():
        assert add(1, 2) == 3


    def test_sub():
        assert sub(3, 2) == 1
    """}
FAILING = {"tests/test_calc.py": """
    from tinypkg.calc import add


    def test_add():
        assert add(1, 2) == 3


    def test_add_wrong():
        assert add(1, 2) == 4, "one plus two"
    """}
SKIPPED_ONLY = {"tests/test_calc.py": """
    import pytest


    @pytest.mark.skip(reason="needs the broker")
    def test_add():
        pass


    @pytest.mark.skipif(True, reason="not on this platform")
    def test_sub():
        pass
    """}


def tiny_project(root: Path, tests: dict[str, str], name: str = "project") -> Path:
    """A throwaway project under ``root``: the package plus the given test files."""
    return write(root / name, {**PACKAGE, **tests})


def pytest_junit(project: Path, out: Path, *extra: str) -> Path:
    """Run the project's tests under real pytest, writing ``out`` (exit 0, 1 and 5 are reports)."""
    run_tool([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={out}", *extra, "tests"],
             project, ok=(0, 1, 5))
    return out


def coverage_reports(project: Path, out: Path, source: str = "tinypkg", tests: str = "tests") -> tuple[Path, Path]:
    """``coverage run -m pytest`` then ``coverage xml`` and ``coverage json``: the two reports."""
    data = out / ".coverage"
    env_file = ["--data-file", str(data)]
    run_tool([sys.executable, "-m", "coverage", "run", *env_file, f"--source={source}", "-m", "pytest", "-q",
              "-p", "no:cacheprovider", tests], project, ok=(0, 1, 5))
    xml, js = out / "coverage.xml", out / "coverage.json"
    run_tool([sys.executable, "-m", "coverage", "xml", *env_file, "-o", str(xml)], project)
    run_tool([sys.executable, "-m", "coverage", "json", *env_file, "-o", str(js)], project)
    return xml, js
