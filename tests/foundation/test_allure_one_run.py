"""One pytest run gives QA both halves: Gherkin scenarios with their steps, and plain tests.

allure-pytest is the only Allure plugin; goldgate's pytest-bdd hooks open one Allure step
per Given/When/Then. Checked on the real result files of a real run against a real bot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_env

pytestmark = pytest.mark.sandbox


def _results(alluredir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in alluredir.glob("*-result.json")]


def _labels(result: dict, name: str) -> list[str]:
    return [lab["value"] for lab in result.get("labels", []) if lab["name"] == name]


def test_one_run_reports_scenarios_with_steps_and_plain_tests(tmp_path: Path, start_bot: Callable[..., str]) -> None:
    url = start_bot(BOT_VERSION="v1.2.0", FAULT_LATENCY_MS="600")
    envdir = write_env(tmp_path / "envs", "direct", f"name: direct\nhttp:\n  base_url: {url}\nrelease:\n  version: v1.2.0\n")
    alluredir = tmp_path / "allure-results"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(ROOT),
         str(ROOT / "smoke"), str(ROOT / "features" / "monitoring" / "test_monitoring.py"), "-m", "smoke",
         "--env=direct", f"--environments-dir={envdir}", f"--alluredir={alluredir}", "--verdict-file="],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False,
    )
    results = _results(alluredir)
    by_name = {r["name"]: r for r in results}

    # Plain smoke tests are there, as tests.
    assert "test_liveness_answers" in by_name
    assert by_name["test_liveness_answers"]["status"] == "passed"

    # Gherkin scenarios are there with feature/story labels and one step per Given/When/Then.
    scenario = by_name["The trading bot answers its liveness check"]
    assert _labels(scenario, "feature") == ["Service health after a deployment"]
    assert _labels(scenario, "story") == ["The trading bot answers its liveness check"]
    assert _labels(scenario, "parentSuite") == ["§8 Monitoring & observability"]
    assert _labels(scenario, "epic") == ["§8 Monitoring & observability"]
    steps = [s["name"] for s in scenario["steps"]]
    assert steps == [
        "Given the trading bot service of the environment",
        'When I request "/health"',
        "Then the answer is 200 within 500 ms",
    ]
    # The verdict (value, threshold, evidence) is attached to the Then step.
    then_step = scenario["steps"][-1]
    assert any(a["name"].startswith("PASS:") for a in then_step.get("attachments", []))

    # A breached criterion is "failed" with the numbers, and its step carries the evidence.
    slow = by_name["A XAUUSD signal comes back within the latency budget"]
    assert slow["status"] == "failed"
    assert "above the budget of 500 ms" in slow["statusDetails"]["message"]
    failing_step = slow["steps"][-1]
    assert failing_step["status"] == "failed"
    attachment = next(a for a in failing_step["attachments"] if a["name"].startswith("FAIL:"))
    evidence = json.loads((alluredir / attachment["source"]).read_text())
    assert evidence["threshold"] == 500.0 and evidence["observed"] >= 600

    # Run-level files for the report.
    props = (alluredir / "environment.properties").read_text()
    assert "environment=direct" in props and "version.under_test=v1.2.0" in props
    categories = json.loads((alluredir / "categories.json").read_text())
    assert [c["name"] for c in categories] == ["Criteria breached", "Inconclusive", "Probe error", "Suite defect"]
