"""What every deployment strategy shares: its context, its report, and how it waits.

A strategy is a small state machine over Kubernetes objects; what it needs (clients,
safety policy, metric source, timings, a clock) travels in one :class:`RolloutContext`
and what it did (actions, assessments, the final decision with its reason) comes back as
one :class:`RolloutReport`, which the feature steps hand to :mod:`goldgate.criteria.rollout`.
Whether starting pods failed and whether a rollout stalled are decided there and in
:mod:`goldgate.criteria.health`; this module only waits, polls and carries the verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldgate.actions.base import ActionResult, SafetyLike
from goldgate.config import Environment
from goldgate.criteria import rollout as rollout_criteria
from goldgate.criteria.health import (
    GUIDE_TOLERANCES,
    HARD_FAILURES,
    PodHealth,
    PodTolerances,
    start_problems,
    startup_health,
)
from goldgate.criteria.health import pod_tolerances as _tolerances_of
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.workloads import DeploymentStatus, PodFact, deployment_status, pod_facts
from goldgate.rollout.monitor import HEALTH, OOM, Assessment, Outcome, RollbackMonitor
from goldgate.verdict import Evidence, Status, Verdict

__all__ = [
    "HARD_FAILURES",
    "PodTolerances",
    "Release",
    "RolloutContext",
    "RolloutReport",
    "as_pod_health",
    "hard_failure",
    "monitor_phase",
    "own_pods",
    "pod_tolerances",
    "wait_for_pods",
    "wait_pods_gone",
]


def pod_tolerances(env: Environment) -> PodTolerances:
    """The environment's restart and OOM-kill tolerances (see :func:`goldgate.criteria.health.pod_tolerances`)."""
    return _tolerances_of(env.thresholds)


def as_pod_health(pod: PodFact, restarts0: Mapping[str, int]) -> PodHealth:
    """The criteria's view of a pod: restarts counted from ``restarts0`` (the window's start)."""
    return PodHealth(name=pod.name, ready=pod.ready, phase=pod.phase,
                     restarts_in_window=max(0, pod.restarts - restarts0.get(pod.name, 0)),
                     waiting_reason=pod.waiting_reason, last_termination_reason=pod.last_termination_reason,
                     last_termination_at=pod.last_termination_at)


@dataclass(frozen=True)
class Release:
    """The version being rolled out: an image, plus environment and limits it carries."""

    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    memory_limit: str | None = None
    #: A deliberate model change states how often it still agrees with the stable model.
    expected_agreement: float | None = None

    def describe(self) -> str:
        extra = [f"{k}={v}" for k, v in self.env.items()]
        if self.memory_limit:
            extra.append(f"memory limit {self.memory_limit}")
        return self.image + (f" ({', '.join(extra)})" if extra else "")


@dataclass
class RolloutContext:
    """Everything a strategy needs; timings come from ``env.strategy``."""

    env: Environment
    kube: KubeClients
    safety: SafetyLike
    source: Any
    log: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll_s: float = 0.5

    @property
    def namespace(self) -> str:
        return self.env.kubernetes.namespace

    @property
    def deployment(self) -> str:
        return self.env.kubernetes.deployment


@dataclass
class RolloutReport:
    """The outcome of one strategy run: promoted or rolled back, why, and the evidence."""

    strategy: str
    release: str
    outcome: str = "running"  # promoted | rolled back | rollback failed
    reason: str = ""
    trigger: Verdict | None = None
    assessments: list[Assessment] = field(default_factory=list)
    actions: list[ActionResult] = field(default_factory=list)
    checks: list[Verdict] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, text: str, log: Callable[[str], None] | None = None) -> None:
        self.timeline.append((round(time.monotonic() - self.started, 2), text))
        if log is not None:
            log(text)

    @property
    def rolled_back(self) -> bool:
        return self.outcome == "rolled back"

    @property
    def promoted(self) -> bool:
        return self.outcome == "promoted"

    @property
    def last(self) -> Assessment | None:
        return self.assessments[-1] if self.assessments else None

    def evidence(self) -> Evidence:
        return Evidence("rollout", f"{self.strategy} of {self.release}", round(time.monotonic() - self.started, 1),
                        len(self.assessments), {
                            "outcome": self.outcome, "reason": self.reason,
                            "actions": [a.to_dict() for a in self.actions],
                            "timeline": [f"{t:7.2f}s {text}" for t, text in self.timeline],
                            "phases": self.phases,
                            "last_assessment": [v.to_dict() for v in self.last.verdicts] if self.last else [],
                        })


#: Labels that set the blue-green and canary companions apart from production's own pods.
COMPANION_LABELS = ("slot", "track")


def own_pods(selector: Mapping[str, str]) -> str:
    """A Deployment's label selector without the green or canary pods that share its labels."""
    terms = [f"{k}={v}" for k, v in sorted(selector.items())]
    return ",".join(terms + [f"!{k}" for k in COMPANION_LABELS if k not in selector])


def hard_failure(pods: list[PodFact], restarts0: Mapping[str, int], *,
                 tolerances: PodTolerances = GUIDE_TOLERANCES) -> str:
    """Why the release's pods cannot become healthy (restarts, crash loop, OOM), or ''.

    The rule is :func:`goldgate.criteria.health.start_problems`; pods already leaving are
    not judged.
    """
    judged = [as_pod_health(p, restarts0) for p in pods if not p.deleting]
    return "; ".join(start_problems(judged, max_restarts=tolerances.max_restarts,
                                    max_oom_kills=tolerances.max_oom_kills))


