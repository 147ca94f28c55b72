"""A real pytest run (pytester): a declared PASS the environment requires measured is not a
pass, and verdict.json, the terminal summary and Allure's overview show the decision and
the measured/declared counts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.report.conftest import LOCAL_ENV, read_json

Project = Callable[..., pytest.Pytester]

CHECKS = '''
    from goldgate.verdict import DECLARED, Verdict, expect

    def test_on_call_assigned():
        expect(Verdict.passed("on-call assigned", "alice, bob", "primary and secondary",
                              "release.yaml names them", provenance=DECLARED))

    def test_error_rate_within_budget():
        expect(Verdict.passed("error rate", 0.001, 0.01, "2 errors in 2000 requests"))
'''


def test_a_required_check_resting_on_a_declaration_is_not_go(gg_project: Project) -> None:
    env = LOCAL_ENV + "policy:\n  require_measured: [test_on_call_assigned]\n"
    p = gg_project(env=env)
    p.makepyfile(test_checks=CHECKS)
    result = p.runpytest(f"--alluredir={p.path / 'allure-results'}")
    assert result.ret != 0
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert any("declared only; the environment requires a measurement" in r for r in doc["reasons"])
    assert doc["provenance"] == {"measured": 1, "declared": 1, "passed": {"measured": 1, "declared": 0}}
    result.stdout.fnmatch_lines(["*evidence: 1 verdicts measured, 1 declared (passes: 1 measured, 0 declared)*"])
    props = (p.path / "allure-results" / "environment.properties").read_text(encoding="latin-1")
    assert "decision=NO-GO\n" in props and "evidence.declared=1" in props and "reason.1=" in props
    executor = json.loads((p.path / "allure-results" / "executor.json").read_text(encoding="utf-8"))
    assert executor["reportName"] == "goldgate: NO-GO (1 measured, 1 declared)"


def test_without_the_policy_the_declared_pass_counts_but_is_counted_apart(gg_project: Project) -> None:
    p = gg_project()
    p.makepyfile(test_checks=CHECKS)
    result = p.runpytest()
    assert result.ret == 0
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "GO"
    assert doc["provenance"]["passed"] == {"measured": 1, "declared": 1}
    assert {r["criterion"]: r["provenance"] for r in doc["criteria"]} == {"on-call assigned": "declared",
                                                                          "error rate": "measured"}
