"""Resource criteria of guide §6.1 and §8: free disk, OOM kills, CPU and memory vs limits.

* free disk below ``min_free_fraction`` of the volume -> rollback
* OOM kills in the window above ``max_oom_kills``      -> rollback
* CPU above ``max_fraction`` of its limit              -> alert (``rollback=False``)
* memory above ``max_fraction`` of its limit           -> alert (``rollback=False``)

Each decision is on the worst pod (or volume), and names it. Missing readings or missing
limits are INCONCLUSIVE: a pod without a memory limit has no "80 % of limit" to exceed.
Limits and tolerances are arguments (the environment's values); one that is not a number
in range is ERROR, never a comparison that silently passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from goldgate.criteria.health import PodHealth
from goldgate.criteria.registry import criterion as registered
from goldgate.probes.workloads import PodUsage  # the probe's reading, judged here
from goldgate.verdict import Evidence, Verdict

__all__ = [
    "DiskReading",
    "PodUsage",
    "cpu_vs_limit",
    "free_disk",
    "memory_vs_limit",
    "oom_kills",
]


@dataclass(frozen=True)
class DiskReading:
    """One volume: ``node_filesystem_avail_bytes`` and ``..._size_bytes`` of a pod."""

    pod: str
    avail_bytes: float | None
    size_bytes: float | None
    mountpoint: str = "/data"

    @property
    def free_fraction(self) -> float | None:
        if self.avail_bytes is None or self.size_bytes is None:
            return None
        if not (math.isfinite(self.avail_bytes) and math.isfinite(self.size_bytes)):
            return None
        if self.size_bytes <= 0 or not 0 <= self.avail_bytes <= self.size_bytes:
            return None
        return self.avail_bytes / self.size_bytes


def _pct(x: float) -> str:
    return f"{x * 100:.3g} %"


def _fraction_unusable(name: str, value: float) -> str:
    """Why a fraction limit cannot be compared with, or ''."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= 1:
        return f"{name} {value!r} is not a fraction between 0 and 1"
    return ""


@registered(needs="one volume with finite available and size bytes (size > 0) and a finite minimum fraction")
def free_disk(
    volumes: Sequence[DiskReading],
    *,
    min_free_fraction: float,
    window_s: float | None = None,
    criterion: str = "free disk",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) when the least free volume has less than ``min_free_fraction`` free."""
    ev = (*evidence, Evidence("disk", "", window_s, len(volumes),
                              {"volumes": [asdict(v) | {"free_fraction": v.free_fraction} for v in volumes]}))
    kw = {"evidence": ev, "rollback": rollback, "unit": ""}
    unusable = _fraction_unusable("min_free_fraction", min_free_fraction)
    if unusable:
        return Verdict.error(criterion, unusable, threshold=min_free_fraction, **kw)
    known = [v for v in volumes if v.free_fraction is not None]
    if not known:
        return Verdict.inconclusive(criterion, f"no usable free-disk reading ({len(volumes)} volumes)",
                                    threshold=min_free_fraction, **kw)
    worst = min(known, key=lambda v: v.free_fraction)  # type: ignore[arg-type, return-value]
    free = worst.free_fraction
    assert free is not None
    text = (f"{worst.pod} {worst.mountpoint}: {_pct(free)} free "
            f"({worst.avail_bytes:.0f} of {worst.size_bytes:.0f} bytes) vs minimum {_pct(min_free_fraction)}; "
            f"{len(known)} volumes")
    if free < min_free_fraction:
        return Verdict.failed(criterion, free, min_free_fraction, f"below minimum: {text}", **kw)
    return Verdict.passed(criterion, free, min_free_fraction, text, **kw)


@registered(needs="the status of at least one pod, a finite window start and a non-negative tolerance")
def oom_kills(
    pods: Sequence[PodHealth],
    *,
    window_start: float,
    max_oom_kills: int,
    window_s: float | None = None,
    criterion: str = "OOM kills",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) when more than ``max_oom_kills`` pods were OOMKilled in the window.

    A pod counts when its last termination reason is ``OOMKilled`` and it ended at or after
    ``window_start``, or, when the time is unknown, when it also restarted in the window.
    Kubernetes keeps only the last termination per container, so this is a lower bound.
    """
    ev = (*evidence, Evidence("pod-status", "", window_s, len(pods),
                              {"pods": [asdict(p) for p in pods], "window_start": window_start}))
    kw = {"evidence": ev, "rollback": rollback, "unit": "OOM-killed pods"}
    if not pods:
        return Verdict.inconclusive(criterion, "no pods selected: nothing to judge",
                                    threshold=max_oom_kills, **kw)
    if isinstance(max_oom_kills, bool) or not isinstance(max_oom_kills, int) or max_oom_kills < 0:
        return Verdict.error(criterion, f"max_oom_kills {max_oom_kills!r} is not a count", threshold=max_oom_kills, **kw)
    if not isinstance(window_start, int | float) or not math.isfinite(window_start):
        return Verdict.error(criterion, f"window_start {window_start!r} is not a time", threshold=max_oom_kills, **kw)
    if any(p.restarts_in_window < 0 for p in pods):
        bad = ", ".join(f"{p.name}: {p.restarts_in_window}" for p in pods if p.restarts_in_window < 0)
        return Verdict.error(criterion, f"negative restart counts ({bad})", threshold=max_oom_kills, **kw)
    killed = sorted(
        p.name for p in pods
        if p.last_termination_reason == "OOMKilled" and (
            (p.last_termination_at is not None and p.last_termination_at >= window_start)
            or (p.last_termination_at is None and p.restarts_in_window > 0))
    )
    text = f"{len(killed)} of {len(pods)} pods OOMKilled in the window (max {max_oom_kills})"
    if len(killed) > max_oom_kills:
        return Verdict.failed(criterion, len(killed), max_oom_kills, f"{text}: {', '.join(killed)}", **kw)
    return Verdict.passed(criterion, len(killed), max_oom_kills, text, **kw)


