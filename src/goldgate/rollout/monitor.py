"""The automatic-rollback triggers of guide §6.1, evaluated again and again on one release.

Every strategy (rolling update, blue-green, canary) and ``goldgate watch`` ask the same
question every evaluation interval: *should this release be rolled back?* A
:class:`RollbackMonitor` answers it for one group of pods (the canary, the green
environment, the updated Deployment) with one verdict per trigger:

=====================  ============================================  =========
trigger (guide §6.1)   criterion                                     on FAIL
=====================  ============================================  =========
Error Rate > 1 %       paired with the stable (:mod:`~goldgate.criteria.paired_error_rate`) or lone with
                       its dispersion (:mod:`~goldgate.criteria.lone_error_rate`)           rollback
Latency p95 > 2x base  :func:`~goldgate.criteria.latency.p95_vs_baseline`  rollback
Health Check failed    :func:`~goldgate.criteria.health.health_checks`     rollback
Disk Space < 10 % free :func:`~goldgate.criteria.resources.free_disk`      rollback
Memory: OOM kills      :func:`~goldgate.criteria.resources.oom_kills`      rollback
p95 > 500 ms (§8.1)    :func:`~goldgate.criteria.latency.p95_above_budget` alert
CPU > 70 % of limit    :func:`~goldgate.criteria.resources.cpu_vs_limit`      alert
Memory > 80 % of limit :func:`~goldgate.criteria.resources.memory_vs_limit`   alert
=====================  ============================================  =========

The :class:`Assessment` of an evaluation is ROLLBACK when any rollback trigger FAILs,
PASS only when every trigger PASSes on data, HOLD otherwise (too little traffic, a probe
that could not measure): a hold is never a pass; the strategy decides how long to hold.

The error-rate test is one test per window (phase, switch window, watch horizon): a CUSUM
whose thresholds spend the environment's ``false_rollback`` over the window's horizon, so
the chance of a false rollback is bounded for the whole window whatever the poll
interval, and a rise is caught whenever it starts. With a ``baseline`` group (a canary's
stable pods) it is paired: each poll's errors are weighed by the share that fell on the
release, so bursts both versions share cancel. Without one it is the lone test, widened by
the measured dispersion of the release's error counts (``history``: the previous version's
polls, when the strategy read them while it served). Its verdict is judged afresh on every
poll: a PASS of an earlier poll never stands in for the present, and a stream that stopped
for longer than ``max_gap_s`` is INCONCLUSIVE. Without a baseline the p95-vs-baseline
trigger is INCONCLUSIVE (the release is not promoted on a trigger that was not evaluated)
unless the environment waives it (``strategy.baseline: none``).

A trading bot is also judged on what it trades: given a ``trading`` monitor
(:mod:`goldgate.rollout.trading_monitor`), each evaluation adds its verdicts (pre-trade
limits and drawdown as hard guards, signal agreement, trade rate and rejects beside the
stable version, the market open with enough bars) to the triggers above.

This module only schedules the reads, feeds the measurements to the criteria and carries
their verdicts: every decision is made in :mod:`goldgate.criteria`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldgate.config import Environment
from goldgate.criteria.health import PodHealth, health_checks, pod_tolerances
from goldgate.criteria.latency import p95_above_budget, p95_baseline_waived, p95_vs_baseline
from goldgate.criteria.lone_error_rate import (
    DispersionSetting,
    DispersionStats,
    LoneErrorRate,
    lone_error_rate,
)
from goldgate.criteria.measured import probe_failed, unmeasured
from goldgate.criteria.paired_error_rate import PairedErrorRate, paired_error_rate
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
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.metrics import Measurement, Selector
from goldgate.probes.workloads import PodFact, pod_facts, pod_usage
from goldgate.rollout.sources import GrowingWindow
from goldgate.verdict import Evidence, Status, Verdict

__all__ = [
    "Assessment",
    "Group",
    "History",
    "Outcome",
    "PollHistory",
    "RollbackMonitor",
    "baseline_waiver",
    "dispersion_setting",
    "sprt_params",
    "watch_plan",
]

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

#: Pods that are still starting keep these waiting reasons without having failed anything.
_STARTING = {"", "ContainerCreating", "PodInitializing"}


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


@dataclass(frozen=True)
class History:
    """Per-poll counts of a version read earlier (``stats``) and what they were (``source``)."""

    stats: DispersionStats
    source: str


class PollHistory:
    """Per-poll request and error counts of a version, read while it serves, for the dispersion
    estimate of the lone test that follows (the previous version during a rolling update, blue
    before a blue-green switch)."""

    def __init__(self, window: GrowingWindow, clock: Callable[[], float], source: str) -> None:
        self.window, self.clock, self.source = window, clock, source
        self.stats = DispersionStats()
        self._last: tuple[int, int] | None = None
        self._at = clock()

    def record(self) -> None:
        """Advance the window and add the counts since the last record as one poll."""
        self.window.advance()
        m = self.window.request_counts()
        if m.error or m.counts is None:
            return
        total, errors = m.counts.rounded()
        now = self.clock()
        if self._last is not None and total >= self._last[0] and errors >= self._last[1]:
            self.stats = self.stats.add(total - self._last[0], errors - self._last[1], max(0.0, now - self._at))
        self._last, self._at = (total, errors), now


def baseline_waiver(env: Environment) -> str:
    """The environment's explicit "no baseline exists" (``strategy.baseline: none``), or ""."""
    if str(getattr(env.strategy, "baseline", "") or "").strip().lower() == "none":
        return f"environment {env.name}: strategy.baseline is 'none'"
    return ""


