"""The rollout decisions of goldgate.criteria.rollout, and how the strategies feed them.

Each decision: the fault case FAILs with value and threshold in the message, the healthy
case PASSes, and a report without the observation never passes (the degenerate cases in
tests/criteria/degenerate/resources.py add the property test). The strategies' own code
(rollout/base.py, rolling.py) only hands over facts: checked here on PodFact lists.
"""

from __future__ import annotations

from types import SimpleNamespace

from goldgate.criteria import rollout as judge
from goldgate.probes.workloads import PodFact
from goldgate.rollout.base import PodTolerances, hard_failure, pod_tolerances
from goldgate.rollout.rolling import ORDER, QUORUM, QuorumTracker
from goldgate.verdict import Status, Verdict


def _pod(name: str, restarts: int = 0, **kw) -> PodFact:
    return PodFact(name=name, labels={"pod-template-hash": "h"}, phase="Running", ready=kw.pop("ready", True),
                   deleting=kw.pop("deleting", False), created=None, restarts=restarts, **kw)


def test_a_stalled_rollout_fails_with_ready_pods_against_the_wanted_count() -> None:
    v = judge.rollout_progress("trading-bot", ready=1, want=3, waited_s=61.0, deadline_s=60.0,
                               deadline_exceeded=False)
    assert v.status is Status.FAIL and v.rollback and v.criterion == judge.PROGRESS
    assert "observed 1 Ready pods vs threshold 3 Ready pods" in v.message()
    assert "deadline 60s" in v.reason
    stuck = judge.rollout_progress("trading-bot", ready=2, want=3, waited_s=5.0, deadline_s=60.0,
                                   deadline_exceeded=True, condition="ReplicaSet has timed out progressing")
    assert stuck.status is Status.FAIL and "ProgressDeadlineExceeded (ReplicaSet has timed out" in stuck.reason


def test_progress_passes_in_time_and_is_undecided_while_progressing() -> None:
    ok = judge.rollout_progress("d", ready=3, want=3, waited_s=5.0, deadline_s=60.0, deadline_exceeded=False)
    assert ok.status is Status.PASS
    going = judge.rollout_progress("d", ready=1, want=3, waited_s=5.0, deadline_s=60.0, deadline_exceeded=False)
    assert going.status is Status.INCONCLUSIVE
    nan = judge.rollout_progress("d", ready=3, want=3, waited_s=float("nan"), deadline_s=60.0,
                                 deadline_exceeded=False)
    assert nan.status is Status.ERROR


def test_quorum_and_order_from_the_tracker() -> None:
    t = QuorumTracker(quorum=3, old_hashes={"old"}, max_unavailable=0)
    new = {"pod-template-hash": "new"}
    old = {"pod-template-hash": "old"}

    def pod(name: str, labels: dict, ready: bool = True) -> PodFact:
        return PodFact(name=name, labels=labels, phase="Running", ready=ready, deleting=False, created=None,
                       restarts=0)

    t.observe([pod("o1", old), pod("o2", old), pod("o3", old)])
    t.observe([pod("o1", old), pod("o2", old), pod("o3", old), pod("n1", new)])
    t.observe([pod("o2", old), pod("o3", old), pod("n1", new)])
    v = {x.criterion: x for x in t.verdicts(3.0)}
    assert v[QUORUM].status is Status.PASS and v[ORDER].status is Status.PASS
    empty = QuorumTracker(quorum=3, old_hashes=set(), max_unavailable=0).verdicts(None)
    assert [x.status for x in empty] == [Status.INCONCLUSIVE]


def test_blue_backup_fails_below_its_replicas() -> None:
    v = judge.blue_backup(2, 3)
    assert v.status is Status.FAIL and "observed 2 pods vs threshold 3 pods" in v.message()
    assert judge.blue_backup(3, 3).status is Status.PASS


