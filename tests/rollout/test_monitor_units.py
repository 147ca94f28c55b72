"""The rollback monitor's pieces that need no cluster: the window's error-rate test,
how an assessment adds up, free-disk pairing, quorum tracking, the safety wrapper."""

from __future__ import annotations

from typing import Any

import pytest

from goldgate.actions.base import ActionFailed, perform
from goldgate.criteria.sprt import SprtParams
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan, error_rate_over_window
from goldgate.probes.metrics import Measurement
from goldgate.probes.workloads import PodFact
from goldgate.rollout.base import hard_failure, own_pods
from goldgate.rollout.monitor import (
    ERROR_RATE,
    HEALTH,
    OOM,
    P95_BUDGET,
    Assessment,
    Outcome,
    disk_readings,
)
from goldgate.rollout.rolling import ORDER, QUORUM, QuorumTracker
from goldgate.safety import MutationRefused, SafetyPolicy
from goldgate.verdict import Status, Verdict

PARAMS = SprtParams(limit=0.01, p0=0.005, p1=0.02, alpha=0.01, beta=0.05)


# ----------------------------------------------------------------------------- error rate
PLAN = WatchPlan(PARAMS, horizon_s=7200.0, max_gap_s=180.0)


def _judge(test: WatchErrorRate, requests: int, errors: int, duration_s: float = 60.0) -> Verdict:
    return error_rate_over_window(test.observe(requests, errors, duration_s), criterion=ERROR_RATE)


def test_clear_breach_fails_and_stays_failed() -> None:
    test = WatchErrorRate(PLAN)
    v = _judge(test, 1000, 40)  # 4 %
    assert v.status is Status.FAIL and v.rollback
    assert "4 %" in v.reason and "limit 1 %" in v.reason and "threshold" in v.reason
    assert _judge(test, 10_000, 0).status is Status.FAIL  # later healthy traffic never undoes a breach


def test_one_error_at_low_traffic_is_inconclusive_not_a_rollback() -> None:
    v = _judge(WatchErrorRate(PLAN), 40, 1)  # 2.5 % on 40 requests
    assert v.status is Status.INCONCLUSIVE
    assert "1 errors in 40 requests" in v.reason


def test_no_traffic_is_inconclusive() -> None:
    v = _judge(WatchErrorRate(PLAN), 0, 0)
    assert v.status is Status.INCONCLUSIVE and "no requests" in v.reason


def test_a_pass_is_never_carried_over_a_stretch_without_traffic() -> None:
    """The stale PASS: traffic stops after the first minute; later polls measure nothing."""
    test = WatchErrorRate(PLAN)
    assert _judge(test, 1200, 2).status is Status.PASS
    assert _judge(test, 0, 0).status is Status.PASS  # 60 s quiet: within max_gap_s 180 s
    for _ in range(3):
        v = _judge(test, 0, 0)  # 240 s since the last request
    assert v.status is Status.INCONCLUSIVE
    assert "no requests since 60s" in v.reason and "180s" in v.reason
    assert v.evidence[-1].details["requests"] == 1200 and v.evidence[-1].details["last_traffic_s"] == 60.0
    assert _judge(test, 1200, 1).status is Status.PASS  # traffic is back: judged on the present again


def test_healthy_then_a_later_breach_is_still_caught() -> None:
    """A two-hour watch keeps testing after its first PASS: the CUSUM forgets the healthy past."""
    test = WatchErrorRate(PLAN)
    for _ in range(60):
        assert _judge(test, 1200, 6).status is Status.PASS
    verdicts = [_judge(test, 1200, 48) for _ in range(3)]  # 4 % from minute 60
    assert verdicts[-1].status is Status.FAIL
    alarm = verdicts[-1].evidence[-1].details["alarm"]
    assert alarm["start_s"] >= 3600.0


def test_snapshot_and_restore_resume_the_same_window() -> None:
    a = WatchErrorRate(PLAN)
    _judge(a, 100, 2)
    b = WatchErrorRate(PLAN)
    b.restore(a.snapshot())
    assert b.state == a.state
    assert _judge(b, 100, 6).status is _judge(a, 100, 6).status
    c = WatchErrorRate(PLAN)
    c.restore({"segment_requests": 5})  # an older state file: starts the window afresh
    assert c.state.requests == 0


# ----------------------------------------------------------------------------- assessment
def _v(criterion: str, status: Status, rollback: bool = True) -> Verdict:
    if status is Status.PASS:
        return Verdict.passed(criterion, 0.0, 1.0, rollback=rollback)
    if status is Status.FAIL:
        return Verdict.failed(criterion, 2.0, 1.0, "over", rollback=rollback)
    return Verdict.inconclusive(criterion, "thin", rollback=rollback)


def test_any_rollback_trigger_failing_means_rollback() -> None:
    a = Assessment("canary", 5.0, (_v(ERROR_RATE, Status.INCONCLUSIVE), _v(OOM, Status.FAIL), _v(HEALTH, Status.PASS)))
    assert a.outcome is Outcome.ROLLBACK
    assert a.breaches[0].criterion == OOM
    assert "OOM kills" in a.reason()