@dataclass(frozen=True)
class Group:
    """A set of pods under watch: a name for the reader and the labels that select them."""

    name: str
    labels: Mapping[str, str]
    namespace: str

    @property
    def selector(self) -> Selector:
        return Selector(dict(self.labels), self.namespace)

    @property
    def label_selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    def __str__(self) -> str:
        return f"{self.name} ({self.namespace}/{self.label_selector})"


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


def _delta(now: tuple[int, int], seen: tuple[int, int]) -> tuple[int, int]:
    """Requests and errors since ``seen``; a pod that left the selection restarts the count."""
    total, errors = now
    prev_total, prev_errors = seen
    if total < prev_total or errors < prev_errors:
        prev_total, prev_errors = min(prev_total, total), min(prev_errors, errors)
    return total - prev_total, errors - prev_errors


def _short_value(v: Verdict) -> str:
    if isinstance(v.observed, float):
        return f"{v.observed:.4g}"
    return str(v.observed)


class RollbackMonitor:
    """Evaluates the §6.1 triggers for one group of pods over a window that grows.

    ``baseline`` is the group whose p95 the release is compared with over the same window
    (the stable pods of a canary); ``baseline_p95_s`` a stored baseline (measured on the
    previous version before a rolling update or a blue-green switch). With neither, the
    latency-vs-baseline trigger is INCONCLUSIVE (so the window cannot pass) unless the
    environment waives it; either way :attr:`notes` says so. ``horizon_s`` and
    ``max_gap_s`` set the error-rate test's window (:func:`watch_plan`).
    """

    def __init__(self, env: Environment, kube: KubeClients, source: Any, group: Group, *,
                 baseline: Group | None = None, baseline_p95_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 pods: Callable[[str], list[PodFact]] | None = None,
                 usage: Callable[[str], list[PodUsage]] | None = None,
                 horizon_s: float | None = None, max_gap_s: float | None = None,
                 release_started_wall: float | None = None,
                 history: PollHistory | History | None = None, trading: Any | None = None) -> None:
        self.env = env
        # The trading triggers (rollout.trading_monitor.TradingMonitor), judged with the others.
        self.trading = trading
        # OOM kills of the release's own pods count from the moment the release started them,
        # not only from the window's start: a kill between "Ready" and the first poll is the release's.
        self._release_started_wall = release_started_wall
        self.kube = kube
        self.source = source
        self.group = group
        self.baseline = baseline
        self.baseline_p95_s = baseline_p95_s
        self.clock = clock
        self._pods = pods or (lambda sel: pod_facts(kube, group.namespace, sel))
        self._usage_reader = usage or (lambda sel: pod_usage(kube, group.namespace, sel))
        plan = watch_plan(env, horizon_s, max_gap_s)
        # Beside a stable version the error rate is judged against it, poll by poll (bursts both
        # see cancel); alone, against the limit with the measured dispersion of its errors.
        self.error_rate: PairedErrorRate | LoneErrorRate
        if baseline is not None:
            self.error_rate = PairedErrorRate(plan)
        else:
            self.error_rate = LoneErrorRate(plan, dispersion_setting(env),
                                            history=history.stats if history else None,
                                            history_source=history.source if history else "")
        self.waiver = baseline_waiver(env)
        self.notes: list[str] = []
        self._window: GrowingWindow | None = None
        self._baseline_window: GrowingWindow | None = None
        self._restarts0: dict[str, int] = {}
        self._ever_ready: set[str] = set()
        self._seen_counts = (0, 0)
        self._seen_stable = (0, 0)
        self._stable_polls = DispersionStats()
        self._seen_elapsed = 0.0
        self._started_wall = time.time()
        self._started = clock()
        self.notes.append(f"error rate: paired with the stable pods {baseline}" if baseline is not None else
                          "error rate: lone release, dispersion of its errors "
                          + (f"estimated from {history.source} ({history.stats.polls} polls) and its own polls"
                             if history and history.stats.polls else "estimated from its own polls")
                          + " (else the environment's default)")
        if baseline is None and baseline_p95_s is None:
            self.notes.append(f"p95 vs baseline waived: {self.waiver}" if self.waiver else
                              "p95 vs baseline INCONCLUSIVE: no stable version to compare with and no stored "
                              "baseline (set strategy.baseline: none to waive it explicitly)")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Open the window now: first metric reads, restart counts as they stand."""
        self._started = self.clock()
        self._started_wall = time.time()
        self._window = GrowingWindow(self.source, self.group.selector, self.clock)
        self._window.advance()
        if self.baseline is not None:
            self._baseline_window = GrowingWindow(self.source, self.baseline.selector, self.clock)
            self._baseline_window.advance()
        try:
            pods = self._pods(self.group.label_selector)
        except KubernetesUnavailable:
            pods = []
        self._restarts0 = {p.name: p.restarts for p in pods}
        self._ever_ready = {p.name for p in pods if p.ready}
        self._seen_counts = (0, 0)
        self._seen_stable = (0, 0)
        self._seen_elapsed = 0.0
        if self.trading is not None:
            self.trading.start()

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self._started

    def baseline_p95(self) -> float | None:
        """The compared group's p95 over the window so far, when it rests on enough requests.

        A canary's 100 % phase has no stable pods left; it is held against this value
        from the phase before.
        """
        if self._baseline_window is None:
            return None
        m = self._baseline_window.latency_quantile(0.95)
        return m.value if m.value is not None and m.samples >= self.env.thresholds.min_requests else None

    def stable_history(self, before: History | None = None) -> History | None:
        """The stable pods' per-poll counts this monitor read (added to ``before``): the history a
        later phase with no stable beside the release estimates the dispersion from."""
        if not self._stable_polls.polls:
            return before
        stats = self._stable_polls if before is None else before.stats.merged(self._stable_polls)
        return History(stats, "the stable pods in the earlier phases")

    def evaluate(self) -> Assessment:
        """Take one more reading and judge every trigger on the window so far."""
        if self._window is None:
            self.start()
        assert self._window is not None
        self._window.advance()
        if self._baseline_window is not None:
            self._baseline_window.advance()
        verdicts: list[Verdict] = [self._error_rate()]
        latency = self._latency()
        verdicts.extend(latency)
        verdicts.extend(self._pod_triggers())
        verdicts.append(self._disk())
        verdicts.extend(self._usage())
        if self.trading is not None:
            verdicts.extend(self.trading.evaluate())
        order = {name: i for i, name in enumerate((*ROLLBACK_TRIGGERS, P95_BUDGET, CPU, MEMORY))}
        verdicts.sort(key=lambda v: order.get(v.criterion, 99))
        return Assessment(str(self.group), round(self.elapsed_s, 3), tuple(verdicts))

    # ------------------------------------------------------------------ triggers
    def _error_rate(self) -> Verdict:
        assert self._window is not None
        m = self._window.request_counts()
        unusable = unmeasured(m, ERROR_RATE, need="counts", threshold=self.env.thresholds.error_rate,
                              rollback=True)
        if unusable is not None:  # nothing fed: the next reading's counts cover this poll's time too
            return unusable
        assert m.counts is not None
        stable = None
        if isinstance(self.error_rate, PairedErrorRate):
            assert self._baseline_window is not None
            b = self._baseline_window.request_counts()
            unusable = unmeasured(b, ERROR_RATE, need="counts", threshold=self.env.thresholds.error_rate,
                                  rollback=True, what="stable pods (the paired test's comparison)")
            if unusable is not None:  # both tracks' next counts cover this poll's time: pairs stay aligned
                return unusable
            assert b.counts is not None
            stable = _delta(b.counts.rounded(), self._seen_stable)
            self._seen_stable = b.counts.rounded()
        release = _delta(m.counts.rounded(), self._seen_counts)
        self._seen_counts = m.counts.rounded()
        now = self.elapsed_s
        step, self._seen_elapsed = max(0.0, now - self._seen_elapsed), now
        if isinstance(self.error_rate, PairedErrorRate):
            assert stable is not None and self._baseline_window is not None
            paired = self.error_rate.observe(*release, *stable, step)
            self._stable_polls = self._stable_polls.add(*stable, step)
            return paired_error_rate(paired, criterion=ERROR_RATE, evidence=(m.evidence(), b.evidence()))
        return lone_error_rate(self.error_rate.observe(*release, step), criterion=ERROR_RATE,
                               evidence=(m.evidence(),))

    def _latency(self) -> list[Verdict]:
        assert self._window is not None
        t = self.env.thresholds
        m = self._window.latency_quantile(0.95)
        out: list[Verdict] = []
        if m.error:
            out.append(probe_failed(P95_BUDGET, f"could not measure: {m.error}", threshold=t.p95_latency_ms / 1000,
                                    evidence=m.evidence()))
            out.append(probe_failed(P95_BASELINE, f"could not measure: {m.error}", evidence=m.evidence(),
                                    rollback=True))
            return out
        window = round(self.elapsed_s, 1)
        out.append(p95_above_budget(m.value, budget_s=t.p95_latency_ms / 1000, min_samples=t.min_requests,
                                    samples=m.samples, window_s=window, criterion=P95_BUDGET,
                                    evidence=(m.evidence(),), interval=m.interval))
        if self._baseline_window is not None:
            b = self._baseline_window.latency_quantile(0.95)
            if b.error:
                out.append(probe_failed(P95_BASELINE, f"baseline could not be measured: {b.error}",
                                        evidence=(m.evidence(), b.evidence()), rollback=True))
            else:
                out.append(p95_vs_baseline(m.value, b.value, factor=t.p95_baseline_factor,
                                           min_samples=t.min_requests, samples=m.samples,
                                           baseline_samples=b.samples, window_s=window,
                                           criterion=P95_BASELINE, evidence=(m.evidence(), b.evidence()),
                                           interval=m.interval, baseline_interval=b.interval))
        elif self.baseline_p95_s is not None:
            out.append(p95_vs_baseline(m.value, self.baseline_p95_s, factor=t.p95_baseline_factor,
                                       min_samples=t.min_requests, samples=m.samples, baseline_samples=None,
                                       window_s=window, criterion=P95_BASELINE, interval=m.interval,
                                       evidence=(m.evidence(), Evidence("stored baseline", "",
                                                 details={"p95_s": self.baseline_p95_s}))))
        elif self.waiver:
            out.append(p95_baseline_waived(self.waiver, factor=t.p95_baseline_factor, criterion=P95_BASELINE,
                                           evidence=(m.evidence(),)))
        else:
            out.append(p95_vs_baseline(m.value, None, factor=t.p95_baseline_factor, min_samples=t.min_requests,
                                       samples=m.samples, baseline_samples=None, window_s=window,
                                       criterion=P95_BASELINE, evidence=(m.evidence(),)))
        return out

    def _pod_triggers(self) -> list[Verdict]:
        sel = self.group.label_selector
        where = Evidence("kubernetes", f"pods {self.group.namespace} labelSelector={sel}")
        try:
            pods = [p for p in self._pods(sel) if not p.deleting]
        except KubernetesUnavailable as exc:
            return [probe_failed(HEALTH, str(exc), evidence=where, rollback=True),
                    probe_failed(OOM, str(exc), evidence=where, rollback=True)]
        judged: list[PodHealth] = []
        starting = []
        for p in pods:
            if p.ready:
                self._ever_ready.add(p.name)
            restarts = p.restarts - self._restarts0.get(p.name, 0)
            if p.name not in self._ever_ready and restarts <= 0 and p.waiting_reason in _STARTING:
                starting.append(p.name)  # never Ready yet and nothing failed: still starting
                continue
            judged.append(PodHealth(
                name=p.name, ready=p.ready, phase=p.phase, restarts_in_window=max(0, restarts),
                waiting_reason=p.waiting_reason, last_termination_reason=p.last_termination_reason,
                last_termination_at=p.last_termination_at))
        all_pods = [PodHealth(name=p.name, ready=p.ready, phase=p.phase,
                              restarts_in_window=max(0, p.restarts - self._restarts0.get(p.name, 0)),
                              waiting_reason=p.waiting_reason,
                              last_termination_reason=p.last_termination_reason,
                              last_termination_at=p.last_termination_at) for p in pods]
        ev = Evidence("kubernetes", where.query, round(self.elapsed_s, 1), len(pods),
                      {"starting": starting} if starting else {})
        window = round(self.elapsed_s, 1)
        tolerances = pod_tolerances(self.env.thresholds)
        health = health_checks(judged, max_restarts=tolerances.max_restarts, max_probe_failures=0,
                               max_unhealthy_pods=0, window_s=window, criterion=HEALTH, evidence=(ev,))
        # Kubernetes timestamps have whole seconds: a kill in the window's first second
        # may carry a finishedAt just before its start.
        since = self._started_wall if self._release_started_wall is None else min(
            self._started_wall, self._release_started_wall)
        oom = oom_kills(all_pods, window_start=since - 1.0, max_oom_kills=tolerances.max_oom_kills,
                        criterion=OOM, evidence=(ev,))
        # An OOM-killed pod is also an unhealthy one: the more specific cause is named first.
        return [oom, health]

    def _usage(self) -> list[Verdict]:
        """§8.3 alerts: CPU above 70 % and memory above 80 % of the limits (never a rollback)."""
        t = self.env.thresholds
        try:
            usages = self._usage_reader(self.group.label_selector)
        except KubernetesUnavailable as exc:
            ev = Evidence("metrics.k8s.io", f"pods {self.group.namespace} {self.group.label_selector}")
            return [probe_failed(CPU, str(exc), threshold=t.cpu_utilization, evidence=ev),
                    probe_failed(MEMORY, str(exc), threshold=t.memory_utilization, evidence=ev)]
        return [cpu_vs_limit(usages, max_fraction=t.cpu_utilization, criterion=CPU),
                memory_vs_limit(usages, max_fraction=t.memory_utilization, criterion=MEMORY)]

    def _disk(self) -> Verdict:
        sel = self.group.selector
        avail = self.source.instant("node_filesystem_avail_bytes", sel)
        size = self.source.instant("node_filesystem_size_bytes", sel)
        minimum = self.env.thresholds.free_disk_ratio
        for m in (avail, size):
            if m.error:
                return probe_failed(DISK, f"could not measure: {m.error}", threshold=minimum,
                                    evidence=m.evidence(), rollback=True)
        readings = disk_readings(avail, size)
        return free_disk(readings, min_free_fraction=minimum, criterion=DISK,
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


def worst(assessments: Sequence[Assessment]) -> Assessment | None:
    """The first assessment that asked for a rollback, else the last one."""
    for a in assessments:
        if a.outcome is Outcome.ROLLBACK:
            return a
    return assessments[-1] if assessments else None