def test_the_named_trigger_must_have_fired() -> None:
    breach = Verdict.failed("error rate (§6.1 rollback above 1 %)", 0.03, 0.01, "3 %", rollback=True)
    fired = judge.trigger_fired("error rate", breach, outcome="rolled back", trigger=breach)
    assert fired.status is Status.PASS and "the trigger fired" in fired.reason
    missed = judge.trigger_fired("error rate", None, outcome="promoted", trigger=None)
    assert missed.status is Status.FAIL and "observed promoted vs threshold \"error rate\" FAIL" in missed.message()


def test_rollback_needs_the_outcome_and_the_action() -> None:
    assert judge.rolled_back("rolling update", "rollout undo", outcome="rolled back", reason="r",
                             action_done=True).status is Status.PASS
    v = judge.rolled_back("rolling update", "rollout undo", outcome="promoted", reason="", action_done=False)
    assert v.status is Status.FAIL and "observed promoted vs threshold rolled back" in v.message()


def test_previous_revision_names_every_difference() -> None:
    ok = judge.previous_revision_restored(images_before=("bot:v1",), images_now=("bot:v1",), complete=True,
                                          ready=3, replicas=3, http_status=200, version="v1",
                                          expected_version="v1")
    assert ok.status is Status.PASS
    bad = judge.previous_revision_restored(images_before=("bot:v1",), images_now=("bot:v2",), complete=False,
                                           ready=2, replicas=3, http_status=200, version="v2",
                                           expected_version="v1")
    assert bad.status is Status.FAIL
    assert "images ['bot:v2'] instead of ['bot:v1']" in bad.reason and "2/3 Ready" in bad.reason
    assert "version v2, expected v1" in bad.reason


def test_a_previous_revision_that_is_the_release_under_test_fails() -> None:
    same = dict(images_before=("bot:v1.2.0",), images_now=("bot:v1.2.0",), complete=True, ready=3, replicas=3,
                http_status=200, version="v1.2.0", expected_version="v1.2.0")
    v = judge.previous_revision_restored(**same, release_version="v1.2.0", release_image="bot:v1.2.0")
    assert v.status is Status.FAIL
    assert "observed previous version v1.2.0 vs threshold not the release under test (version v1.2.0)" in v.message()
    by_image = judge.previous_revision_restored(**{**same, "expected_version": None}, release_image="bot:v1.2.0")
    assert by_image.status is Status.FAIL and "image bot:v1.2.0" in by_image.reason
    ok = judge.previous_revision_restored(images_before=("bot:v1.1.0",), images_now=("bot:v1.1.0",), complete=True,
                                          ready=3, replicas=3, http_status=200, version="v1.1.0",
                                          expected_version="v1.1.0", release_version="v1.2.0",
                                          release_image="bot:v1.2.0")
    assert ok.status is Status.PASS and "serving version v1.1.0" in ok.reason


def test_promotion_passes_through_an_undecided_trigger() -> None:
    held = Verdict.inconclusive("error rate", "only 40 requests", threshold=0.01, rollback=True)
    assert judge.promoted("green promoted", outcome="rolled back", reason="r", trigger=held) is held
    v = judge.promoted("green promoted", outcome="promotion failed", reason="blue update failed", trigger=None)
    assert v.status is Status.FAIL and "observed promotion failed vs threshold promoted" in v.message()
    assert judge.promoted("green promoted", outcome="promoted", reason="ok", trigger=None).status is Status.PASS


def test_canary_phases_must_all_pass_in_order() -> None:
    ok = judge.canary_phases([10, 50, 100], [10, 50, 100], phase_s=6, outcome="promoted", reason="",
                             trigger=None)
    assert ok.status is Status.PASS and "over 6s" in ok.reason
    v = judge.canary_phases([10], [10, 50, 100], phase_s=6, outcome="rolled back", reason="p95", trigger=None)
    assert v.status is Status.FAIL and "observed [10] vs threshold [10, 50, 100]" in v.message()


def test_a_no_traffic_canary_is_held_inconclusive() -> None:
    held = Verdict.inconclusive("error rate", "no requests", rollback=True)
    assert judge.held_without_traffic(held, outcome="rolled back", reason="").status is Status.PASS
    v = judge.held_without_traffic(None, outcome="promoted", reason="every trigger passed")
    assert v.status is Status.FAIL and "observed promoted vs threshold INCONCLUSIVE" in v.message()


