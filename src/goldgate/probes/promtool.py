"""Prometheus alert rules and their unit tests, through the real ``promtool test rules``.

Test files are found by what they are, not where they sit: any YAML under the rules
folder that has ``rule_files`` and ``tests`` (the Prometheus docs keep tests beside the
rules; others use a ``tests/`` folder). Each test file's ``rule_files`` are resolved
relative to the test file's own folder, globs included, exactly as promtool resolves
them. Rule files are YAML with ``groups``. An alert counts as tested only when a test
file that loads its rule file names it in ``alert_rule_test[].alertname``, so an alert
nobody tested is visible even while every existing test passes.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from goldgate.probes.artifacts import ArtifactUnavailable

INSTALL_HINT = "apt-get install prometheus (provides promtool)"


@dataclass(frozen=True)
class AlertRulesReport:
    rules_dir: str
    alerts: dict[str, str]  # alert name -> file:line
    tested: set[str]
    test_files: list[str]
    passed: bool
    output: str = ""
    failures: list[str] = field(default_factory=list)
    rule_files: list[str] = field(default_factory=list)


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ArtifactUnavailable(path, f"unreadable YAML: {exc}") from None


def _alerts(rule_file: Path, doc: dict[str, Any]) -> dict[str, str]:
    lines = rule_file.read_text(encoding="utf-8").splitlines()
    out = {}
    for group in doc.get("groups") or []:
        for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
            name = rule.get("alert") if isinstance(rule, dict) else None
            if name:
                line = next((i for i, t in enumerate(lines, 1) if t.split("#")[0].strip().removeprefix("- ")
                             in (f"alert: {name}", f"alert: '{name}'", f'alert: "{name}"')), 0)
                out[str(name)] = f"{rule_file}:{line}"
    return out


def _loaded_rule_files(test_file: Path, doc: dict[str, Any]) -> list[Path]:
    """``rule_files`` of a test file as promtool reads them: relative to the test file, globs expanded."""
    out: list[Path] = []
    for entry in doc.get("rule_files") or []:
        pattern = Path(str(entry))
        pattern = pattern if pattern.is_absolute() else test_file.parent / pattern
        matches = sorted(glob.glob(str(pattern))) if glob.has_magic(str(pattern)) else [str(pattern)]
        out += [Path(m).resolve() for m in matches]
    return out


def find_files(rules_dir: Path) -> tuple[dict[Path, dict[str, Any]], dict[Path, dict[str, Any]]]:
    """``(rule files, test files)`` under ``rules_dir``, each mapped to its parsed document."""
    rules: dict[Path, dict[str, Any]] = {}
    tests: dict[Path, dict[str, Any]] = {}
    for path in sorted(p for p in rules_dir.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
        doc = _yaml(path)
        if not isinstance(doc, dict):
            continue
        if "rule_files" in doc and "tests" in doc:
            tests[path.resolve()] = doc
        elif "groups" in doc:
            rules[path.resolve()] = doc
    return rules, tests


def run_rule_tests(rules_dir: Path, *, promtool: str | None = None, timeout_s: float = 60) -> AlertRulesReport:
    """Run every promtool test file under ``rules_dir`` and say which alerts they cover."""
    if not rules_dir.is_dir():
        raise ArtifactUnavailable(rules_dir, "alert rules folder not found")
    rule_docs, test_docs = find_files(rules_dir)
    loads = {t: _loaded_rule_files(t, doc) for t, doc in test_docs.items()}
    for loaded in loads.values():  # rule files a test loads from outside the folder count too
        for f in loaded:
            if f not in rule_docs and f.is_file():
                doc = _yaml(f)
                if isinstance(doc, dict):
                    rule_docs[f] = doc
    if not rule_docs:
        raise ArtifactUnavailable(rules_dir, "no alert rule files (YAML with groups) found")
    alerts: dict[str, str] = {}
    by_file: dict[Path, set[str]] = {}
    for f, doc in rule_docs.items():
        found = _alerts(f, doc)
        alerts.update(found)
        by_file[f] = set(found)
    tested: set[str] = set()
    for t, doc in test_docs.items():
        names = {str(case.get("alertname")) for test in doc.get("tests") or [] if isinstance(test, dict)
                 for case in test.get("alert_rule_test") or [] if isinstance(case, dict) and case.get("alertname")}
        defined = set().union(*(by_file.get(f, set()) for f in loads[t]))
        tested |= names & defined
    binary = promtool if promtool is not None else shutil.which("promtool")
    if not binary or not Path(binary).is_file():
        raise ArtifactUnavailable(binary or "promtool", f"promtool not found ({INSTALL_HINT})")
    files = [str(f) for f in rule_docs]
    if not test_docs:
        return AlertRulesReport(str(rules_dir), alerts, set(), [], False, "",
                                [f"{rules_dir}: no promtool test file (YAML with rule_files and tests)"], files)
    try:
        proc = subprocess.run([binary, "test", "rules", *map(str, test_docs)], capture_output=True, text=True,
                              timeout=timeout_s, check=False, cwd=rules_dir)
    except subprocess.TimeoutExpired:
        raise ArtifactUnavailable(rules_dir, f"promtool test rules did not finish in {timeout_s:g} s") from None
    output = (proc.stdout + proc.stderr).strip()
    failures = [line.strip() for line in output.splitlines() if "FAILED" in line or "alertname:" in line or "error" in line.lower()]
    return AlertRulesReport(str(rules_dir), alerts, tested, [str(f) for f in test_docs], proc.returncode == 0,
                            output[-2000:], failures[:10], files)
