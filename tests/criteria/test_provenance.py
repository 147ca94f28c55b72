"""Provenance on every verdict: measured or declared, counted in every report, and an
environment's ``policy.require_measured`` that a declared PASS cannot satisfy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from goldgate.config import load_environment
from goldgate.criteria import configuration, operational, readiness
from goldgate.criteria.provenance import REQUIRES_MEASUREMENT, require_measured
from goldgate.criteria.registry import all_criteria
from goldgate.probes.artifacts.manifest import Approval, ReleaseManifest
from goldgate.report import session
from goldgate.report.allure_extras import decision_overview, properties_text, report_name
from goldgate.report.verdict_file import VerdictCollector, provenance_text, write_verdict_file
from goldgate.verdict import (
    DECLARED,
    MEASURED,
    InconclusiveError,
    Status,
    Verdict,
    expect,
    register_policy,
)

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ReleaseManifest("release.yaml", author="carol", approvals=(Approval("alice"), Approval("bob")))


def test_a_verdict_is_measured_unless_its_criterion_reads_a_declaration() -> None:
    v = Verdict.passed("p95 latency budget", 0.1, 0.5)
    assert v.provenance == MEASURED and v.to_dict()["provenance"] == MEASURED
    assert "declared" not in v.message()
    with pytest.raises(ValueError, match="provenance"):
        Verdict.passed("x", 1, 1, provenance="guessed")


def test_criteria_reading_release_yaml_stamp_every_verdict_declared() -> None:
    ok = operational.approvals(APPROVED, 2)
    short = operational.approvals(ReleaseManifest("release.yaml", author="carol", approvals=(Approval("alice"),)), 2)
    assert ok.status is Status.PASS and ok.provenance == DECLARED
    assert short.status is Status.FAIL and short.provenance == DECLARED
    assert "provenance: declared" in ok.message()
    specs = all_criteria()
    declared = {k for k, s in specs.items() if s.provenance == DECLARED}
    assert {"operational.approvals", "operational.on_call", "operational.inside_window",
            "operational.change_ticket", "operational.manifest_for_version",
            "readiness.notified_before_window", "readiness.on_call_covers_window",
            "configuration.features_have_killswitch", "configuration.flags_not_stale"} <= declared
    # measured: read from a live system or a real tool's output
    assert specs["operational.no_rollout_in_progress"].provenance == MEASURED
    assert specs["readiness.rollback_rehearsed"].provenance == MEASURED
    assert specs["checklist.all_tests_passed"].provenance == MEASURED
    assert readiness.on_call_covers_window.criterion_provenance == DECLARED  # type: ignore[attr-defined]
    assert configuration.flags_not_stale.criterion_provenance == DECLARED  # type: ignore[attr-defined]


def test_a_declared_pass_of_a_required_check_is_inconclusive() -> None:
    ok = operational.approvals(APPROVED, 2)
    names = ["features/checklist/test_checklist.py::test_the_change_is_approved",
             "The change is approved by two reviewers other than the author"]
    held = require_measured(ok, names, ["The change is approved by two reviewers other than the author"])
    assert held.status is Status.INCONCLUSIVE and held.provenance == DECLARED
    assert REQUIRES_MEASUREMENT in held.reason and "policy.require_measured" in held.reason
    assert ok.reason in held.reason  # what the declaration said stays visible
    # by criterion name too
    assert require_measured(ok, [], [ok.criterion]).status is Status.INCONCLUSIVE
    # not listed, measured, or not a PASS: unchanged
    assert require_measured(ok, names, ["Some other check"]) is ok
    measured = Verdict.passed(ok.criterion, 3, 2)
    assert require_measured(measured, names, [names[1]]) is measured
    short = operational.approvals(ReleaseManifest("release.yaml", author="carol"), 2)
    assert require_measured(short, names, [names[1]]) is short


def test_the_policy_decides_before_expect_reports_the_verdict() -> None:
    seen: list[Verdict] = []
    from goldgate.verdict import register_sink

    remove_sink = register_sink(seen.append)
    remove = register_policy(lambda v: require_measured(v, [], [v.criterion]))
    try:
        with pytest.raises(InconclusiveError, match="environment requires a measurement"):
            expect(operational.approvals(APPROVED, 2))
        assert expect(Verdict.passed("measured thing", 1, 1)).ok
    finally:
        remove()
        remove_sink()
    assert [v.status for v in seen] == [Status.INCONCLUSIVE, Status.PASS]
    assert expect(operational.approvals(APPROVED, 2)).ok  # removed: no policy any more


def _collector() -> VerdictCollector:
    c = VerdictCollector()
    c.record("a::approved").verdicts.append(operational.approvals(APPROVED, 2))
    c.record("b::p95").verdicts.append(Verdict.passed("p95", 0.1, 0.5))
    c.record("c::p95 baseline").verdicts.append(Verdict.inconclusive("p95 vs baseline", "bucket straddles"))
    c.record("c::p95 baseline").outcome = "error"
    return c


def test_verdict_json_counts_measured_and_declared(tmp_path: Path) -> None:
    c = _collector()
    doc = write_verdict_file(tmp_path / "verdict.json", c, {"environment": "local"})
    assert doc["provenance"] == {"measured": 2, "declared": 1, "passed": {"measured": 1, "declared": 1}}
    assert {r["criterion"]: r["provenance"] for r in doc["criteria"]} == {
        "approvals by people other than the author": DECLARED, "p95": MEASURED, "p95 vs baseline": MEASURED}
    on_disk = json.loads((tmp_path / "verdict.json").read_text())
    assert on_disk["tests"][0]["criteria"][0]["provenance"] == DECLARED
    assert provenance_text(doc["provenance"]) == "2 verdicts measured, 1 declared (passes: 1 measured, 1 declared)"


def test_terminal_summary_shows_the_counts(tmp_path: Path) -> None:
    c = _collector()
    ctx = session.RunContext(started_at="", started_epoch=0.0, verdict_path=tmp_path / "v.json", audit_path=None,
                             postgres_ref=None, reason=None)
    ctx.decision, ctx.reasons = c.decision()
    ctx.provenance = c.provenance_counts()
    lines = session.summary_lines(ctx)
    assert lines[0].startswith("decision: NO-GO")
    assert any("evidence: 2 verdicts measured, 1 declared" in line for line in lines)


def test_allure_overview_shows_decision_reasons_waivers_and_counts() -> None:
    waivers = [{"test": "features/x.py::test_drill", "waiver": {"reason": "no DR region — yet", "approver": "ops",
                                                                 "expiry": "2027-01-01"}}]
    props = decision_overview("GO with 1 waiver", ["r1: INCONCLUSIVE: bucket\nstraddles"], waivers,
                              {"measured": 5, "declared": 2, "passed": {"measured": 5, "declared": 2}})
    assert props["decision"] == "GO with 1 waiver"
    assert props["evidence.measured"] == "5" and props["evidence.declared"] == "2"
    assert props["passes.declared"] == "2"
    assert props["reason.1"] == "r1: INCONCLUSIVE: bucket straddles"
    assert "no DR region" in props["waiver.1"] and "approved by ops" in props["waiver.1"]
    text = properties_text(props)
    assert text.isascii() and "\\u2014" in text  # "—" survives Allure's ISO-8859-1 reading
    assert re.search(r"^decision=GO with 1 waiver$", text, re.M)
    assert report_name("NO-GO", {"measured": 3, "declared": 1}) == "goldgate: NO-GO (3 measured, 1 declared)"


def test_production_requires_measurement_for_the_operational_and_change_checks() -> None:
    env = load_environment("production", ROOT / "environments")
    required = set(env.policy.require_measured)
    scenarios = {m.group(1).strip() for f in (ROOT / "features").rglob("*.feature")
                 for m in re.finditer(r"^\s*Scenario(?: Outline)?:\s*(.+)$", f.read_text(encoding="utf-8"), re.M)}
    assert required and required <= scenarios, sorted(required - scenarios)
    for name in ("The change is approved by two reviewers other than the author", "The on-call team is assigned",
                 "The change is tracked by a change ticket", "The deployment window is open"):
        assert name in required
    assert load_environment("local", ROOT / "environments").policy.require_measured == []


def test_goldgate_verdict_prints_the_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from goldgate.cli import main

    doc = write_verdict_file(tmp_path / "verdict.json", _collector(), {"environment": "local", "version": "v1"})
    assert main(["verdict", "--file", str(tmp_path / "verdict.json")]) == 1
    assert "evidence: 2 verdicts measured, 1 declared" in capsys.readouterr().out
    assert main(["verdict", "--json", "--file", str(tmp_path / "verdict.json")]) == 1
    assert json.loads(capsys.readouterr().out)["provenance"] == doc["provenance"]
