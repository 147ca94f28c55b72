"""Failed health checks -> rollback (guide §6.1, "health check fails").

The probe (Kubernetes pod status, kubelet events) reduces each pod to a :class:`PodHealth`
fact; this module only decides. A pod counts as unhealthy when it is not Ready, restarted
during the window, or failed more liveness/readiness probes than allowed. No pods at all
is INCONCLUSIVE: an empty selection must not pass for a healthy release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from goldgate.verdict import Evidence, Verdict

__all__ = ["PodHealth", "health_checks"]


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
    bad = {p.name: probs for p in pods if (probs := _problems(p, max_restarts, max_probe_failures))}
    summary = f"{len(bad)} of {len(pods)} pods unhealthy{window}"
    if len(bad) > max_unhealthy_pods:
        listing = "; ".join(f"{name}: {', '.join(probs)}" for name, probs in sorted(bad.items()))
        return Verdict.failed(criterion, len(bad), max_unhealthy_pods,
                              f"{summary} (max {max_unhealthy_pods}): {listing}", **kw)
    return Verdict.passed(criterion, len(bad), max_unhealthy_pods,
                          f"{summary} (max {max_unhealthy_pods})", **kw)
