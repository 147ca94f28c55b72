"""The automatic-rollback triggers of guide §6.1: each poll's measurements judged, and what they add up to.

:class:`goldgate.rollout.monitor.RollbackMonitor` reads (metrics, pods, resource usage) once
per evaluation interval; everything that turns those readings into trigger verdicts, and
the verdicts into one :class:`Assessment`, is here, without I/O, so every front end (a
rollout strategy, ``goldgate watch``, the judge) decides the same way on the same numbers.

=====================  ============================================  =========
trigger (guide §6.1)   criterion                                     on FAIL
=====================  ============================================  =========
Error Rate > 1 %       :mod:`~goldgate.criteria.paired_error_rate` / :mod:`~goldgate.criteria.lone_error_rate`  rollback
Latency p95 > 2x base  :func:`~goldgate.criteria.latency.p95_vs_baseline` / :mod:`~goldgate.criteria.lone_latency`  rollback
Health Check failed    :func:`~goldgate.criteria.health.health_checks`     rollback
Disk Space < 10 % free :func:`~goldgate.criteria.resources.free_disk`      rollback
Memory: OOM kills      :func:`~goldgate.criteria.resources.oom_kills`      rollback
p95 > 500 ms (§8.1)    :func:`~goldgate.criteria.latency.p95_above_budget` alert
CPU > 70 % of limit    :func:`~goldgate.criteria.resources.cpu_vs_limit`      alert
Memory > 80 % of limit :func:`~goldgate.criteria.resources.memory_vs_limit`   alert
=====================  ============================================  =========

An :class:`Assessment` is ROLLBACK when any rollback trigger FAILs, PASS only when every
rollback trigger PASSes on data, HOLD otherwise (too little traffic, a probe that could not
measure): a hold is never a pass; the strategy decides how long to hold.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldgate.config import Environment, Thresholds
from goldgate.criteria.health import PodHealth, health_checks, pod_tolerances
from goldgate.criteria.latency import p95_above_budget, p95_baseline_waived, p95_vs_baseline
from goldgate.criteria.lone_error_rate import DispersionSetting, DispersionStats
from goldgate.criteria.lone_latency import LoneLatencyState, lone_latency
from goldgate.criteria.measured import probe_failed
from goldgate.criteria.registry import criterion as registered
from goldgate.criteria.resources import (
    DiskReading,
    PodUsage,
    cpu_vs_limit,
    free_disk,
    memory_vs_limit,
    oom_kills,
)
from goldgate.criteria.sprt import SprtParams
from goldgate.criteria.watch_error_rate import WatchPlan
from goldgate.probes.metrics import Measurement
from goldgate.probes.workloads import PodFact
from goldgate.verdict import Evidence, Status, Verdict

ERROR_RATE = "error rate (§6.1 rollback above 1 %)"
P95_BASELINE = "p95 latency vs baseline (§6.1 rollback above 2x)"
P95_BUDGET = "p95 latency budget (§8.1 alert above 500 ms)"
CPU = "CPU vs limit (§8.3 alert above 70 %)"
MEMORY = "memory vs limit (§8.3 alert above 80 %)"
HEALTH = "health checks (§6.1 rollback on failed health checks)"
DISK = "free disk (§6.1 rollback below 10 % free)"
OOM = "OOM kills (§6.1 rollback when OOM kills are detected)"
#: Most specific first: an OOM kill also restarts the pod, which the health checks see too.
ROLLBACK_TRIGGERS = (ERROR_RATE, P95_BASELINE, OOM, DISK, HEALTH)
#: The order an assessment lists its verdicts in: rollback triggers, then the alerts.
TRIGGER_ORDER = (*ROLLBACK_TRIGGERS, P95_BUDGET, CPU, MEMORY)

#: Pods that are still starting keep these waiting reasons without having failed anything.
STARTING_REASONS = frozenset({"", "ContainerCreating", "PodInitializing"})


# --------------------------------------------------------------------------- the environment's tests
def sprt_params(env: Environment) -> SprtParams:
    """The sequential error-rate test of an environment (limit = the §6.1 threshold)."""
    t = env.error_rate_test
    return SprtParams(limit=env.thresholds.error_rate, p0=t.healthy_rate, p1=t.breached_rate,
                      alpha=t.false_rollback, beta=t.missed_breach, max_requests=t.max_requests)


def watch_plan(env: Environment, horizon_s: float | None = None, max_gap_s: float | None = None) -> WatchPlan:
    """The window-wide error-rate test of an environment.

    ``horizon_s``: the longest the window can run (default ``error_rate_test.horizon_s``,
    else the longest a strategy monitors: twice the switch window or the canary phase
    deadline). ``max_gap_s``: the longest stretch without requests a PASS may span
    (default ``error_rate_test.max_gap_s``, else three evaluation intervals).
    """
    t, s = env.error_rate_test, env.strategy
    horizon = horizon_s or getattr(t, "horizon_s", None) or max(
        2 * s.monitoring_window_s, s.canary_phase_deadline_s or 2 * s.canary_phase_s)
    gap = max_gap_s or getattr(t, "max_gap_s", None) or 3 * s.evaluation_interval_s
    return WatchPlan(sprt_params(env), horizon_s=float(horizon), max_gap_s=float(gap),
                     resolution_s=getattr(t, "resolution_s", None))


def dispersion_setting(env: Environment) -> DispersionSetting:
    """How a lone release's error-rate test allows for bursts (``error_rate_test.dispersion``)."""
    t = env.error_rate_test
    configured = getattr(t, "dispersion", "auto")
    return DispersionSetting(configured=None if configured == "auto" else float(configured),
                             default=float(getattr(t, "default_dispersion", 30.0)),
                             min_polls=int(getattr(t, "dispersion_min_polls", 30)))


