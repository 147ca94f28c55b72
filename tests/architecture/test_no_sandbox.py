"""DESIGN.md (sandbox): "The library cannot tell it from a cluster", checked on the source.

The import-linter contract "the library does not know the sandbox" (pyproject.toml, run by
.ci/run) sees imports; it cannot see a branch on ``kubeconfig == "sandbox"`` or a module
name in a string. This test reads every line of src/goldgate, steps and smoke outside
src/goldgate/sandbox/ that names the sandbox and allows only the wiring listed below.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("src/goldgate", "steps", "smoke")
SANDBOX_PACKAGE = ROOT / "src" / "goldgate" / "sandbox"
#: The same pattern as the issue's grep: an is_sandbox branch, an import, the value, a constant.
NAMES_THE_SANDBOX = re.compile(r'is_sandbox|goldgate\.sandbox|from \.sandbox|"sandbox"|SANDBOX')

#: (file, line without surrounding blanks) → why it may stay.
ALLOWED = {
    ("src/goldgate/cli.py", '"goldgate.sandbox.cli",'):
        "the CLI routes `goldgate sandbox` by the module's name (imported by importlib, absent when not installed)",
    ("src/goldgate/clients/settings.py",
     'kubeconfig: str = Field("sandbox", description="\'sandbox\', \'in-cluster\', or a kubeconfig path")'):
        "the environment file's value; the sandbox pytest plugin resolves it before any probe reads it",
    ("src/goldgate/clients/settings.py", "def is_sandbox(self) -> bool:"):
        "read only by the two validation rules of goldgate.config",
    ("src/goldgate/clients/settings.py", 'return self.kubeconfig == "sandbox"'):
        "the property behind the two validation rules",
    ("src/goldgate/config.py", "if self.production and self.kubernetes.is_sandbox:"):
        "validation of the file: production cannot target the sandbox",
    ("src/goldgate/config.py", "if self.rehearsals and (self.production or not self.kubernetes.is_sandbox):"):
        "validation of the file: rehearsals plant faults, only on the sandbox",
}


def _lines_naming_the_sandbox() -> list[tuple[str, int, str]]:
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts or path.is_relative_to(SANDBOX_PACKAGE):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if NAMES_THE_SANDBOX.search(line):
                    found.append((str(path.relative_to(ROOT)), number, line.strip()))
    return found


def test_only_the_plugin_wiring_names_the_sandbox() -> None:
    found = _lines_naming_the_sandbox()
    unexpected = [f"{path}:{number}: {line}" for path, number, line in found if (path, line) not in ALLOWED]
    assert not unexpected, ("outside src/goldgate/sandbox/ these lines name the sandbox; express what they "
                            "depend on in environment terms (or resolve it in goldgate.sandbox.pytest_plugin):\n"
                            + "\n".join(unexpected))
    assert len(found) <= len(ALLOWED), found


def test_the_allowed_lines_still_exist() -> None:
    """A stale entry would allow that line to come back unnoticed elsewhere in the file."""
    present = {(path, line) for path, _, line in _lines_naming_the_sandbox()}
    assert set(ALLOWED) <= present, sorted(set(ALLOWED) - present)


def test_the_sandbox_plugin_is_loaded_by_the_root_conftest_only() -> None:
    conftest = (ROOT / "conftest.py").read_text(encoding="utf-8")
    plugins = re.search(r"pytest_plugins = \[\s*\"([^\"]+)\"", conftest)
    assert plugins is not None and plugins.group(1) == "goldgate.sandbox.pytest_plugin", "first entry"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    entry_points = pyproject.split("[project.entry-points.pytest11]", 1)[-1].split("\n[", 1)[0]
    assert "goldgate.sandbox" not in entry_points, "a team's venv must never load the sandbox plugin"
