"""Failed health checks -> rollback (guide §6.1, "health check fails").

The probe (Kubernetes pod status, kubelet events) reduces each pod to a :class:`PodHealth`
fact; this module only decides. A pod counts as unhealthy when it is not Ready, restarted
during the window, or failed more liveness/readiness probes than allowed. No pods at all
is INCONCLUSIVE: an empty selection must not pass for a healthy release.

Two moments ask the question, with the same facts and the same tolerances:

* :func:`health_checks` over a monitoring window: a pod that is not Ready counts.
* :func:`startup_health` while a release's pods start: not being Ready *yet* is no
  failure, but a crash loop, an image that cannot be pulled, restarts or OOM kills above
  the environment's tolerances mean waiting longer is pointless.

Tolerances (restarts, OOM kills) are arguments: the environment supplies them, the guide's
zero is only its default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from goldgate.criteria.registry import criterion as registered
from goldgate.verdict import Evidence, Verdict

__all__ = ["HARD_FAILURES", "PodHealth", "PodTolerances", "health_checks", "pod_tolerances", "start_problems",
           "startup_health"]

#: Container states that mean the release cannot run, so waiting longer is pointless.
HARD_FAILURES = frozenset({"CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError",
                           "CreateContainerError", "InvalidImageName", "RunContainerError"})
OOM_KILLED = "OOMKilled"


@dataclass(frozen=True)
class PodTolerances:
    """How many restarts and OOM kills a release's pods may show before it is rolled back."""

    max_restarts: int
    max_oom_kills: int


#: The guide's tolerances (§6.1: a failed health check or an OOM kill is a rollback).
GUIDE_TOLERANCES = PodTolerances(max_restarts=0, max_oom_kills=0)


def pod_tolerances(thresholds: Any) -> PodTolerances:
    """The tolerances in force: an environment's ``thresholds.max_restarts`` and
    ``thresholds.max_oom_kills``, the guide's zero for each one it does not set."""
    return PodTolerances(int(getattr(thresholds, "max_restarts", GUIDE_TOLERANCES.max_restarts)),
                         int(getattr(thresholds, "max_oom_kills", GUIDE_TOLERANCES.max_oom_kills)))


@dataclass(frozen=True)
class PodHealth:
    """Health facts of one pod over the monitoring window.

    ``restarts_in_window`` is the rise of the containers' restart counts during the
    window; ``liveness_failures`` / ``readiness_failures`` count failed probes in the
    window (from kubelet events); ``waiting_reason`` is e.g. ``CrashLoopBackOff``;
    ``last_termination_reason`` / ``last_termination_at`` (epoch s) come from the
    containers' ``lastState.terminated``.
    """

    name: str
    ready: bool
    phase: str = "Running"
    restarts_in_window: int = 0
    liveness_failures: int = 0
    readiness_failures: int = 0
    waiting_reason: str = ""
    last_termination_reason: str = ""
    last_termination_at: float | None = None


def _problems(pod: PodHealth, max_restarts: int, max_probe_failures: int) -> list[str]:
    out = []
    if not pod.ready:
        out.append(f"not Ready (phase {pod.phase}{', ' + pod.waiting_reason if pod.waiting_reason else ''})")
    if pod.restarts_in_window > max_restarts:
        out.append(f"{pod.restarts_in_window} restarts (max {max_restarts})")
    if pod.liveness_failures > max_probe_failures:
        out.append(f"{pod.liveness_failures} liveness failures (max {max_probe_failures})")
    if pod.readiness_failures > max_probe_failures:
        out.append(f"{pod.readiness_failures} readiness failures (max {max_probe_failures})")
    return out


def _garbage(pods: Sequence[PodHealth]) -> str:
    """Counts a kubelet cannot report (negative restarts or probe failures), named per pod."""
    bad = [f"{p.name}: {field} {getattr(p, field)}" for p in pods
           for field in ("restarts_in_window", "liveness_failures", "readiness_failures")
           if not isinstance(getattr(p, field), int) or getattr(p, field) < 0]
    return "; ".join(bad)


def _bad_tolerance(**tolerances: int) -> str:
    return "; ".join(f"{name} {value!r} is not a count" for name, value in tolerances.items()
                     if not isinstance(value, int) or isinstance(value, bool) or value < 0)