def baseline_waiver(env: Environment) -> str:
    """The environment's explicit "no baseline exists" (``strategy.baseline: none``), or ""."""
    if str(getattr(env.strategy, "baseline", "") or "").strip().lower() == "none":
        return f"environment {env.name}: strategy.baseline is 'none'"
    return ""


@dataclass(frozen=True)
class History:
    """Per-poll counts of a version read earlier (``stats``) and what they were (``source``)."""

    stats: DispersionStats
    source: str


# --------------------------------------------------------------------------- what one evaluation adds up to
class Outcome(enum.StrEnum):
    ROLLBACK = "ROLLBACK"
    PASS = "PASS"  # noqa: S105 - an outcome, not a password
    HOLD = "HOLD"


@dataclass(frozen=True)
class Assessment:
    """One evaluation: a verdict per trigger and what they add up to."""

    group: str
    elapsed_s: float
    verdicts: tuple[Verdict, ...]
    at: float = field(default_factory=time.time)

    @property
    def breaches(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.rollback and v.status is Status.FAIL]

    @property
    def alerts(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.rollback and v.status is Status.FAIL]

    @property
    def undecided(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.rollback and v.status in (Status.INCONCLUSIVE, Status.ERROR)]

    @property
    def outcome(self) -> Outcome:
        if self.breaches:
            return Outcome.ROLLBACK
        if self.undecided:
            return Outcome.HOLD
        return Outcome.PASS

    def summary(self) -> str:
        """One line per evaluation for progress output: each trigger's status and value."""
        parts = []
        for v in self.verdicts:
            short = v.criterion.split(" (")[0]
            parts.append(f"{short}={v.status.value}" + (f"({_short_value(v)})" if v.observed is not None else ""))
        return f"[{self.elapsed_s:6.1f}s] {self.group}: {self.outcome.value} — " + ", ".join(parts)

    def reason(self) -> str:
        """Why this outcome: the breaches, else what is still undecided."""
        if self.breaches:
            return "; ".join(v.message() for v in self.breaches)
        if self.undecided:
            return "; ".join(v.message() for v in self.undecided)
        return "every rollback trigger passed"


def assess(group: str, elapsed_s: float, verdicts: Iterable[Verdict]) -> Assessment:
    """The assessment of one evaluation, its verdicts in :data:`TRIGGER_ORDER` (others after)."""
    order = {name: i for i, name in enumerate(TRIGGER_ORDER)}
    return Assessment(group, elapsed_s, tuple(sorted(verdicts, key=lambda v: order.get(v.criterion, 99))))


def worst(assessments: Sequence[Assessment]) -> Assessment | None:
    """The first assessment that asked for a rollback, else the last one."""
    for a in assessments:
        if a.outcome is Outcome.ROLLBACK:
            return a
    return assessments[-1] if assessments else None


def _short_value(v: Verdict) -> str:
    if isinstance(v.observed, float):
        return f"{v.observed:.4g}"
    return str(v.observed)


# --------------------------------------------------------------------------- the triggers
def count_delta(now: tuple[int, int], seen: tuple[int, int]) -> tuple[int, int]:
    """Requests and errors since ``seen``; a pod that left the selection restarts the count."""
    total, errors = now
    prev_total, prev_errors = seen
    if total < prev_total or errors < prev_errors:
        prev_total, prev_errors = min(prev_total, total), min(prev_errors, errors)
    return total - prev_total, errors - prev_errors


