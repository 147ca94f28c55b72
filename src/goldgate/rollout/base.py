"""What every deployment strategy shares: its context, its report, and how it waits.

A strategy is a small state machine over Kubernetes objects; what it needs (clients,
safety policy, metric source, timings, a clock) travels in one :class:`RolloutContext`
and what it did (actions, assessments, the final decision with its reason) comes back as
one :class:`RolloutReport`, which the feature steps turn into verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldgate.actions.base import ActionResult, SafetyLike
from goldgate.config import Environment
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.workloads import DeploymentStatus, PodFact, deployment_status, pod_facts
from goldgate.rollout.monitor import Assessment, Outcome, RollbackMonitor
from goldgate.verdict import Evidence, Verdict

__all__ = [
    "HARD_FAILURES",
    "Release",
    "RolloutContext",
    "RolloutReport",
    "hard_failure",
    "monitor_phase",
    "own_pods",
    "wait_for_pods",
    "wait_pods_gone",
]

#: Container states that mean the release cannot run, so waiting longer is pointless.
HARD_FAILURES = {"CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError",
                 "CreateContainerError", "InvalidImageName", "RunContainerError"}


@dataclass(frozen=True)
class Release:
    """The version being rolled out: an image, plus environment and limits it carries."""

    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    memory_limit: str | None = None

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


def hard_failure(pods: list[PodFact], restarts0: Mapping[str, int]) -> str:
    """Why the release's pods cannot become healthy (restarts, crash loop, OOM), or ''."""
    problems = []
    for p in pods:
        if p.deleting:
            continue
        restarted = p.restarts - restarts0.get(p.name, 0)
        if p.waiting_reason in HARD_FAILURES:
            problems.append(f"{p.name}: {p.waiting_reason}")
        elif restarted > 0:
            why = f", last exit {p.last_termination_reason}" if p.last_termination_reason else ""
            problems.append(f"{p.name}: restarted {restarted}x{why}")
        elif p.last_termination_reason == "OOMKilled":
            problems.append(f"{p.name}: OOMKilled")
    return "; ".join(problems)


def health_verdict(problem: str, group: str, pods: list[PodFact]) -> Verdict:
    """The §6.1 health-check breach a hard failure amounts to."""
    from goldgate.rollout.monitor import HEALTH, OOM

    criterion = OOM if "OOMKilled" in problem else HEALTH
    facts = Evidence("kubernetes", f"pods of {group}", None, len(pods),
                     {"pods": [{"name": p.name, "ready": p.ready, "restarts": p.restarts,
                                "waiting": p.waiting_reason, "last_exit": p.last_termination_reason}
                               for p in pods]})
    bad = problem.count(";") + 1
    return Verdict.failed(criterion, bad, 0, f"{bad} of {len(pods)} pods of {group} failed: {problem}",
                          evidence=facts, rollback=True, unit="unhealthy pods")


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
        problem = hard_failure(pods, restarts0) if fail_fast else ""
        if problem:
            return WaitResult(False, f"health check failed: {problem}",
                              health_verdict(problem, f"deployment/{deployment}", pods), status)
        ready = sum(1 for p in pods if p.ready and not p.deleting)
        if (status.complete if complete else ready >= want_ready):
            return WaitResult(True, f"{ready} pods Ready", status=status)
        if status.stalled and fail_fast:
            cond = status.conditions.get("Progressing", ("", "", ""))
            return WaitResult(False, f"stalled: ProgressDeadlineExceeded ({cond[2]})", _stall_verdict(
                deployment, status, ready, want_ready, ctx.clock() - start), status)
        if ctx.clock() - start > deadline_s:
            return WaitResult(False, f"stalled: only {ready} of {want_ready} pods Ready after {deadline_s:g}s",
                              _stall_verdict(deployment, status, ready, want_ready, ctx.clock() - start), status)
        ctx.sleep(ctx.poll_s)


def _stall_verdict(deployment: str, status: DeploymentStatus, ready: int, want: int, waited: float) -> Verdict:
    ev = Evidence("kubernetes", f"deployment/{deployment} status", round(waited, 1), None,
                  {"replicas": status.replicas, "updated": status.updated_replicas, "ready": status.ready_replicas,
                   "available": status.available_replicas,
                   "conditions": {k: list(v) for k, v in status.conditions.items()}})
    return Verdict.failed("rollout progress (§2.3 health checks: verify each pod)", ready, want,
                          f"rollout of deployment/{deployment} stalled: {ready} of {want} pods Ready after "
                          f"{waited:.1f}s", evidence=ev, rollback=True, unit="Ready pods")


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
