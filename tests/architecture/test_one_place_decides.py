"""DESIGN.md "One place decides", checked on the source itself.

import-linter (``lint-imports`` in .ci/run, contracts in pyproject.toml) keeps the
package's import graph honest; these tests add what an import graph cannot see: outcome
constructions outside ``criteria/`` and standard-library I/O inside it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTORS = {"passed", "failed", "error", "inconclusive"}
IO_MODULES = {"subprocess", "socket", "http", "urllib", "requests", "urllib3", "aiohttp", "kubernetes",
              "sqlalchemy", "alembic", "psycopg", "hvac", "boto3", "botocore", "testinfra", "shutil"}


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _constructions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Name) and f.id == "Verdict") or (
                isinstance(f, ast.Attribute) and f.attr in CONSTRUCTORS
                and isinstance(f.value, ast.Name) and f.value.id == "Verdict"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_verdict_outcome_is_built_outside_criteria() -> None:
    outside = [p for p in _python_files("src/goldgate", "steps", "smoke", "load")
               if "criteria" not in p.relative_to(ROOT).parts and p.name != "verdict.py"]
    found = [hit for p in outside for hit in _constructions(p)]
    assert not found, f"{len(found)} verdict outcomes built outside criteria/: {found}"


def test_criteria_do_no_io() -> None:
    bad = []
    for path in _python_files("src/goldgate/criteria"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                    if n.split(".")[0] in IO_MODULES]
    assert not bad, bad