@registered(needs="the status of at least one selected pod, with non-negative restart and probe-failure counts")
def health_checks(
    pods: Sequence[PodHealth],
    *,
    max_restarts: int,
    max_probe_failures: int,
    max_unhealthy_pods: int,
    window_s: float | None,
    criterion: str = "health checks",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) when more than ``max_unhealthy_pods`` pods have a health problem."""
    window = f" over {window_s:g}s" if window_s is not None else ""
    facts = Evidence("pod-status", "", window_s, len(pods), {"pods": [asdict(p) for p in pods]})
    kw = {"evidence": (*evidence, facts), "rollback": rollback, "unit": "unhealthy pods"}
    if not pods:
        return Verdict.inconclusive(criterion, f"no pods selected{window}: nothing to judge",
                                    threshold=max_unhealthy_pods, **kw)
    unusable = _bad_tolerance(max_restarts=max_restarts, max_probe_failures=max_probe_failures,
                              max_unhealthy_pods=max_unhealthy_pods) or _garbage(pods)
    if unusable:
        return Verdict.error(criterion, f"unusable pod health input: {unusable}", threshold=max_unhealthy_pods, **kw)
    bad = {p.name: probs for p in pods if (probs := _problems(p, max_restarts, max_probe_failures))}
    summary = f"{len(bad)} of {len(pods)} pods unhealthy{window}"
    if len(bad) > max_unhealthy_pods:
        listing = "; ".join(f"{name}: {', '.join(probs)}" for name, probs in sorted(bad.items()))
        return Verdict.failed(criterion, len(bad), max_unhealthy_pods,
                              f"{summary} (max {max_unhealthy_pods}): {listing}", **kw)
    return Verdict.passed(criterion, len(bad), max_unhealthy_pods,
                          f"{summary} (max {max_unhealthy_pods})", **kw)


def start_problems(pods: Sequence[PodHealth], *, max_restarts: int, max_oom_kills: int) -> list[str]:
    """Why starting pods cannot become healthy, one entry per pod ("name: cause"); [] when none.

    A pod waiting in a :data:`HARD_FAILURES` state fails at once; a pod that restarted more
    than ``max_restarts`` times fails with its last exit reason; OOM-killed pods fail once
    there are more than ``max_oom_kills`` of them (Kubernetes keeps the last termination per
    container, so an OOM kill is seen even before the restart counter moves).
    """
    oom = [p for p in pods if p.last_termination_reason == OOM_KILLED]
    too_many_oom = len(oom) > max_oom_kills
    problems = []
    for p in pods:
        if p.waiting_reason in HARD_FAILURES:
            problems.append(f"{p.name}: {p.waiting_reason}")
        elif p.restarts_in_window > max_restarts:
            why = f", last exit {p.last_termination_reason}" if p.last_termination_reason else ""
            problems.append(f"{p.name}: restarted {p.restarts_in_window}x{why}")
        elif too_many_oom and p.last_termination_reason == OOM_KILLED:
            problems.append(f"{p.name}: {OOM_KILLED}")
    return problems


@registered(needs="the status of at least one starting pod, with non-negative restart counts")
def startup_health(
    pods: Sequence[PodHealth],
    *,
    max_restarts: int,
    max_oom_kills: int,
    group: str,
    criterion: str = "health checks",
    oom_criterion: str = "OOM kills",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) as soon as a starting pod cannot become healthy; PASS while none failed.

    The verdict is the OOM-kill criterion when OOM kills exceed their tolerance (an OOM
    kill also restarts the pod; the more specific cause is the one to report), else the
    health-check criterion. A PASS says only "nothing failed so far", never "Ready".
    """
    facts = Evidence("kubernetes", f"pods of {group}", None, len(pods),
                     {"pods": [{"name": p.name, "ready": p.ready, "restarts": p.restarts_in_window,
                                "waiting": p.waiting_reason, "last_exit": p.last_termination_reason}
                               for p in pods]})
    kw = {"evidence": (*evidence, facts), "rollback": rollback, "unit": "unhealthy pods"}
    if not pods:
        return Verdict.inconclusive(criterion, f"no pods of {group} yet: nothing to judge", threshold=0, **kw)
    unusable = _bad_tolerance(max_restarts=max_restarts, max_oom_kills=max_oom_kills) or _garbage(pods)
    if unusable:
        return Verdict.error(criterion, f"unusable pod status of {group}: {unusable}", threshold=0, **kw)
    problems = start_problems(pods, max_restarts=max_restarts, max_oom_kills=max_oom_kills)
    oomed = sum(1 for p in pods if p.last_termination_reason == OOM_KILLED)
    label = oom_criterion if oomed > max_oom_kills else criterion
    tolerance = f"(tolerated: {max_restarts} restarts, {max_oom_kills} OOM kills)"
    if problems:
        return Verdict.failed(label, len(problems), 0,
                              f"{len(problems)} of {len(pods)} pods of {group} failed: {'; '.join(problems)} "
                              f"{tolerance}", **kw)
    return Verdict.passed(label, 0, 0, f"none of {len(pods)} pods of {group} failed to start {tolerance}", **kw)
