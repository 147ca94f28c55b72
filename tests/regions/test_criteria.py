"""The failover criteria on healthy and faulty drills, and the audit-trail reader on what
goldgate's own audit log writes (``goldgate.report.audit.append``) and on damaged files."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from goldgate.criteria import failover
from goldgate.probes.failover import (
    AckedOrder,
    DataLoss,
    DrillRecord,
    FailoverUnavailable,
    Recovery,
    Routing,
    drills_from_audit,
)
from goldgate.report import audit
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Status

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
URL = "http://127.0.0.1:4000"


def order(n: int, wall: float) -> AckedOrder:
    return AckedOrder(f"drill-t-{n}", n, float(n), wall)


def test_rto_passes_within_and_fails_beyond_with_value_and_threshold() -> None:
    fast = Recovery(True, 4.2, 60.0, 12, {"ConnectionError": 11}, order(9, 0.0), URL)
    assert failover.failover_within_rto(fast, 20, 15.0, "secondary").status is Status.PASS
    slow = Recovery(True, 22.5, 60.0, 80, {"HTTP 502": 79}, order(9, 0.0), URL)
    verdict = failover.failover_within_rto(slow, 20, 15.0, "secondary")
    assert verdict.status is Status.FAIL and "22.5" in verdict.message() and "15" in verdict.message()


def test_never_recovered_fails_with_the_wait_and_the_rto() -> None:
    never = Recovery(False, 30.1, 30.0, 150, {"ConnectionError": 150}, None, URL)
    verdict = failover.failover_within_rto(never, 20, 15.0)
    assert verdict.status is Status.FAIL
    assert "> 30.1" in verdict.message() and "threshold 15" in verdict.message() and "ConnectionError x150" in verdict.reason


def test_an_order_served_by_the_primary_is_no_failover() -> None:
    verdict = failover.failover_within_rto(Recovery(True, 1.0, 60.0, 2, {}, order(3, 0.0), URL), 5, 15.0, "primary")
    assert verdict.status is Status.FAIL and "primary region" in verdict.reason


def test_rpo_passes_with_nothing_lost_and_fails_on_a_lagging_standby() -> None:
    assert failover.data_loss_within_rpo(DataLoss(25, [], 1000.0, URL), 3600.0).status is Status.PASS
    lost = DataLoss(25, [order(20, 990.0), order(21, 995.0)], 1000.0, URL)
    verdict = failover.data_loss_within_rpo(lost, 5.0)
    assert verdict.status is Status.FAIL
    assert "2 of 25" in verdict.reason and "observed 10 s vs threshold 5 s" in verdict.message()


def test_no_failback_passes_on_the_secondary_and_fails_on_the_primary() -> None:
    assert failover.no_automatic_failback(Routing("secondary", 5.0, order(1, 0.0), "x"), 3.0).status is Status.PASS
    verdict = failover.no_automatic_failback(Routing("primary", 5.0, order(1, 0.0), "found in primary"), 3.0)
    assert verdict.status is Status.FAIL and "failed back by itself" in verdict.reason
    assert "observed primary vs threshold secondary" in verdict.message()


def test_failback_to_the_primary() -> None:
    assert failover.serves_from_primary(Routing("primary", 0.0, order(1, 0.0), "x")).status is Status.PASS
    assert failover.serves_from_primary(Routing(None, 0.0, order(1, 0.0), "not found")).status is Status.FAIL


def _drill_record(path: pathlib.Path, result: str, at: dt.datetime) -> None:
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    safety.record("failover-drill", URL, "done", result=result, at=at.isoformat(), rto_s=4.1)
    facts = audit.RunFacts(run_id="r1", version="v1.2.0", previous_version="v1.1.0", image="bot:v1.2.0",
                           environment="local", production=False, kube_context="c", namespace="trading",
                           deployment="trading-bot", change=None, reason="", approvals={}, started_at=at.isoformat(),
                           finished_at=at.isoformat(), decision="GO", exit_status=0, counts={}, reasons=[],
                           not_run=[], actions=safety.actions, args=[])
    audit.append(path, audit.build_record(facts))


def test_drills_read_from_the_real_audit_log(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "audit.jsonl"
    _drill_record(log, "passed", NOW - dt.timedelta(days=200))
    _drill_record(log, "failed", NOW - dt.timedelta(days=10))
    drills = drills_from_audit(log)
    assert [d.outcome for d in drills] == ["passed", "failed"]
    stale = failover.drills_recent(drills, NOW, 92.0, str(log))
    assert stale.status is Status.FAIL and "observed 200 days vs threshold 92 days" in stale.message()
    _drill_record(log, "passed", NOW - dt.timedelta(days=30))
    fresh = failover.drills_recent(drills_from_audit(log), NOW, 92.0, str(log))
    assert fresh.status is Status.PASS and fresh.observed == 30.0
    assert audit.verify(log)[1] == []


def test_no_drill_at_all_fails() -> None:
    verdict = failover.drills_recent([], NOW, 92.0, "reports/audit.jsonl")
    assert verdict.status is Status.FAIL and "no failover drill at all" in verdict.reason


@pytest.mark.parametrize(("content", "words"), [
    (None, "does not exist"),
    (b'{"actions": []}\nnot json\n', "line 2: not JSON"),
    (b'[1, 2]\n', "line 1: not a record object"),
    (b'{"actions": [{"action": "failover-drill", "result": "passed"}]}\n', "line 1: failover drill without a time"),
])
def test_damaged_audit_trails_name_file_and_line(tmp_path: pathlib.Path, content: bytes | None, words: str) -> None:
    log = tmp_path / "audit.jsonl"
    if content is not None:
        log.write_bytes(content)
    with pytest.raises(FailoverUnavailable, match=words) as caught:
        drills_from_audit(log)
    assert str(log) in str(caught.value)


def test_drill_records_found_beside_other_actions(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_text('{"run_id": "a", "actions": [{"action": "scale", "started": 1}, '
                   '{"action": "failover-drill", "result": "passed", "at": "2026-11-30T10:00:00+00:00"}]}\n\n')
    assert drills_from_audit(log) == [DrillRecord(dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC), "passed", "a",
                                                  {"result": "passed", "at": "2026-11-30T10:00:00+00:00"})]