def test_release_on_every_replica() -> None:
    assert judge.release_on_every_replica("bot:v2", images=("bot:v2",), ready=3, replicas=3,
                                          complete=True).status is Status.PASS
    v = judge.release_on_every_replica("bot:v2", images=("bot:v1", "bot:v2"), ready=3, replicas=3, complete=False)
    assert v.status is Status.FAIL and "bot:v2 on 3" in v.message()


def test_smoke_on_green_only() -> None:
    green_ok = Verdict.passed("green liveness /health", 200, 200)
    assert judge.smoke_on_green_only([green_ok], url="http://127.0.0.1:9/", production_url="http://127.0.0.1:8",
                                     outcome="promoted", reason="") == [green_ok]
    wrong = judge.smoke_on_green_only([green_ok], url="http://127.0.0.1:8/", production_url="http://127.0.0.1:8",
                                      outcome="promoted", reason="")
    assert wrong[-1].status is Status.FAIL and "production Service" in wrong[-1].reason
    none = judge.smoke_on_green_only([], url="", production_url="http://x", outcome="rolled back", reason="r")
    assert none[0].status is Status.ERROR


def test_recorded_verdicts_are_found_or_an_error() -> None:
    quorum = Verdict.passed(QUORUM, 3, 3)
    assert judge.recorded_verdict(QUORUM, [quorum], why="-") is quorum
    assert judge.recorded_verdict("error rate", [Verdict.passed("Error rate (x)", 0, 0.01)], why="-",
                                  by_prefix=True).ok
    assert judge.recorded_verdict(ORDER, [quorum], why="not checked").status is Status.ERROR


def test_user_traffic_only_away_from_this_machine() -> None:
    assert judge.user_traffic("https://bot.example", 20, on_this_machine=False).status is Status.PASS
    assert judge.user_traffic("http://127.0.0.1:1", 20, on_this_machine=True).status is Status.INCONCLUSIVE


def test_hard_failures_use_the_environments_tolerances() -> None:
    pods = [_pod("a", restarts=2, last_termination_reason="OOMKilled"), _pod("gone", restarts=9, deleting=True)]
    assert hard_failure(pods, {"a": 1}) == "a: restarted 1x, last exit OOMKilled"
    assert hard_failure(pods, {"a": 1}, tolerances=PodTolerances(max_restarts=1, max_oom_kills=1)) == ""
    env = SimpleNamespace(thresholds=SimpleNamespace(max_restarts=2, max_oom_kills=1))
    assert pod_tolerances(env) == PodTolerances(2, 1)  # type: ignore[arg-type]
    assert pod_tolerances(SimpleNamespace(thresholds=SimpleNamespace())) == PodTolerances(0, 0)  # type: ignore[arg-type]


def test_stable_health_after_a_rollback_names_the_breach() -> None:
    ok = [Verdict.passed("error rate", 0.0, 0.01), Verdict.passed("health checks", 0, 0)]
    v = judge.stable_healthy_after_rollback(ok, window_s=6.0, watched_s=6.2)
    assert v.status is Status.PASS and "watched 6.2s after the rollback" in v.reason
    sick = [Verdict.passed("error rate", 0.0, 0.01),
            Verdict.failed("health checks", 2, 0, "2 of 3 pods unhealthy", unit="unhealthy pods")]
    v = judge.stable_healthy_after_rollback(sick, window_s=6.0, watched_s=6.2)
    assert v.status is Status.FAIL
    assert "health checks: observed 2 vs threshold 0" in v.reason
    assert "vs threshold every rollback criterion PASS over 6s" in v.message()
    thin = [Verdict.inconclusive("error rate", "40 requests")]
    assert judge.stable_healthy_after_rollback(thin, window_s=6.0, watched_s=6.2).status is Status.INCONCLUSIVE
    assert judge.stable_healthy_after_rollback(ok, window_s=6.0, watched_s=3.0).status is Status.INCONCLUSIVE
