"""Health checks, free disk, OOM kills, CPU and memory vs limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from goldgate.criteria.health import PodHealth, health_checks, start_problems, startup_health
from goldgate.criteria.resources import (
    DiskReading,
    PodUsage,
    cpu_vs_limit,
    free_disk,
    memory_vs_limit,
    oom_kills,
)
from goldgate.verdict import Status

LIMITS = {"max_restarts": 0, "max_probe_failures": 0, "max_unhealthy_pods": 0, "window_s": 60}

pod = st.builds(
    PodHealth, name=st.text("abc", min_size=1, max_size=3), ready=st.booleans(),
    restarts_in_window=st.integers(0, 3), liveness_failures=st.integers(0, 3),
    readiness_failures=st.integers(0, 3),
)


@given(st.lists(pod, max_size=6))
def test_an_unhealthy_pod_never_passes(pods) -> None:
    v = health_checks(pods, **LIMITS)
    unhealthy = any(not p.ready or p.restarts_in_window or p.liveness_failures
                    or p.readiness_failures for p in pods)
    if not pods:
        assert v.status is Status.INCONCLUSIVE
    elif unhealthy:
        assert v.status is Status.FAIL and v.rollback
    else:
        assert v.status is Status.PASS


def test_restart_and_not_ready_are_named() -> None:
    pods = [PodHealth("bot-a", ready=True), PodHealth("bot-b", ready=False, restarts_in_window=2,
                                                      waiting_reason="CrashLoopBackOff")]
    v = health_checks(pods, **LIMITS)
    assert v.status is Status.FAIL
    assert "bot-b" in v.reason and "2 restarts (max 0)" in v.reason and "CrashLoopBackOff" in v.reason
    assert "1 of 2 pods" in v.reason and "60s" in v.reason


@given(st.floats(0, 1e12), st.floats(1, 1e12), st.floats(0.01, 0.5))
def test_disk_below_minimum_never_passes(avail, size, minimum) -> None:
    avail = min(avail, size)
    v = free_disk([DiskReading("p", avail, size)], min_free_fraction=minimum)
    if avail / size < minimum:
        assert v.status is Status.FAIL and v.rollback
    else:
        assert v.status is Status.PASS


def test_disk_pressure_message_and_no_data() -> None:
    v = free_disk([DiskReading("bot-a", 95.0, 100.0), DiskReading("bot-b", 5.0, 100.0)],
                  min_free_fraction=0.10, window_s=60)
    assert v.status is Status.FAIL and "bot-b" in v.reason and "5 %" in v.reason and "10 %" in v.reason
    assert "window 60s" in v.message() and "2 samples" in v.message()
    assert free_disk([DiskReading("x", None, 100.0)], min_free_fraction=0.1).status is Status.INCONCLUSIVE
    assert free_disk([], min_free_fraction=0.1).status is Status.INCONCLUSIVE


def test_oom_kill_in_window_rolls_back() -> None:
    pods = [PodHealth("bot-a", ready=True),
            PodHealth("bot-b", ready=True, restarts_in_window=1,
                      last_termination_reason="OOMKilled", last_termination_at=1050.0)]
    v = oom_kills(pods, window_start=1000.0, max_oom_kills=0)
    assert v.status is Status.FAIL and v.rollback and "bot-b" in v.reason and "max 0" in v.reason
    old = [PodHealth("bot-b", ready=True, last_termination_reason="OOMKilled", last_termination_at=900.0)]
    assert oom_kills(old, window_start=1000.0, max_oom_kills=0).status is Status.PASS
    untimed = [PodHealth("bot-b", ready=True, restarts_in_window=1, last_termination_reason="OOMKilled")]
    assert oom_kills(untimed, window_start=1000.0, max_oom_kills=0).status is Status.FAIL
    assert oom_kills([], window_start=0, max_oom_kills=0).status is Status.INCONCLUSIVE


@given(st.floats(0, 64), st.floats(0.01, 64), st.floats(0.1, 1))
def test_cpu_above_share_of_limit_never_passes(used, limit, share) -> None:
    v = cpu_vs_limit([PodUsage("p", cpu_cores=used, cpu_limit_cores=limit)], max_fraction=share)
    assert (v.status is Status.FAIL) == (used / limit >= share)  # §8.3 "< 70 %": the target itself fails
    assert not v.rollback


def test_memory_alert_and_missing_limit() -> None:
    v = memory_vs_limit([PodUsage("bot-a", memory_bytes=450e6, memory_limit_bytes=512e6)],
                        max_fraction=0.8)
    assert v.status is Status.FAIL and not v.rollback and "87.9 %" in v.reason and "80 %" in v.reason
    ok = memory_vs_limit([PodUsage("bot-a", memory_bytes=100e6, memory_limit_bytes=512e6)], max_fraction=0.8)
    assert ok.status is Status.PASS
    nolimit = memory_vs_limit([PodUsage("bot-a", memory_bytes=100e6)], max_fraction=0.8)
    assert nolimit.status is Status.INCONCLUSIVE


# ----------------------------------------------------------------------------- starting pods
START = {"max_restarts": 0, "max_oom_kills": 0, "group": "deployment/trading-bot"}


def test_a_crash_looping_pod_fails_startup_health_with_count_and_threshold() -> None:
    pods = [PodHealth("bot-a", ready=False, waiting_reason="ContainerCreating"),
            PodHealth("bot-b", ready=False, waiting_reason="CrashLoopBackOff")]
    v = startup_health(pods, criterion="health checks (§6.1)", oom_criterion="OOM kills (§6.1)", **START)
    assert v.status is Status.FAIL and v.rollback and v.criterion == "health checks (§6.1)"
    assert (v.observed, v.threshold) == (1, 0)
    assert "1 of 2 pods of deployment/trading-bot failed: bot-b: CrashLoopBackOff" in v.reason
    assert "observed 1 unhealthy pods vs threshold 0 unhealthy pods" in v.message()


def test_pods_still_starting_pass_startup_health_but_not_the_window_check() -> None:
    pods = [PodHealth("bot-a", ready=False, waiting_reason="ContainerCreating"), PodHealth("bot-b", ready=True)]
    assert startup_health(pods, **START).status is Status.PASS
    assert health_checks(pods, **LIMITS).status is Status.FAIL  # not Ready counts once the window runs
    assert startup_health([], **START).status is Status.INCONCLUSIVE


def test_an_oom_kill_is_reported_as_the_oom_criterion() -> None:
    pods = [PodHealth("bot-a", ready=True, restarts_in_window=1, last_termination_reason="OOMKilled")]
    v = startup_health(pods, criterion="health", oom_criterion="OOM kills", **START)
    assert v.status is Status.FAIL and v.criterion == "OOM kills"
    assert "bot-a: restarted 1x, last exit OOMKilled" in v.reason


def test_startup_tolerances_come_from_the_caller() -> None:
    pods = [PodHealth("bot-a", ready=True, restarts_in_window=1, last_termination_reason="OOMKilled")]
    tolerant = startup_health(pods, max_restarts=1, max_oom_kills=1, group="g", criterion="health")
    assert tolerant.status is Status.PASS and "tolerated: 1 restarts, 1 OOM kills" in tolerant.reason
    restarts_only = startup_health(pods, max_restarts=0, max_oom_kills=1, group="g", criterion="health",
                                   oom_criterion="OOM kills")
    assert restarts_only.status is Status.FAIL and restarts_only.criterion == "health"
    assert start_problems(pods, max_restarts=1, max_oom_kills=0) == ["bot-a: OOMKilled"]


def test_negative_counts_and_tolerances_are_errors_not_verdicts() -> None:
    bad = [PodHealth("bot-a", ready=True, restarts_in_window=-2)]
    v = startup_health(bad, **START)
    assert v.status is Status.ERROR and "bot-a: restarts_in_window -2" in v.reason
    assert health_checks(bad, **LIMITS).status is Status.ERROR
    assert health_checks([PodHealth("a", True)], **{**LIMITS, "max_restarts": -1}).status is Status.ERROR
    assert oom_kills([PodHealth("a", True)], window_start=0.0, max_oom_kills=-1).status is Status.ERROR


def test_limits_that_are_not_numbers_never_pass() -> None:
    nan = float("nan")
    assert free_disk([DiskReading("p", 50.0, 100.0)], min_free_fraction=nan).status is Status.ERROR
    assert free_disk([DiskReading("p", float("inf"), float("inf"))], min_free_fraction=0.1).status \
        is Status.INCONCLUSIVE
    usage = [PodUsage("p", cpu_cores=0.1, cpu_limit_cores=1.0)]
    assert cpu_vs_limit(usage, max_fraction=nan).status is Status.ERROR
    assert cpu_vs_limit([PodUsage("p", cpu_cores=0.1, cpu_limit_cores=float("inf"))],
                        max_fraction=0.7).status is Status.INCONCLUSIVE
    assert oom_kills([PodHealth("a", True)], window_start=nan, max_oom_kills=0).status is Status.ERROR