def _usage_vs_limit(
    usages: Sequence[PodUsage], used: str, limit: str, what: str, unit: str, *,
    max_fraction: float, window_s: float | None, criterion: str, evidence: Iterable[Evidence],
    rollback: bool,
) -> Verdict:
    ev = (*evidence, Evidence("metrics.k8s.io", "", window_s, len(usages),
                              {"pods": [asdict(u) for u in usages]}))
    kw = {"evidence": ev, "rollback": rollback, "unit": ""}
    unusable = _fraction_unusable("max_fraction", max_fraction)
    if unusable:
        return Verdict.error(criterion, unusable, threshold=max_fraction, **kw)
    fractions = []
    for u in usages:
        value, cap = getattr(u, used), getattr(u, limit)
        if value is None or cap is None or not (math.isfinite(value) and math.isfinite(cap)) \
                or cap <= 0 or value < 0:
            continue
        fractions.append((value / cap, u.pod, value, cap))
    if not fractions:
        return Verdict.inconclusive(
            criterion, f"no {what} reading with a {what} limit ({len(usages)} pods)",
            threshold=max_fraction, **kw)
    frac, pod, value, cap = max(fractions)
    text = (f"{pod}: {what} {value:.4g} of limit {cap:.4g} {unit} = {_pct(frac)} vs maximum "
            f"{_pct(max_fraction)}; {len(fractions)} pods")
    # §8.3 states targets as "< 70 %" / "< 80 %": reaching the target is already outside it.
    if frac >= max_fraction:
        return Verdict.failed(criterion, frac, max_fraction, f"not below the target: {text}", **kw)
    return Verdict.passed(criterion, frac, max_fraction, text, **kw)


@registered(needs="one pod with a finite, non-negative CPU reading and a positive CPU limit")
def cpu_vs_limit(usages: Sequence[PodUsage], *, max_fraction: float, window_s: float | None = None,
                 criterion: str = "CPU vs limit", evidence: Iterable[Evidence] = (),
                 rollback: bool = False) -> Verdict:
    """FAIL (alert) when the busiest pod uses ``max_fraction`` of its CPU limit or more (§8.3 "< 70 %")."""
    return _usage_vs_limit(usages, "cpu_cores", "cpu_limit_cores", "CPU", "cores",
                           max_fraction=max_fraction, window_s=window_s, criterion=criterion,
                           evidence=evidence, rollback=rollback)


@registered(needs="one pod with a finite, non-negative memory reading and a positive memory limit")
def memory_vs_limit(usages: Sequence[PodUsage], *, max_fraction: float,
                    window_s: float | None = None, criterion: str = "memory vs limit",
                    evidence: Iterable[Evidence] = (), rollback: bool = False) -> Verdict:
    """FAIL (alert) when the fullest pod uses ``max_fraction`` of its memory limit or more (§8.3 "< 80 %")."""
    return _usage_vs_limit(usages, "memory_bytes", "memory_limit_bytes", "memory", "bytes",
                           max_fraction=max_fraction, window_s=window_s, criterion=criterion,
                           evidence=evidence, rollback=rollback)
