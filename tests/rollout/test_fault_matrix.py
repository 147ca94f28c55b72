"""The fault matrix of issue 4 against the sandbox: each fault → the right §6.1 trigger
FAILs → the rollback is done → the previous revision is Ready; a healthy release is
promoted without rollback; a canary without traffic is INCONCLUSIVE, never PASS."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest

from goldgate.probes.workloads import deployment_status, pod_facts
from goldgate.rollout import bluegreen, canary, rolling
from goldgate.rollout.base import Release, RolloutContext, RolloutReport
from goldgate.rollout.monitor import DISK, ERROR_RATE, HEALTH, OOM, P95_BASELINE
from goldgate.rollout.smoke import smoke_checks
from goldgate.rollout.traffic import TrafficStream
from goldgate.verdict import Status

from .conftest import PREVIOUS, RELEASE, run_image

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(240)]


def _previous_is_back(ctx: RolloutContext, images: tuple[str, ...]) -> None:
    deadline = time.monotonic() + 10  # the controller may not have observed the last spec change yet
    now = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    while not (now.complete and now.images == images) and time.monotonic() < deadline:
        time.sleep(0.3)
        now = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    assert now.images == images, f"running {now.images}, expected the previous {images}"
    assert now.complete and now.ready_replicas == now.replicas, now
    leftovers = [p.name for p in pod_facts(ctx.kube, ctx.namespace, "app=trading-bot") if not p.deleting
                 and (p.labels.get("track") or p.labels.get("slot"))]
    assert not leftovers, f"green/canary pods left behind: {leftovers}"


def _rolled_back_on(report: RolloutReport, criterion: str) -> None:
    assert report.outcome == "rolled back", (report.outcome, report.reason)
    assert report.trigger is not None, report.reason
    assert report.trigger.criterion == criterion, report.trigger.message()
    assert report.trigger.status is Status.FAIL, report.trigger.message()
    assert "vs threshold" in report.trigger.message()


def test_error_rate_3_percent_rolls_the_canary_back(ctx: RolloutContext, traffic: Callable[..., TrafficStream]) -> None:
    # At 3 % errors the window test needs about 200 canary requests before it may call a breach
    # (threshold ≈ 5.3 against a drift of ≈ 0.027 per request); the canary's quarter of 50 req/s
    # brings them in about 16 s, past the matrix's 14 s deadline, so this phase may run to 40 s.
    strategy = ctx.env.strategy.model_copy(update={"canary_phase_deadline_s": 40.0})
    ctx = dataclasses.replace(ctx, env=ctx.env.model_copy(update={"strategy": strategy}))
    run_image(ctx, PREVIOUS)
    traffic()
    report = canary.canary(ctx, Release(RELEASE, {"FAULT_ERROR_RATE": "0.03"}))
    _rolled_back_on(report, ERROR_RATE)
    assert report.trigger.observed > 0.01
    _previous_is_back(ctx, (PREVIOUS,))


def test_latency_x3_rolls_the_canary_back(ctx: RolloutContext, traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    traffic()
    report = canary.canary(ctx, Release(RELEASE, {"FAULT_LATENCY_MS": "80"}))
    _rolled_back_on(report, P95_BASELINE)
    assert report.trigger.observed > report.trigger.threshold
    _previous_is_back(ctx, (PREVIOUS,))


def test_memory_growth_to_oom_rolls_the_canary_back(ctx: RolloutContext,
                                                    traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    traffic()
    report = canary.canary(ctx, Release(RELEASE, {"FAULT_MEMORY_GROWTH_MB_PER_S": "150"}, memory_limit="256Mi"))
    _rolled_back_on(report, OOM)
    _previous_is_back(ctx, (PREVIOUS,))


def test_crash_loop_is_undone_during_the_rolling_update(ctx: RolloutContext,
                                                        traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    traffic()
    report = rolling.rolling_update(ctx, Release(RELEASE, {"FAULT_CRASH_AT_START": "true"}))
    _rolled_back_on(report, HEALTH)
    assert [a.action for a in report.actions] == ["release", "rollout undo"]
    assert {v.criterion: v.status for v in report.checks}[rolling.QUORUM] is Status.PASS
    _previous_is_back(ctx, (PREVIOUS,))


def test_never_ready_stalls_the_rolling_update_and_is_undone(ctx: RolloutContext) -> None:
    run_image(ctx, PREVIOUS)
    from goldgate.actions import kubernetes as actions

    actions.set_progress_deadline(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, 4)
    try:
        report = rolling.rolling_update(ctx, Release(RELEASE, {"FAULT_NEVER_READY": "true"}))
    finally:
        actions.set_progress_deadline(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, 600)
    assert report.outcome == "rolled back", report.reason
    assert "ProgressDeadlineExceeded" in report.reason
    assert report.trigger is not None and report.trigger.status is Status.FAIL
    assert {v.criterion: v.status for v in report.checks}[rolling.QUORUM] is Status.PASS  # old pods kept serving
    _previous_is_back(ctx, (PREVIOUS,))


def test_disk_pressure_switches_blue_green_back_to_blue(ctx: RolloutContext,
                                                        traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    traffic()
    report = bluegreen.blue_green(ctx, Release(RELEASE, {"FAULT_DISK_FREE_PERCENT": "5"}), smoke_checks(ctx.env))
    _rolled_back_on(report, DISK)
    assert report.trigger.observed == pytest.approx(0.05, abs=0.01)
    switches = [a for a in report.actions if a.action == "switch service selector"]
    assert [a.details["reason"].split(":")[0] for a in switches] == [
        "pin user traffic to blue while green deploys", "route traffic to green",
        "automatic rollback to blue", "restore the Service selector"]
    assert {v.criterion: v.status for v in report.checks}[bluegreen.BLUE_BACKUP] is Status.PASS
    _previous_is_back(ctx, (PREVIOUS,))


def test_no_traffic_canary_is_inconclusive_not_promoted(ctx: RolloutContext) -> None:
    run_image(ctx, PREVIOUS)
    report = canary.canary(ctx, Release(RELEASE))
    assert report.outcome == "rolled back", report.reason
    assert report.trigger is not None and report.trigger.status is Status.INCONCLUSIVE
    assert report.trigger.criterion == ERROR_RATE and "no requests" in report.trigger.reason
    assert all(a.outcome.value != "PASS" for a in report.assessments)
    _previous_is_back(ctx, (PREVIOUS,))


def test_healthy_release_is_promoted_by_canary_without_rollback(ctx: RolloutContext,
                                                                traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    stream = traffic()
    report = canary.canary(ctx, Release(RELEASE))
    assert report.outcome == "promoted", (report.reason, report.trigger and report.trigger.message())
    assert [p["weight"] for p in report.phases] == [10, 50, 100]
    assert all(p["outcome"] == "PASS" for p in report.phases)
    assert "rollout undo" not in [a.action for a in report.actions]
    _previous_is_back(ctx, (RELEASE,))
    assert stream.stats.server_errors == 0 and stream.stats.failures == 0, stream.stats.to_dict()


def test_green_failing_its_smoke_tests_never_gets_traffic(ctx: RolloutContext) -> None:
    run_image(ctx, PREVIOUS)
    report = bluegreen.blue_green(ctx, Release(RELEASE, {"FAULT_ERROR_RATE": "1.0"}), smoke_checks(ctx.env))
    assert report.outcome == "rolled back", report.reason
    assert report.trigger is not None and report.trigger.status is Status.FAIL
    assert report.trigger.criterion == "green XAUUSD signal" and report.trigger.observed == 500
    reasons = [a.details["reason"] for a in report.actions if a.action == "switch service selector"]
    assert "route traffic to green" not in reasons
    _previous_is_back(ctx, (PREVIOUS,))


# ------------------------------------------------------------------ bursty errors shared by both versions
#: Every /api/ request fails for 0.1 s of every 20 s (epoch-aligned: every pod at once), 0.5 % on
#: average: at 100 req/s a burst puts 10 errors into one 1 s poll, which the former window test,
#: judging a lone release's requests as independent, took for a breach.
# 1 % errors for 4 s of every 20 s (mean 0.2 %), on every pod with the value at once. Spikier
# bursts (100 % for 0.1 s) can still roll back the canary's 100 % phase, where no stable runs
# beside it and the lone test has only the earlier phases' dozen polls to estimate from.
SHARED_BURSTS = "0.01/4/20"


def _with_shared_bursts(ctx: RolloutContext, deadline_s: float) -> RolloutContext:
    """The stable Deployment carries the bursts (a canary copies its template); the phases may run
    to ``deadline_s``, and ten polls of the stable pods are history enough for the lone phase."""
    strategy = ctx.env.strategy.model_copy(update={"canary_phase_deadline_s": deadline_s})
    test = ctx.env.error_rate_test.model_copy(update={"dispersion_min_polls": 10})
    ctx = dataclasses.replace(ctx, env=ctx.env.model_copy(update={"strategy": strategy, "error_rate_test": test}))
    _set_stable_env(ctx, PREVIOUS, {"FAULT_ERROR_BURSTS": SHARED_BURSTS})
    return ctx


def _set_stable_env(ctx: RolloutContext, image: str, env: dict[str, str]) -> None:
    from goldgate.actions import kubernetes as actions
    from goldgate.rollout.base import own_pods, wait_for_pods

    actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, ctx.env.kubernetes.container, image=image,
                    env=env)
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas, deadline_s=60,
                           complete=True, fail_fast=False)
    assert waited.ok, waited.reason


def test_shared_error_bursts_do_not_roll_a_healthy_canary_back(ctx: RolloutContext,
                                                               traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    ctx = _with_shared_bursts(ctx, 30.0)
    try:
        traffic(100.0)
        report = canary.canary(ctx, Release(RELEASE))
        assert report.outcome == "promoted", (report.reason, report.trigger and report.trigger.message())
        notes = [n for p in report.phases for n in p["notes"]]
        assert any("paired with the stable pods" in n for n in notes), notes
        assert any("lone release" in n for n in notes), notes
    finally:
        _set_stable_env(ctx, deployment_status(ctx.kube, ctx.namespace, ctx.deployment).images[0],
                        {"FAULT_ERROR_BURSTS": ""})
    _previous_is_back(ctx, (RELEASE,))


def test_the_same_bursts_plus_a_canary_only_2_percent_roll_it_back(ctx: RolloutContext,
                                                                  traffic: Callable[..., TrafficStream]) -> None:
    run_image(ctx, PREVIOUS)
    # 2 % on the canary's quarter of 100 req/s is one error every 2 s: the paired test needs about
    # ten of them beside the stable's, so this phase may run to 60 s.
    ctx = _with_shared_bursts(ctx, 60.0)
    try:
        traffic(100.0)
        report = canary.canary(ctx, Release(RELEASE, {"FAULT_ERROR_RATE": "0.02"}))
        _rolled_back_on(report, ERROR_RATE)
        assert report.trigger.observed > 0.01
        assert "stable pods beside it" in report.trigger.reason
    finally:
        _set_stable_env(ctx, PREVIOUS, {"FAULT_ERROR_BURSTS": ""})
    _previous_is_back(ctx, (PREVIOUS,))