def bucket_delta(now: Sequence[tuple[float, float]], seen: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """One poll's cumulative histogram: the window's buckets now minus those already fed, each
    count at least 0 and never below the bound before it (a pod that left, extrapolation)."""
    before = dict(seen)
    out, floor = [], 0.0
    for le, count in sorted(now):
        floor = max(floor, count - before.get(le, 0.0), 0.0)
        out.append((le, floor))
    return tuple(out)


@registered(needs="nothing can pass here: a p95 that could not be read is ERROR for both latency triggers")
def latency_unmeasured(m: Measurement, t: Thresholds) -> list[Verdict]:
    """Both latency triggers when the release's p95 could not be read: ERROR, naming the cause."""
    return [probe_failed(P95_BUDGET, f"could not measure: {m.error}", threshold=t.p95_latency_ms / 1000,
                         evidence=m.evidence()),
            probe_failed(P95_BASELINE, f"could not measure: {m.error}", evidence=m.evidence(), rollback=True)]


@registered(needs="the release's p95 on min_requests requests; for the baseline trigger, the baseline's p95 on as many (or a stored one, or the environment's waiver)")
def latency_triggers(m: Measurement, t: Thresholds, *, window_s: float, baseline: Measurement | None = None,
                     baseline_p95_s: float | None = None, waiver: str = "",
                     lone: LoneLatencyState | None = None) -> list[Verdict]:
    """The §8.1 budget and the §6.1 baseline trigger on the release's p95 ``m`` (read without error).

    The baseline is, in this order: the compared group's p95 over the same window
    (``baseline``), a stored value judged by the lone release's exceedance test (``lone``, its
    state after this poll) or, without histogram buckets to count from, on the window's p95
    (``baseline_p95_s``), the environment's waiver; with none of them the baseline trigger is
    INCONCLUSIVE.
    """
    out = [p95_above_budget(m.value, budget_s=t.p95_latency_ms / 1000, min_samples=t.min_requests,
                            samples=m.samples, window_s=window_s, criterion=P95_BUDGET,
                            evidence=(m.evidence(),), interval=m.interval)]
    if baseline is not None:
        b = baseline
        if b.error:
            out.append(probe_failed(P95_BASELINE, f"baseline could not be measured: {b.error}",
                                    evidence=(m.evidence(), b.evidence()), rollback=True))
        else:
            out.append(p95_vs_baseline(m.value, b.value, factor=t.p95_baseline_factor,
                                       min_samples=t.min_requests, samples=m.samples,
                                       baseline_samples=b.samples, window_s=window_s,
                                       criterion=P95_BASELINE, evidence=(m.evidence(), b.evidence()),
                                       interval=m.interval, baseline_interval=b.interval))
    elif lone is not None:
        out.append(lone_latency(lone, criterion=P95_BASELINE, evidence=(m.evidence(),)))
    elif baseline_p95_s is not None:
        out.append(p95_vs_baseline(m.value, baseline_p95_s, factor=t.p95_baseline_factor,
                                   min_samples=t.min_requests, samples=m.samples, baseline_samples=None,
                                   window_s=window_s, criterion=P95_BASELINE, interval=m.interval,
                                   evidence=(m.evidence(), Evidence("stored baseline", "",
                                             details={"p95_s": baseline_p95_s}))))
    elif waiver:
        out.append(p95_baseline_waived(waiver, factor=t.p95_baseline_factor, criterion=P95_BASELINE,
                                       evidence=(m.evidence(),)))
    else:
        out.append(p95_vs_baseline(m.value, None, factor=t.p95_baseline_factor, min_samples=t.min_requests,
                                   samples=m.samples, baseline_samples=None, window_s=window_s,
                                   criterion=P95_BASELINE, evidence=(m.evidence(),)))
    return out


@registered(needs="nothing can pass here: pods that could not be listed are ERROR for both pod triggers")
def pods_unmeasured(cause: str, query: str) -> list[Verdict]:
    """The pod triggers when the pods could not be listed: ERROR, naming the cause."""
    where = Evidence("kubernetes", query)
    return [probe_failed(HEALTH, cause, evidence=where, rollback=True),
            probe_failed(OOM, cause, evidence=where, rollback=True)]


@registered(needs="the group's pods listed at least once, each Ready or judged on its restarts and termination reasons")
def pod_triggers(pods: Sequence[PodFact], t: Thresholds, *, restarts_at_start: Mapping[str, int],
                 ever_ready: set[str] | frozenset[str], window_s: float, window_start_wall: float,
                 query: str) -> list[Verdict]:
    """OOM kills and health checks of the group's pods (``pods``: those not being deleted).

    A pod never Ready (``ever_ready`` holds the names seen Ready in the window, these pods'
    included) with no restart in the window and a starting waiting reason is still
    starting, not failing: the health checks leave it out and say so in the evidence.
    Restarts count from ``restarts_at_start``; OOM kills from ``window_start_wall`` (less
    one second: Kubernetes timestamps have whole seconds, so a kill in the window's first
    second may carry a finishedAt just before its start). The more specific cause is named
    first: an OOM-killed pod is also an unhealthy one.
    """
    judged: list[PodHealth] = []
    starting = []
    for p in pods:
        restarts = p.restarts - restarts_at_start.get(p.name, 0)
        if p.name not in ever_ready and restarts <= 0 and p.waiting_reason in STARTING_REASONS:
            starting.append(p.name)  # never Ready yet and nothing failed: still starting
            continue
        judged.append(PodHealth(
            name=p.name, ready=p.ready, phase=p.phase, restarts_in_window=max(0, restarts),
            waiting_reason=p.waiting_reason, last_termination_reason=p.last_termination_reason,
            last_termination_at=p.last_termination_at))
    all_pods = [PodHealth(name=p.name, ready=p.ready, phase=p.phase,
                          restarts_in_window=max(0, p.restarts - restarts_at_start.get(p.name, 0)),
                          waiting_reason=p.waiting_reason,
                          last_termination_reason=p.last_termination_reason,
                          last_termination_at=p.last_termination_at) for p in pods]
    ev = Evidence("kubernetes", query, window_s, len(pods), {"starting": starting} if starting else {})
    tolerances = pod_tolerances(t)
    health = health_checks(judged, max_restarts=tolerances.max_restarts, max_probe_failures=0,
                           max_unhealthy_pods=0, window_s=window_s, criterion=HEALTH, evidence=(ev,))
    oom = oom_kills(all_pods, window_start=window_start_wall - 1.0, max_oom_kills=tolerances.max_oom_kills,
                    criterion=OOM, evidence=(ev,))
    return [oom, health]


@registered(needs="nothing can pass here: usage that could not be read is ERROR for both alerts")
def usage_unmeasured(cause: str, query: str, t: Thresholds) -> list[Verdict]:
    """The §8.3 alerts when resource usage could not be read: ERROR, naming the cause."""
    ev = Evidence("metrics.k8s.io", query)
    return [probe_failed(CPU, cause, threshold=t.cpu_utilization, evidence=ev),
            probe_failed(MEMORY, cause, threshold=t.memory_utilization, evidence=ev)]


@registered(needs="a usage reading and a limit for at least one pod")
def usage_triggers(usages: Sequence[PodUsage], t: Thresholds) -> list[Verdict]:
    """§8.3 alerts: CPU above 70 % and memory above 80 % of the limits (never a rollback)."""
    return [cpu_vs_limit(usages, max_fraction=t.cpu_utilization, criterion=CPU),
            memory_vs_limit(usages, max_fraction=t.memory_utilization, criterion=MEMORY)]


@registered(needs="both filesystem metrics read, with at least one pod whose available and total bytes pair up")
def disk_trigger(avail: Measurement, size: Measurement, t: Thresholds) -> Verdict:
    """§6.1 free disk from ``node_filesystem_avail_bytes`` and ``node_filesystem_size_bytes``."""
    minimum = t.free_disk_ratio
    for m in (avail, size):
        if m.error:
            return probe_failed(DISK, f"could not measure: {m.error}", threshold=minimum,
                                evidence=m.evidence(), rollback=True)
    return free_disk(disk_readings(avail, size), min_free_fraction=minimum, criterion=DISK,
                     evidence=(avail.evidence(), size.evidence()))


def _series_key(s: Mapping[str, Any]) -> tuple[str, str]:
    pod = str(s.get("pod") or s.get("instance") or s.get("kubernetes_pod_name") or "")
    return pod, str(s.get("mountpoint", ""))


def disk_readings(avail: Measurement, size: Measurement) -> list[DiskReading]:
    """Pair ``node_filesystem_avail_bytes`` with ``..._size_bytes`` per pod and mountpoint."""
    sizes = {_series_key(s): float(s["value"]) for s in size.series if "value" in s}
    out = []
    for s in avail.series:
        if "value" not in s:
            continue
        key = _series_key(s)
        out.append(DiskReading(pod=key[0], avail_bytes=float(s["value"]), size_bytes=sizes.get(key),
                               mountpoint=key[1] or "/"))
    return out
