"""Prometheus alert rules and their unit tests, through ``promtool test rules``.

Besides running the tests, it lists which alerts the rule files define and which alerts
the test files exercise (``alert_rule_test[].alertname``), so an alert nobody tested is
visible even while every existing test passes.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

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


def _yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ArtifactUnavailable(path, f"unreadable YAML: {exc}") from None
    return data if isinstance(data, dict) else {}


def _alerts(rule_file: Path) -> dict[str, str]:
    lines = rule_file.read_text(encoding="utf-8").splitlines()
    out = {}
    for group in _yaml(rule_file).get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert")
            if name:
                line = next((i for i, t in enumerate(lines, 1) if f"alert: {name}" in t), 0)
                out[name] = f"{rule_file}:{line}"
    return out


def run_rule_tests(rules_dir: Path, *, promtool: str | None = None, timeout_s: float = 60) -> AlertRulesReport:
    """Run every ``tests/*.yml`` under ``rules_dir`` with promtool and collect coverage."""
    if not rules_dir.is_dir():
        raise ArtifactUnavailable(rules_dir, "alert rules folder not found")
    rule_files = sorted(p for p in rules_dir.rglob("*.y*ml") if "tests" not in p.relative_to(rules_dir).parts)
    test_files = sorted((rules_dir / "tests").glob("*.y*ml")) if (rules_dir / "tests").is_dir() else []
    if not rule_files:
        raise ArtifactUnavailable(rules_dir, "no alert rule files (*.yml) found")
    alerts: dict[str, str] = {}
    for f in rule_files:
        alerts.update(_alerts(f))
    tested = {
        case.get("alertname")
        for f in test_files
        for test in _yaml(f).get("tests") or []
        for case in test.get("alert_rule_test") or []
    }
    tested.discard(None)
    binary = promtool if promtool is not None else shutil.which("promtool")
    if not binary or not Path(binary).is_file():
        raise ArtifactUnavailable(binary or "promtool", f"promtool not found ({INSTALL_HINT})")
    if not test_files:
        return AlertRulesReport(str(rules_dir), alerts, set(), [], False, "", [f"{rules_dir}/tests: no promtool test files"])
    try:
        proc = subprocess.run([binary, "test", "rules", *map(str, test_files)], capture_output=True, text=True,
                              timeout=timeout_s, check=False, cwd=rules_dir)
    except subprocess.TimeoutExpired:
        raise ArtifactUnavailable(rules_dir, f"promtool test rules did not finish in {timeout_s:g} s") from None
    output = (proc.stdout + proc.stderr).strip()
    failures = [line.strip() for line in output.splitlines() if "FAILED" in line or "alertname:" in line or "error" in line.lower()]
    return AlertRulesReport(str(rules_dir), alerts, tested, [str(f) for f in test_files], proc.returncode == 0,
                            output[-2000:], failures[:10])
