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
Latency p95 > 2x base  beside the stable :func:`~goldgate.criteria.latency.p95_vs_baseline`, against a stored
                       baseline :mod:`~goldgate.criteria.lone_latency` (slow requests counted) rollback
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
their verdicts: every decision is made in :mod:`goldgate.criteria`, the triggers' own and
the assessment they add up to in :mod:`goldgate.criteria.triggers` (whose names stay
importable from here).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from goldgate.config import Environment
from goldgate.criteria.lone_error_rate import DispersionStats, LoneErrorRate, lone_error_rate
from goldgate.criteria.lone_latency import LoneLatency, LoneLatencyState
from goldgate.criteria.measured import unmeasured
from goldgate.criteria.paired_error_rate import PairedErrorRate, paired_error_rate
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
    ROLLBACK_TRIGGERS,
    Assessment,
    History,
    Outcome,
    assess,
    baseline_waiver,
    bucket_delta,
    count_delta,
    disk_readings,
    disk_trigger,
    dispersion_setting,
    latency_triggers,
    latency_unmeasured,
    pod_triggers,
    pods_unmeasured,
    sprt_params,
    usage_triggers,
    usage_unmeasured,
    watch_plan,
    worst,
)
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.metrics import Measurement, Selector
from goldgate.probes.workloads import PodFact, pod_facts, pod_usage
from goldgate.rollout.sources import GrowingWindow
from goldgate.verdict import Verdict

__all__ = [
    "CPU",
    "DISK",
    "ERROR_RATE",
    "HEALTH",
    "MEMORY",
    "OOM",
    "P95_BASELINE",
    "P95_BUDGET",
    "ROLLBACK_TRIGGERS",
    "Assessment",
    "Group",
    "History",
    "Outcome",
    "PollHistory",
    "RollbackMonitor",
    "SnapshotRefusedError",
    "baseline_waiver",
    "disk_readings",
    "dispersion_setting",
    "sprt_params",
    "watch_plan",
    "worst",
]


#: Bumped whenever the layout of :meth:`RollbackMonitor.snapshot` changes: an older one is refused.
SNAPSHOT_VERSION = 1


class SnapshotRefusedError(Exception):
    """A window snapshot this monitor cannot continue (message: why, one line)."""


