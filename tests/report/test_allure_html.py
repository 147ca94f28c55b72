"""End to end: Gherkin run → allure-results → `goldgate report` → the page Chromium renders.

The report is served over loopback HTTP (Allure's page loads its data with XHR, which
file:// forbids), opened in headless Chromium, and the rendered DOM must show the guide
section's feature, both scenarios, their Given/When/Then steps and the failing criterion
with its value, threshold and evidence. The screenshot is kept under reports/ as an artifact.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldgate.report import cli as report_cli

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACT = ROOT / "reports" / "allure-report-e2e.png"

FEATURE = """\
@monitoring
Feature: Latency after a deployment
  Guide §8.1: alert if p95 latency > 500ms.

  Scenario: p95 latency stays under the alert threshold
    Given the trading bot measured for 60 seconds
    When the p95 latency is 212 ms
    Then the p95 latency is at most 500 ms

  Scenario: p95 latency breaches the alert threshold
    Given the trading bot measured for 60 seconds
    When the p95 latency is 812 ms
    Then the p95 latency is at most 500 ms
"""

STEPS = '''
from pytest_bdd import given, parsers, then, when

from goldgate.verdict import Evidence, Verdict, expect

QUERY = "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[1m]))"


@given(parsers.parse("the trading bot measured for {window:d} seconds"), target_fixture="window")
def measured(window):
    return window


@when(parsers.parse("the p95 latency is {value:g} ms"), target_fixture="p95")
def p95(value):
    return value


@then(parsers.parse("the p95 latency is at most {limit:g} ms"))
def at_most(p95, limit, window):
    evidence = Evidence("prometheus", QUERY, window, 480)
    if p95 <= limit:
        expect(Verdict.passed("p95 latency", p95, limit, unit="ms", evidence=evidence))
    else:
        expect(Verdict.failed("p95 latency", p95, limit, "above the §8.1 alert threshold", unit="ms", evidence=evidence))
'''


@pytest.fixture(scope="module")
def allure_binary() -> Path:
    found = report_cli.find_allure(ROOT)
    if found is None:
        if shutil.which("npm") is None:
            pytest.skip("npm absent, cannot install the pinned Allure CLI: apt-get install nodejs npm")
        found = report_cli.install_allure(ROOT)
    if not report_cli.java_available():
        pytest.skip("Java absent (the Allure CLI needs it): apt-get install default-jre-headless")
    return found


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def _serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--window-size=1600,1000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def _behaviors_path(report: Path, uid: str) -> str:
    tree = json.loads((report / "data" / "behaviors.json").read_text(encoding="utf-8"))

    def walk(node: dict[str, object]) -> str | None:
        for child in node.get("children", []):  # type: ignore[union-attr]
            if child.get("uid") == uid:
                return f"{child['parentUid']}/{uid}"
            found = walk(child)
            if found:
                return found
        return None

    found = walk(tree)
    assert found, f"test {uid} not in the behaviors tree"
    return found


@pytest.mark.slow
def test_report_renders_features_scenarios_steps_and_evidence(
    pytester: pytest.Pytester, allure_binary: Path, serve: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    if not CHROMIUM.is_file():
        pytest.skip("Chromium absent: apt-get install chromium")
    pytester.makeini("[pytest]\ngoldgate = true\naddopts = -p no:cacheprovider -p no:locust -p no:hypothesispytest -p no:pytest_cov\nbdd_features_base_dir = features\n")
    (pytester.path / "environments").mkdir()
    (pytester.path / "environments" / "local.yaml").write_text(
        'name: local\nhttp: {base_url: "http://127.0.0.1:9"}\nrelease: {version: v9.9.9}\n', encoding="utf-8")
    feature_dir = pytester.path / "features" / "monitoring"
    feature_dir.mkdir(parents=True)
    (feature_dir / "latency.feature").write_text(FEATURE, encoding="utf-8")
    (feature_dir / "test_latency.py").write_text('from pytest_bdd import scenarios\n\nscenarios("monitoring")\n')
    pytester.makeconftest(STEPS)
    result = pytester.runpytest_subprocess("--alluredir=reports/allure-results")
    result.assert_outcomes(passed=1, failed=1)

    monkeypatch.chdir(pytester.path)
    monkeypatch.setenv("GOLDGATE_ALLURE", str(allure_binary))
    from goldgate.cli import main

    assert main(["report"]) == 0
    report = pytester.path / "reports" / "allure-report"
    assert (report / "index.html").is_file()
    assert (report / "history").is_dir()
    cases = {c["name"]: c for c in (json.loads(f.read_text()) for f in (report / "data" / "test-cases").glob("*.json"))}
    failing = cases["p95 latency breaches the alert threshold"]
    passing = cases["p95 latency stays under the alert threshold"]
    labels = {lab["name"]: lab["value"] for lab in failing["labels"]}
    assert labels["parentSuite"] == "§8 Monitoring & observability"
    environment = {e["name"]: e["values"] for e in json.loads((report / "widgets" / "environment.json").read_text())}
    assert environment["environment"] == ["local"] and environment["version.under_test"] == ["v9.9.9"]
    # the overview shows the run's decision, not only a pass percentage
    assert environment["decision"] == ["NO-GO"] and environment["evidence.measured"] == ["2"]
    assert any(v[0].startswith("test_latency.py") or "p95" in v[0] for k, v in environment.items()
               if k.startswith("reason."))
    [executor] = json.loads((report / "widgets" / "executors.json").read_text())
    assert executor["reportName"] == "goldgate: NO-GO (2 measured, 0 declared)"
    categories = json.loads((report / "data" / "categories.json").read_text())
    assert [c["name"] for c in categories["children"]] == ["Criteria breached"]

    base = serve(report)  # type: ignore[operator]
    pages = {}
    for name, case in (("failing", failing), ("passing", passing)):
        done = _chromium(tmp_path / "profile", "--dump-dom", f"{base}#behaviors/{_behaviors_path(report, case['uid'])}")
        assert done.returncode == 0, done.stderr[-2000:]
        pages[name] = done.stdout
    dom = pages["failing"]
    for text in (
        "§8 Monitoring &amp; observability",
        "Latency after a deployment",
        "p95 latency stays under the alert threshold",
        "p95 latency breaches the alert threshold",
        "Given the trading bot measured for 60 seconds",
        "When the p95 latency is 812 ms",
        "Then the p95 latency is at most 500 ms",
        "FAIL: p95 latency — observed 812 ms vs threshold 500 ms",
        "evidence: prometheus, histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[1m])), window 60s, 480 samples",
        "Criteria breached",
    ):
        assert text in dom, f"{text!r} not rendered on the failing scenario's page"
    assert "When the p95 latency is 212 ms" in pages["passing"]
    overview = _chromium(tmp_path / "profile", "--dump-dom", f"{base}#")
    assert overview.returncode == 0 and "goldgate: NO-GO (2 measured, 0 declared)" in overview.stdout

    shot = tmp_path / "report.png"
    done = _chromium(tmp_path / "profile", f"--screenshot={shot}", f"{base}#behaviors/{_behaviors_path(report, failing['uid'])}")
    assert done.returncode == 0 and shot.is_file() and shot.stat().st_size > 20_000
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)

    # A second run carries the history, so the trend has two points.
    pytester.runpytest_subprocess("--alluredir=reports/allure-results")
    assert main(["report"]) == 0
    trend = json.loads((report / "history" / "history-trend.json").read_text(encoding="utf-8"))
    assert len(trend) == 2, os.fspath(report)
