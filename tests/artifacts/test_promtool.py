"""Alert rules and their unit tests, run by the real ``promtool test rules``, wherever a
team keeps them: tests beside the rules (the Prometheus docs' layout), in a ``tests/``
folder, or elsewhere with ``rule_files`` pointing back — found by their content."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from goldgate.criteria.infrastructure import alert_rules_tested
from goldgate.probes import promtool
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.verdict import Status
from tests.artifacts.tools import write

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason=f"promtool missing: {promtool.INSTALL_HINT}")

RULES = """
    groups:
      - name: bot
        rules:
          - alert: BotDown
            expr: up{job="bot"} == 0
            for: 1m
            labels:
              severity: critical
          - record: job:up:sum
            expr: sum by (job) (up)
    """


def _test(rule_file: str, alerts: list[str], value: str = "0") -> str:
    cases = "".join(f"""
          - eval_time: 3m
            alertname: {a}
            exp_alerts:
              - exp_labels: {{severity: critical, job: bot, instance: "bot:8080"}}
    """ for a in alerts)
    return f"""
    rule_files:
      - {rule_file}
    evaluation_interval: 1m
    tests:
      - interval: 1m
        input_series:
          - series: 'up{{job="bot", instance="bot:8080"}}'
            values: '{value}x10'
        alert_rule_test:{cases}
    """


def test_tests_beside_the_rules_as_the_prometheus_docs_lay_them_out(tmp_path: Path) -> None:
    write(tmp_path, {"alerts.yml": RULES, "alerts_test.yml": _test("alerts.yml", ["BotDown"])})
    report = promtool.run_rule_tests(tmp_path)
    verdict = alert_rules_tested(report)
    assert verdict.status is Status.PASS, verdict.message()
    assert report.test_files == [str((tmp_path / "alerts_test.yml").resolve())]
    assert verdict.observed == "1/1 alerts tested"


def test_rule_files_resolve_relative_to_the_test_file(tmp_path: Path) -> None:
    write(tmp_path, {"prometheus/rules/bot.rules.yaml": RULES,
                     "prometheus/unit/deep/bot.yaml": _test("../../rules/*.rules.yaml", ["BotDown"])})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path / "prometheus"))
    assert verdict.status is Status.PASS, verdict.message()


def test_an_untested_alert_fails_naming_it(tmp_path: Path) -> None:
    extra = textwrap.dedent(RULES).lstrip() + "      - alert: BotSlow\n        expr: vector(1)\n"
    write(tmp_path, {"alerts.yml": extra, "alerts_test.yml": _test("alerts.yml", ["BotDown"])})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path))
    assert verdict.status is Status.FAIL and verdict.observed == "1/2 alerts tested"
    assert f"alert BotSlow ({tmp_path.resolve() / 'alerts.yml'}:11) has no promtool test" in verdict.reason


def test_a_test_of_a_same_named_alert_in_another_file_does_not_count(tmp_path: Path) -> None:
    write(tmp_path, {"a/alerts.yml": RULES, "b/alerts.yml": RULES.replace("BotDown", "BotGone"),
                     "a/alerts_test.yml": _test("alerts.yml", ["BotDown", "BotGone"])})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path))
    assert verdict.status is Status.FAIL and "alert BotGone" in verdict.reason


def test_a_failing_promtool_test_fails_with_promtools_words(tmp_path: Path) -> None:
    write(tmp_path, {"alerts.yml": RULES, "alerts_test.yml": _test("alerts.yml", ["BotDown"], value="1")})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path))
    assert verdict.status is Status.FAIL and "FAILED" in verdict.reason and "tests failing" in verdict.observed


def test_zero_alerting_rules_is_inconclusive_not_zero_of_zero(tmp_path: Path) -> None:
    only_recording = "groups:\n  - name: r\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n"
    write(tmp_path, {"recording.yml": only_recording,
                     "recording_test.yml": "rule_files: [recording.yml]\ntests:\n  - interval: 1m\n"
                                           "    input_series: []\n"})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path))
    assert verdict.status is Status.INCONCLUSIVE and "0 alerting rules" in verdict.reason


def test_no_test_file_at_all_fails_naming_every_alert(tmp_path: Path) -> None:
    write(tmp_path, {"alerts.yml": RULES})
    verdict = alert_rules_tested(promtool.run_rule_tests(tmp_path))
    assert verdict.status is Status.FAIL and "no promtool test file" in verdict.reason and "alert BotDown" in verdict.reason


def test_broken_yaml_and_missing_folders_name_the_path(tmp_path: Path) -> None:
    write(tmp_path, {"alerts.yml": "groups: [\n"})
    with pytest.raises(ArtifactUnavailable, match="unreadable YAML") as info:
        promtool.run_rule_tests(tmp_path)
    assert "alerts.yml" in str(info.value)
    with pytest.raises(ArtifactUnavailable, match="alert rules folder not found"):
        promtool.run_rule_tests(tmp_path / "nowhere")
    (tmp_path / "alerts.yml").write_text("just: text\n")
    with pytest.raises(ArtifactUnavailable, match="no alert rule files"):
        promtool.run_rule_tests(tmp_path)
