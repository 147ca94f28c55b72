"""README's guide coverage table tells the truth: every guide line listed, every check real.

The table (generated from ``docs/guide_coverage.yaml`` by ``scripts/guide_coverage.py``) is
what a reviewer reads to know which lines of the deployment guide a GO rests on. It is only
worth reading if it cannot drift: a guide line missing, a scenario renamed, a line called
*measured* whose scenarios are decided by a criterion registered ``provenance=DECLARED``.
Which declared criteria a scenario's steps call is read statically: the step functions of
``steps/`` (with the module-level functions they call) matched to the scenario's step lines.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import parse
import pytest

from goldgate.criteria.registry import all_criteria
from goldgate.verdict import DECLARED

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "features"
STEPS = ROOT / "steps"
_SCENARIO = re.compile(r"^\s*Scenario(?: Outline)?:\s*(.+?)\s*$")
_BACKGROUND = re.compile(r"^\s*Background:")
_STEP = re.compile(r"^\s*(?:Given|When|Then|And|But)\s+(.+?)\s*$")
_STEP_DECORATORS = {"given", "when", "then", "step"}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guide_coverage", ROOT / "scripts" / "guide_coverage.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("guide_coverage", module)
    spec.loader.exec_module(module)
    return module


gc = _load_script()


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return gc.load_coverage()


# ----------------------------------------------------------------------------- features
def scenarios() -> dict[str, list[str]]:
    """``"<feature path under features/>: <scenario>"`` -> its step lines (Background's first)."""
    out: dict[str, list[str]] = {}
    for path in sorted(FEATURES.rglob("*.feature")):
        rel = path.relative_to(FEATURES).as_posix()
        background: list[str] = []
        current: list[str] | None = None
        in_background = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if _BACKGROUND.match(line):
                in_background, current = True, None
            elif m := _SCENARIO.match(line):
                in_background = False
                current = out.setdefault(f"{rel}: {m.group(1)}", list(background))
            elif m := _STEP.match(line):
                (background if in_background else current if current is not None else []).append(m.group(1))
    return out


# ----------------------------------------------------------------------------- steps
def _criteria_modules(tree: ast.Module) -> tuple[dict[str, str], dict[str, str]]:
    """Aliases in a step module: name -> criteria module, and name -> ``module.function`` key."""
    modules: dict[str, str] = {}
    functions: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "goldgate.criteria":
            for a in node.names:
                modules[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("goldgate.criteria."):
            mod = node.module.removeprefix("goldgate.criteria.")
            for a in node.names:
                functions[a.asname or a.name] = f"{mod}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("goldgate.criteria.") and a.asname:
                    modules[a.asname] = a.name.removeprefix("goldgate.criteria.")
    return modules, functions


def _calls(func: ast.AST, modules: dict[str, str], functions: dict[str, str]) -> tuple[set[str], set[str]]:
    """Criteria keys called in ``func`` and the plain names it calls (module functions)."""
    keys: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules:
            keys.add(f"{modules[f.value.id]}.{f.attr}")
        elif isinstance(f, ast.Name):
            if f.id in functions:
                keys.add(functions[f.id])
            names.add(f.id)
    return keys, names


def _pattern(decorator: ast.expr) -> tuple[str, str] | None:
    """``(kind, text)`` of a pytest-bdd step decorator, kind one of exact / parse / re."""
    if not isinstance(decorator, ast.Call) or not decorator.args:
        return None
    name = decorator.func.attr if isinstance(decorator.func, ast.Attribute) else getattr(decorator.func, "id", "")
    if name not in _STEP_DECORATORS:
        return None
    arg = decorator.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return "exact", arg.value
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.args:
        try:
            text = ast.literal_eval(arg.args[0])
        except ValueError:
            return None
        return ("re" if arg.func.attr == "re" else "parse"), text
    return None


def step_criteria() -> list[tuple[str, str, set[str]]]:
    """Every step pattern of ``steps/`` with the criteria keys its function (and the module functions it calls) call."""
    out = []
    for path in sorted(STEPS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules, functions = _criteria_modules(tree)
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        direct = {name: _calls(node, modules, functions) for name, node in defs.items()}
        for name, node in defs.items():
            for decorator in node.decorator_list:
                if pat := _pattern(decorator):
                    out.append((pat[0], pat[1], _reach(direct, name, {name})))
    return out


def _reach(direct: dict[str, tuple[set[str], set[str]]], name: str, seen: set[str]) -> set[str]:
    """Criteria keys ``name`` calls, itself or through the module's functions it calls."""
    keys, names = direct[name]
    found = set(keys)
    for callee in names - seen:
        if callee in direct:
            found |= _reach(direct, callee, seen | {callee})
    return found


def _matches(kind: str, pattern: str, text: str) -> bool:
    if kind == "exact":
        return pattern == text
    if kind == "re":
        return re.fullmatch(pattern, text) is not None
    return parse.parse(pattern, text) is not None


def declared_criteria_of(steps: list[str], patterns: list[tuple[str, str, set[str]]],
                         declared: set[str]) -> set[str]:
    found: set[str] = set()
    for text in steps:
        for kind, pattern, keys in patterns:
            if _matches(kind, pattern, text):
                found |= keys & declared
    return found


# ----------------------------------------------------------------------------- tests
def test_every_guide_requirement_line_is_listed_in_order(entries: list[dict]) -> None:
    guide = gc.guide_lines(gc.GUIDE_FILE.read_text(encoding="utf-8"))
    listed = [(e["id"], " ".join(str(e["text"]).split())) for e in entries]
    assert [(g.id, g.text) for g in guide] == listed


def test_every_checkbox_of_the_guide_is_a_listed_line(entries: list[dict]) -> None:
    boxes = re.findall(r"^- \[ \]\s+(.*)$", gc.GUIDE_FILE.read_text(encoding="utf-8"), flags=re.M)
    texts = {e["text"] for e in entries}
    assert boxes and [b for b in boxes if b.strip() not in texts] == []


def test_every_named_scenario_exists(entries: list[dict]) -> None:
    known = scenarios()
    missing = [(e["id"], c) for e in entries for c in e.get("checks") or [] if c not in known]
    assert missing == []


def test_the_readme_table_is_current() -> None:
    assert not gc.stale(ROOT), "README's guide coverage is stale: run `python scripts/guide_coverage.py --write`"


def test_the_packaged_copy_is_the_docs_yaml() -> None:
    """A run reads the copy shipped in the package; it must be the table README shows."""
    assert not gc.copy_stale(ROOT), (f"{gc.packaged_copy(ROOT)} differs from docs/guide_coverage.yaml: "
                                     "run `python scripts/guide_coverage.py --write`")


def test_named_criteria_are_registered_and_declared_lines_rest_on_one(entries: list[dict]) -> None:
    registry = all_criteria()
    unknown = [(e["id"], k) for e in entries for k in e.get("criteria") or [] if k not in registry]
    assert unknown == []
    for e in entries:
        if e["provenance"] == "declared":
            assert any(registry[k].provenance == DECLARED for k in e.get("criteria") or []), e["id"]


def test_provenance_agrees_with_the_criteria_the_steps_call(entries: list[dict]) -> None:
    """A declared criterion a line's scenarios call is named in the YAML, and a *measured*
    line has at least one scenario not decided by a declared criterion."""
    declared = {k for k, spec in all_criteria().items() if spec.provenance == DECLARED}
    patterns = step_criteria()
    steps_of = scenarios()
    by_check = {c: declared_criteria_of(steps_of[c], patterns, declared)
                for e in entries for c in e.get("checks") or [] if c in steps_of}
    assert any(by_check.values()), "no scenario calls a declared criterion: the step reading is broken"
    for e in entries:
        checks = e.get("checks") or []
        called = set().union(*(by_check.get(c, set()) for c in checks))
        assert called <= set(e.get("criteria") or []), f"{e['id']}: name {sorted(called)} under criteria"
        if e["provenance"] == "measured":
            assert any(not by_check.get(c) for c in checks), f"{e['id']}: measured but decided only by declared"


def test_the_table_counts_every_line_once(entries: list[dict]) -> None:
    counts = gc.totals(entries)
    assert sum(counts.values()) == len(entries) == len({e["id"] for e in entries})
    assert set(counts) <= set(gc.PROVENANCES)