def _wall(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value > time.time() + 1:
        raise SnapshotRefusedError(f"malformed window snapshot: {name} {value!r} is not a past time")
    return float(value)


def _counts(value: Any, name: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(type(v) is int and v >= 0 for v in value)):
        raise SnapshotRefusedError(f"malformed window snapshot: {name} {value!r} is not two counts")
    return value[0], value[1]


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
        # Alone against a stored p95: requests slower than factor x it, counted per poll from the
        # histogram buckets and tested against 1 - q with the lone test (bursts do not roll back).
        self.lone_latency: LoneLatency | None = None
        if baseline is None and baseline_p95_s is not None:
            try:
                self.lone_latency = LoneLatency(
                    plan, baseline_p95_s, env.thresholds.p95_baseline_factor, dispersion_setting(env),
                    alarm_dispersion=float(getattr(env.error_rate_test, "latency_dispersion", 300.0)),
                    min_requests=env.thresholds.min_requests)
            except ValueError:
                self.lone_latency = None  # an unusable stored baseline is ERROR in p95_vs_baseline
        self._seen_buckets: tuple[tuple[float, float], ...] = ()
        self._seen_latency_elapsed = 0.0
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
        self._seen_buckets, self._seen_latency_elapsed = (), 0.0
        if self.trading is not None:
            self.trading.start()

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self._started

    @property
    def window_opened_wall(self) -> float:
        """When the window opened (wall clock): OOM kills count from it; kept across a judge restart."""
        return self._started_wall

    # ------------------------------------------------------------------ restart
    def _settings(self) -> str:
        """What a snapshot is only valid under: the thresholds, the pods watched and the metric source."""
        text = json.dumps([self.env.thresholds.model_dump(mode="json"), str(self.group),
                           str(self.baseline) if self.baseline is not None else None,
                           getattr(self.source, "name", type(self.source).__name__)], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def snapshot(self) -> dict[str, Any]:
        """The window's evidence as plain JSON, for a judge restarted mid-run to continue it.

        Carries what the triggers count from the window's start: the pods' restart counts at
        the start (a restart before the judge's restart still counts after it), the pods seen
        Ready, the window's opening time (OOM kills count from it; the latency window and its
        p95s cover it) and the metric windows themselves. The error-rate test and the trading
        monitor have snapshots of their own.
        """
        return {"version": SNAPSHOT_VERSION, "kind": "RollbackMonitor", "settings": self._settings(),
                "group": str(self.group), "baseline": str(self.baseline) if self.baseline is not None else None,
                "started_wall": self._started_wall, "release_started_wall": self._release_started_wall,
                "restarts0": dict(self._restarts0), "ever_ready": sorted(self._ever_ready),
                "seen_counts": list(self._seen_counts), "seen_stable": list(self._seen_stable),
                "seen_elapsed": self._seen_elapsed,
                "window": self._window.snapshot() if self._window is not None else None,
                "baseline_window": self._baseline_window.snapshot() if self._baseline_window is not None else None}

    def restore(self, snap: Any) -> str:
        """Continue the window of :meth:`snapshot` (after :meth:`start`); '' when continued, else the one
        line saying why the window starts again from now. Never raises: a refused snapshot leaves the
        fresh window :meth:`start` opened, so nothing is ever judged on half-restored evidence."""
        try:
            self._restore(snap)
        except (SnapshotRefusedError, ValueError, TypeError, KeyError) as exc:
            self.start()
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ""

    def _restore(self, snap: Any) -> None:
        if not isinstance(snap, dict):
            raise SnapshotRefusedError("the window's snapshot is not an object")
        if snap.get("version") != SNAPSHOT_VERSION or snap.get("kind") != "RollbackMonitor":
            raise SnapshotRefusedError(f"window snapshot version {snap.get('version')!r} of {snap.get('kind')!r}, "
                                  f"this judge reads version {SNAPSHOT_VERSION}")
        if snap.get("group") != str(self.group) or snap.get("baseline") != (
                str(self.baseline) if self.baseline is not None else None):
            raise SnapshotRefusedError(f"the pods watched changed since the snapshot ({snap.get('group')!r}, now "
                                  f"{str(self.group)!r})")
        if snap.get("settings") != self._settings():
            raise SnapshotRefusedError("the thresholds or the metric source changed since the snapshot")
        started = _wall(snap.get("started_wall"), "started_wall")
        release_started = snap.get("release_started_wall")
        restarts0 = snap.get("restarts0")
        if not isinstance(restarts0, dict) or not all(
                isinstance(k, str) and type(v) is int and v >= 0 for k, v in restarts0.items()):
            raise SnapshotRefusedError("malformed window snapshot: restarts0 is not pod names with counts")
        ever_ready = snap.get("ever_ready")
        if not isinstance(ever_ready, list) or not all(isinstance(p, str) for p in ever_ready):
            raise SnapshotRefusedError("malformed window snapshot: ever_ready is not a list of pod names")
        seen = _counts(snap.get("seen_counts"), "seen_counts")
        seen_stable = _counts(snap.get("seen_stable"), "seen_stable")
        seen_elapsed = snap.get("seen_elapsed")
        if not isinstance(seen_elapsed, int | float) or not 0 <= seen_elapsed < math.inf:
            raise SnapshotRefusedError(f"malformed window snapshot: seen_elapsed {seen_elapsed!r}")
        assert self._window is not None, "restore() follows start()"
        self._window.restore(snap.get("window"))
        if self._baseline_window is not None:
            self._baseline_window.restore(snap.get("baseline_window"))
        self._started_wall = started
        if release_started is not None:
            self._release_started_wall = _wall(release_started, "release_started_wall")
        self._started = self.clock() - (time.time() - started)
        self._restarts0 = dict(restarts0)
        self._ever_ready = set(ever_ready)
        self._seen_counts, self._seen_stable, self._seen_elapsed = seen, seen_stable, float(seen_elapsed)

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
        return assess(str(self.group), round(self.elapsed_s, 3), verdicts)

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
            stable = count_delta(b.counts.rounded(), self._seen_stable)
            self._seen_stable = b.counts.rounded()
        release = count_delta(m.counts.rounded(), self._seen_counts)
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
        if m.error:
            return latency_unmeasured(m, t)
        baseline = self._baseline_window.latency_quantile(0.95) if self._baseline_window is not None else None
        return latency_triggers(m, t, window_s=round(self.elapsed_s, 1), baseline=baseline,
                                baseline_p95_s=self.baseline_p95_s, waiver=self.waiver,
                                lone=self._lone_latency_poll(m))

    def _lone_latency_poll(self, m: Measurement) -> LoneLatencyState | None:
        """Feed this poll's histogram to the lone latency test; None when there is none to
        count from (no buckets behind the p95: the stored baseline is judged on the p95)."""
        if self.lone_latency is None or m.error:
            return None
        now = self.elapsed_s
        step = max(0.0, now - self._seen_latency_elapsed)
        if m.buckets is None:
            if m.samples:
                if not any("no histogram buckets" in n for n in self.notes):
                    self.notes.append("p95 vs stored baseline: no histogram buckets to count slow requests from, "
                                      "judged on the window's p95 (bursty latency can roll a healthy release back)")
                return None
            self._seen_latency_elapsed = now
            return self.lone_latency.observe(0, 0, 0, step)
        poll = bucket_delta(m.buckets, self._seen_buckets)
        self._seen_buckets, self._seen_latency_elapsed = m.buckets, now
        return self.lone_latency.observe_buckets(poll, step)

    def _pod_triggers(self) -> list[Verdict]:
        sel = self.group.label_selector
        query = f"pods {self.group.namespace} labelSelector={sel}"
        try:
            pods = [p for p in self._pods(sel) if not p.deleting]
        except KubernetesUnavailable as exc:
            return pods_unmeasured(str(exc), query)
        self._ever_ready.update(p.name for p in pods if p.ready)
        # OOM kills of the release's own pods count from the moment the release started them.
        since = self._started_wall if self._release_started_wall is None else min(
            self._started_wall, self._release_started_wall)
        return pod_triggers(pods, self.env.thresholds, restarts_at_start=self._restarts0,
                            ever_ready=self._ever_ready, window_s=round(self.elapsed_s, 1),
                            window_start_wall=since, query=query)

    def _usage(self) -> list[Verdict]:
        """§8.3 alerts: CPU above 70 % and memory above 80 % of the limits (never a rollback)."""
        t = self.env.thresholds
        try:
            usages = self._usage_reader(self.group.label_selector)
        except KubernetesUnavailable as exc:
            return usage_unmeasured(str(exc), f"pods {self.group.namespace} {self.group.label_selector}", t)
        return usage_triggers(usages, t)

    def _disk(self) -> Verdict:
        sel = self.group.selector
        avail = self.source.instant("node_filesystem_avail_bytes", sel)
        size = self.source.instant("node_filesystem_size_bytes", sel)
        return disk_trigger(avail, size, self.env.thresholds)