@dataclass(frozen=True)
class WaitResult:
    ok: bool
    reason: str
    verdict: Verdict | None = None
    status: DeploymentStatus | None = None


def wait_for_pods(ctx: RolloutContext, deployment: str, label_selector: str, want_ready: int, *,
                  deadline_s: float, restarts0: Mapping[str, int] | None = None,
                  on_poll: Callable[[DeploymentStatus, list[PodFact]], None] | None = None,
                  complete: bool = False, fail_fast: bool = True) -> WaitResult:
    """Wait until ``want_ready`` selected pods are Ready (or the Deployment's rollout is
    complete); give up on a hard failure (unless ``fail_fast`` is off, as while a rollback
    replaces the failing pods), a ProgressDeadlineExceeded or ``deadline_s``."""
    start = ctx.clock()
    restarts0 = dict(restarts0 or {})
    tolerances = pod_tolerances(ctx.env)
    status: DeploymentStatus | None = None
    while True:
        try:
            status = deployment_status(ctx.kube, ctx.namespace, deployment)
            pods = pod_facts(ctx.kube, ctx.namespace, label_selector)
        except KubernetesUnavailable as exc:
            if ctx.clock() - start > deadline_s:
                return WaitResult(False, f"stalled: Kubernetes API unavailable: {exc}", status=status)
            ctx.sleep(ctx.poll_s)
            continue
        for p in pods:
            restarts0.setdefault(p.name, 0)
        if on_poll is not None:
            on_poll(status, pods)
        if fail_fast:
            health = _startup_health(ctx, deployment, pods, restarts0, tolerances)
            if health.status is Status.FAIL:
                problem = hard_failure(pods, restarts0, tolerances=tolerances)
                return WaitResult(False, f"health check failed: {problem}", health, status)
        ready = sum(1 for p in pods if p.ready and not p.deleting)
        if (status.complete if complete else ready >= want_ready):
            return WaitResult(True, f"{ready} pods Ready", status=status)
        if status.stalled and fail_fast:
            cond = status.conditions.get("Progressing", ("", "", ""))
            return WaitResult(False, f"stalled: ProgressDeadlineExceeded ({cond[2]})", _progress(
                deployment, status, ready, want_ready, ctx.clock() - start, deadline_s, cond[2]), status)
        if ctx.clock() - start > deadline_s:
            return WaitResult(False, f"stalled: only {ready} of {want_ready} pods Ready after {deadline_s:g}s",
                              _progress(deployment, status, ready, want_ready, ctx.clock() - start, deadline_s),
                              status)
        ctx.sleep(ctx.poll_s)


def _startup_health(ctx: RolloutContext, deployment: str, pods: list[PodFact], restarts0: Mapping[str, int],
                    tolerances: PodTolerances) -> Verdict:
    judged = [as_pod_health(p, restarts0) for p in pods if not p.deleting]
    return startup_health(judged, max_restarts=tolerances.max_restarts, max_oom_kills=tolerances.max_oom_kills,
                          group=f"deployment/{deployment}", criterion=HEALTH, oom_criterion=OOM)


def _progress(deployment: str, status: DeploymentStatus, ready: int, want: int, waited: float,
              deadline_s: float, condition: str | None = None) -> Verdict:
    ev = Evidence("kubernetes", f"deployment/{deployment} status", round(waited, 1), None,
                  {"replicas": status.replicas, "updated": status.updated_replicas, "ready": status.ready_replicas,
                   "available": status.available_replicas,
                   "conditions": {k: list(v) for k, v in status.conditions.items()}})
    since = status.condition_since.get("Progressing")
    age = None if since is None or condition is None else max(0.0, time.time() - since)
    return rollout_criteria.rollout_progress(deployment, ready=ready, want=want, waited_s=max(0.0, waited),
                                             deadline_s=deadline_s, deadline_exceeded=condition is not None,
                                             condition=condition or "", evidence=ev, condition_age_s=age)


def monitor_phase(ctx: RolloutContext, monitor: RollbackMonitor, report: RolloutReport, *, window_s: float,
                  deadline_s: float, label: str) -> Assessment:
    """Evaluate every interval for ``window_s``; stop at once on ROLLBACK.

    At the end of the window a PASS ends the phase; a HOLD (inconclusive, unmeasurable)
    keeps evaluating until ``deadline_s`` and is returned as HOLD if it never resolves.
    """
    interval = ctx.env.strategy.evaluation_interval_s
    monitor.start()
    start = ctx.clock()
    report.note(f"{label}: monitoring {monitor.group} for {window_s:g}s (deadline {deadline_s:g}s)", ctx.log)
    while True:
        ctx.sleep(max(0.0, min(interval, deadline_s - (ctx.clock() - start))))
        a = monitor.evaluate()
        report.assessments.append(a)
        ctx.log(a.summary())
        elapsed = ctx.clock() - start
        if a.outcome is Outcome.ROLLBACK:
            return a
        if elapsed >= window_s and a.outcome is Outcome.PASS:
            return a
        if elapsed >= deadline_s:
            return a


def wait_pods_gone(ctx: RolloutContext, label_selector: str, timeout_s: float = 30.0) -> bool:
    """Wait until no selected pod is left outside termination (a removed green or canary)."""
    start = ctx.clock()
    while ctx.clock() - start < timeout_s:
        if not [p for p in pod_facts(ctx.kube, ctx.namespace, label_selector) if not p.deleting]:
            return True
        ctx.sleep(ctx.poll_s)
    return False
