"""The §6.1 trigger assessment (goldgate.criteria.triggers) on plain numbers: each trigger FAILs
on a measured breach with its value and threshold, PASSes on a healthy reading, and the
assessment adds them up to ROLLBACK, HOLD or PASS. The same judgements run inside
RollbackMonitor (tests/rollout/test_monitor_fake_cluster.py); here they need no monitor."""

from __future__ import annotations

import time

from goldgate.config import Thresholds
from goldgate.criteria.resources import PodUsage
from goldgate.criteria.triggers import (
    CPU,
    DISK,
    ERROR_RATE,
    HEALTH,
    MEMORY,
    OOM,
    P95_BASELINE,
    P95_BUDGET,
    Outcome,
    assess,
    count_delta,
    disk_trigger,
    latency_triggers,
    pod_triggers,
    usage_triggers,
)
from goldgate.probes.metrics.base import Measurement
from goldgate.probes.workloads import PodFact
from goldgate.verdict import Status, Verdict

T = Thresholds()
NOW = time.time()


def _p95(seconds: float, samples: int = 1000) -> Measurement:
    return Measurement("scrape", "p95", value=seconds, samples=samples)


def _pod(name: str, *, ready: bool = True, restarts: int = 0, last: str = "", at: float | None = None) -> PodFact:
    return PodFact(name=name, labels={}, phase="Running", ready=ready, deleting=False, created=NOW - 60,
                   restarts=restarts, last_termination_reason=last, last_termination_at=at)


def _pods(*pods: PodFact, start: dict[str, int] | None = None) -> list[Verdict]:
    return pod_triggers(list(pods), T, restarts_at_start=start or {}, ever_ready={p.name for p in pods if p.ready},
                        window_s=60.0, window_start_wall=NOW - 60, query="pods trading app=trading-bot")


def _by(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {v.criterion: v for v in verdicts}


def test_latency_against_the_stable_pods_fails_above_twice_their_p95() -> None:
    v = _by(latency_triggers(_p95(0.9), T, window_s=60.0, baseline=_p95(0.2)))
    assert v[P95_BASELINE].status is Status.FAIL and v[P95_BASELINE].rollback
    assert "0.9" in v[P95_BASELINE].message() and "threshold" in v[P95_BASELINE].message()
    assert v[P95_BUDGET].status is Status.FAIL  # 900 ms is above the §8.1 budget too: an alert


def test_latency_within_budget_and_baseline_passes() -> None:
    v = _by(latency_triggers(_p95(0.12), T, window_s=60.0, baseline=_p95(0.1)))
    assert v[P95_BASELINE].status is Status.PASS and v[P95_BUDGET].status is Status.PASS


def test_latency_without_any_baseline_holds() -> None:
    v = _by(latency_triggers(_p95(0.12), T, window_s=60.0))
    assert v[P95_BASELINE].status is Status.INCONCLUSIVE


def test_an_oom_kill_in_the_window_fails_and_is_named_before_the_health_checks() -> None:
    oom, health = _pods(_pod("a", restarts=1, last="OOMKilled", at=NOW - 10), start={"a": 0})
    assert (oom.criterion, health.criterion) == (OOM, HEALTH)
    assert oom.status is Status.FAIL and "threshold" in oom.message()


def test_healthy_pods_pass_both_pod_triggers() -> None:
    assert [v.status for v in _pods(_pod("a"), _pod("b"))] == [Status.PASS, Status.PASS]


def test_a_pod_still_starting_is_not_judged_unhealthy() -> None:
    starting = PodFact(name="s", labels={}, phase="Pending", ready=False, deleting=False, created=NOW,
                       restarts=0, waiting_reason="ContainerCreating")
    health = _by(_pods(_pod("a"), starting))[HEALTH]
    assert health.status is Status.PASS
    assert any("s" in e.details.get("starting", []) for e in health.evidence)


def _disk(avail: float, size: float) -> tuple[Measurement, Measurement]:
    return (Measurement("scrape", "avail", series=({"pod": "a", "value": avail},)),
            Measurement("scrape", "size", series=({"pod": "a", "value": size},)))


def test_free_disk_below_ten_percent_fails_and_above_passes() -> None:
    low = disk_trigger(*_disk(5.0, 100.0), T)
    assert low.criterion == DISK and low.status is Status.FAIL and "threshold" in low.message()
    assert disk_trigger(*_disk(50.0, 100.0), T).status is Status.PASS


def test_usage_above_the_limits_alerts_without_a_rollback() -> None:
    cpu, mem = usage_triggers([PodUsage("a", 0.95, 1.0, 0.9e9, 1e9)], T)
    assert (cpu.criterion, mem.criterion) == (CPU, MEMORY)
    assert cpu.status is Status.FAIL and mem.status is Status.FAIL and not cpu.rollback
    assert [v.status for v in usage_triggers([PodUsage("a", 0.1, 1.0, 1e8, 1e9)], T)] == [Status.PASS] * 2


def test_the_assessment_rolls_back_on_a_breach_holds_on_too_little_and_passes_on_all() -> None:
    ok = Verdict.passed(ERROR_RATE, 0.001, 0.01, rollback=True)
    thin = Verdict.inconclusive(ERROR_RATE, "too few requests", rollback=True)
    breach = Verdict.failed(DISK, 0.05, 0.1, "5 % free", rollback=True)
    assert assess("canary", 1.0, [ok]).outcome is Outcome.PASS
    assert assess("canary", 1.0, [thin]).outcome is Outcome.HOLD
    a = assess("canary", 1.0, [ok, breach])
    assert a.outcome is Outcome.ROLLBACK and a.verdicts[0].criterion == ERROR_RATE and "5 % free" in a.reason()


def test_counts_restart_when_a_pod_leaves_the_selection() -> None:
    assert count_delta((1200, 10), (1000, 5)) == (200, 5)
    assert count_delta((300, 1), (1000, 5)) == (0, 0)