def test_undecided_trigger_holds_and_alert_alone_does_not_roll_back() -> None:
    a = Assessment("canary", 5.0, (_v(ERROR_RATE, Status.INCONCLUSIVE), _v(P95_BUDGET, Status.FAIL, rollback=False)))
    assert a.outcome is Outcome.HOLD
    assert [v.criterion for v in a.alerts] == [P95_BUDGET]
    b = Assessment("canary", 5.0, (_v(ERROR_RATE, Status.PASS), _v(P95_BUDGET, Status.FAIL, rollback=False)))
    assert b.outcome is Outcome.PASS


def test_pass_needs_every_trigger_passed() -> None:
    a = Assessment("green", 9.0, (_v(ERROR_RATE, Status.PASS), _v(HEALTH, Status.PASS)))
    assert a.outcome is Outcome.PASS
    assert "error rate=PASS" in a.summary()


# ----------------------------------------------------------------------------- disk
def test_disk_readings_pair_available_and_size_per_pod() -> None:
    avail = Measurement("scrape", "q", 1.0, 2, series=(
        {"pod": "a", "mountpoint": "/data", "value": 5.0}, {"pod": "b", "mountpoint": "/data", "value": 50.0}))
    size = Measurement("scrape", "q", 1.0, 2, series=(
        {"pod": "a", "mountpoint": "/data", "value": 100.0}, {"pod": "b", "mountpoint": "/data", "value": 100.0}))
    readings = {r.pod: r.free_fraction for r in disk_readings(avail, size)}
    assert readings == {"a": 0.05, "b": 0.5}


# ----------------------------------------------------------------------------- pods
def _pod(name: str, h: str, ready: bool = True, deleting: bool = False, restarts: int = 0,
         waiting: str = "", last: str = "") -> PodFact:
    return PodFact(name, {"app": "trading-bot", "pod-template-hash": h}, "Running", ready, deleting, 0.0, restarts,
                   waiting, last)


def test_quorum_kept_when_each_old_pod_goes_after_a_new_one_is_ready() -> None:
    t = QuorumTracker(quorum=3, old_hashes={"old"}, max_unavailable=0)
    t.observe([_pod("o1", "old"), _pod("o2", "old"), _pod("o3", "old"), _pod("n1", "new", ready=False)])
    t.observe([_pod("o1", "old"), _pod("o2", "old"), _pod("o3", "old"), _pod("n1", "new")])
    t.observe([_pod("o1", "old", deleting=True), _pod("o2", "old"), _pod("o3", "old"), _pod("n1", "new")])
    v = {x.criterion: x for x in t.verdicts(3.0)}
    assert v[QUORUM].status is Status.PASS and v[QUORUM].observed == 3
    assert v[ORDER].status is Status.PASS


def test_quorum_breach_and_early_removal_are_failures_with_numbers() -> None:
    t = QuorumTracker(quorum=3, old_hashes={"old"}, max_unavailable=0)
    t.observe([_pod("o1", "old"), _pod("o2", "old"), _pod("o3", "old")])
    t.observe([_pod("o2", "old"), _pod("o3", "old"), _pod("n1", "new", ready=False)])
    v = {x.criterion: x for x in t.verdicts(2.0)}
    assert v[QUORUM].status is Status.FAIL
    assert "fell to 2, below the quorum 3" in v[QUORUM].reason
    assert v[ORDER].status is Status.FAIL and "o1 went while only 0 new pods were Ready" in v[ORDER].reason


def test_hard_failures_name_the_pod_and_the_cause() -> None:
    pods = [_pod("a", "h", restarts=2, last="OOMKilled"), _pod("b", "h", ready=False, waiting="ImagePullBackOff"),
            _pod("c", "h")]
    text = hard_failure(pods, {"a": 1})
    assert "a: restarted 1x, last exit OOMKilled" in text
    assert "b: ImagePullBackOff" in text
    assert "c:" not in text
    assert hard_failure([_pod("c", "h", restarts=3)], {"c": 3}) == ""


def test_own_pods_leaves_out_green_and_canary() -> None:
    assert own_pods({"app": "trading-bot"}) == "app=trading-bot,!slot,!track"


# ----------------------------------------------------------------------------- safety
def test_a_mutation_without_permission_never_runs_and_says_which_flag() -> None:
    safety = SafetyPolicy("local", production=False, allow_mutations=False)
    called: list[Any] = []
    with pytest.raises(MutationRefused, match="--allow-mutations"):
        perform(safety, "rollout undo", "deployment/trading-bot", lambda: called.append(1))
    assert called == [] and safety.actions == []


def test_production_needs_a_change_ticket() -> None:
    safety = SafetyPolicy("production", production=True, allow_mutations=True)
    with pytest.raises(MutationRefused, match="--change=TICKET"):
        perform(safety, "scale", "deployment/trading-bot", lambda: None)


def test_every_action_is_recorded_done_or_failed() -> None:
    safety = SafetyPolicy("production", production=True, allow_mutations=True, change="CHG-42")
    value, result = perform(safety, "scale", "deployment/trading-bot", lambda: 7, replicas=3)
    assert value == 7 and result.outcome == "done"

    def boom() -> None:
        raise RuntimeError("API said no")

    with pytest.raises(ActionFailed, match="API said no"):
        perform(safety, "rollout undo", "deployment/trading-bot", boom)
    assert [(a["action"], a["outcome"], a["change"]) for a in safety.actions] == [
        ("scale", "done", "CHG-42"), ("rollout undo", "failed", "CHG-42")]
