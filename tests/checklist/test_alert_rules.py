"""deploy/prometheus: the guide's thresholds as alert rules, every rule unit-tested with
``promtool test rules`` (the suite's own rules pass its own "alerting rules tested" check)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from goldgate.config import Thresholds
from goldgate.criteria import infrastructure
from goldgate.probes import promtool
from goldgate.verdict import Status

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def test_the_suites_alert_rules_pass_their_promtool_tests() -> None:
    report = promtool.run_rule_tests(RULES)
    verdict = infrastructure.alert_rules_tested(report)
    assert verdict.status is Status.PASS, verdict.message()
    assert len(report.alerts) >= 6


def test_alert_thresholds_are_the_guides() -> None:
    t = Thresholds()
    doc = yaml.safe_load((RULES / "rules" / "trading-bot.rules.yml").read_text(encoding="utf-8"))
    exprs = {r["alert"]: " ".join(r["expr"].split()) for g in doc["groups"] for r in g["rules"]}
    expected = {
        "TradingBotHighErrorRate": ("> ", t.error_rate),
        "TradingBotHighLatencyP95": ("> ", t.p95_latency_ms / 1000),
        "TradingBotDiskFreeLow": ("< ", t.free_disk_ratio),
        "TradingBotHighCPU": ("> ", t.cpu_utilization),
        "TradingBotHighMemory": ("> ", t.memory_utilization),
    }
    for alert, (op, value) in expected.items():
        m = re.search(re.escape(op) + r"([0-9.]+)\s*$", exprs[alert])
        assert m and float(m[1]) == value, f"{alert}: {exprs[alert]}"
    assert "OOMKilled" in exprs["TradingBotOOMKilled"]


def test_an_alert_without_a_test_is_named(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(RULES, tmp_path / "prometheus")
    rules = tmp_path / "prometheus" / "rules" / "trading-bot.rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8") + "      - alert: Untested\n        expr: vector(1)\n", encoding="utf-8")
    verdict = infrastructure.alert_rules_tested(promtool.run_rule_tests(tmp_path / "prometheus"))
    assert verdict.status is Status.FAIL
    assert "alert Untested" in verdict.reason and "has no promtool test" in verdict.reason
