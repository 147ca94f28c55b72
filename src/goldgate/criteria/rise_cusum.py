"""The window-wide CUSUM over per-poll evidence, shared by the paired and the lone error-rate tests.

:mod:`goldgate.criteria.watch_error_rate` explains the construction for independent
requests: a rise can begin at any poll boundary ``i``; the test alarms at the first poll
``j`` with ``L_j - L_i >= h_i`` for some ``i < j``, where ``h_i = ln(1 / (alpha * w_i))``
and ``w_i`` is boundary ``i``'s share of the window's false-rollback budget
(:meth:`WatchPlan.start_point`). The bound ``P(false rollback) <= alpha`` needs only that,
from every boundary on, ``exp(L_j - L_i)`` is a nonnegative supermartingale under "healthy"
(Ville's inequality, then a union bound over the boundaries). Any per-poll log e-value
with that property can be summed into ``L``: the paired test's binomial share of the
errors, the lone test's dispersion-robust beta-binomial ratio. This module keeps the sum,
the best starting point and the counts since it; what a poll's evidence is and when a
crossing is a breach is decided by the tests that use it.

The alarm sums over starting points instead of taking the best one. With ``w_i =
exp(-h_i) / alpha`` (the shares, ``sum_i w_i <= 1``) and ``E_ij = exp(L_j - L_i)``, the
test alarms at the first ``j`` with ``S_j = sum_{i<j} w_i E_ij >= 1 / alpha``. Under
"healthy" ``N_j = S_j + sum_{i>=j} w_i`` (the e-values of the starting points opened so
far plus the budget of those still to come) is a nonnegative supermartingale - each
``E_ij`` is, and a starting point's share enters at its value 1 - with ``N_0 <= 1``, so
Ville's inequality gives ``P(S_j >= 1/alpha for some j) <= alpha``: the same bound as the
union bound over the starting points, with no union bound. ``S_j`` is at least its
largest term, so this alarms whenever the best starting point alone would, and earlier
when the starting points around a rise all gather evidence (a Shiryaev-Roberts-type
e-detector with the window's time-spent weights). ``total`` keeps ``ln sum_i exp(-L_i -
h_i)``, so ``S_j >= 1/alpha`` is ``L_j + total >= 0``; the best starting point still names
the alarming stretch, whose counts the tests check against the limit (a check that only
removes alarms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from goldgate.criteria.watch_error_rate import WatchPlan

__all__ = ["RiseCusum", "Stretch"]


def _log_add(a: float, b: float) -> float:
    """``ln(exp(a) + exp(b))`` without overflow (either may be -inf)."""
    hi, lo = (a, b) if a >= b else (b, a)
    return hi if math.isinf(lo) else hi + math.log1p(math.exp(lo - hi))


@dataclass(frozen=True)
class Stretch:
    """The part of the window since the best starting point: its counts, evidence and threshold."""

    start_s: float
    at_s: float
    counts: tuple[int, ...]
    llr: float
    threshold: float


@dataclass(frozen=True)
class RiseCusum:
    """``max_i (L_j - L_i - h_i)`` as plain data; ``counts`` are cumulative per-track counts."""

    at_s: float = 0.0
    llr: float = 0.0
    counts: tuple[int, ...] = ()
    best: float = -math.inf
    best_start_s: float = 0.0
    best_llr: float = 0.0
    best_counts: tuple[int, ...] = ()
    best_threshold: float = math.inf
    next_start_s: float = 0.0
    #: ``ln sum_i exp(-L_i - h_i)`` over the starting points so far (the alarm statistic's past)
    total: float = -math.inf

    def step(self, plan: WatchPlan, log_e: float, counts: tuple[int, ...], duration_s: float) -> RiseCusum:
        """Add one poll of ``duration_s`` seconds whose evidence is ``log_e`` and counts ``counts``."""
        end = self.at_s + duration_s
        h, nxt = plan.start_point(self.at_s, end, self.next_start_s)
        before = self.counts or tuple(0 for _ in counts)
        fields: dict[str, Any] = {}
        if -self.llr - h > self.best:  # the boundary at the poll's start is the best starting point
            fields = {"best": -self.llr - h, "best_start_s": self.at_s, "best_llr": self.llr,
                      "best_counts": before, "best_threshold": h}
        if not math.isinf(h):
            fields["total"] = _log_add(self.total, -self.llr - h)
        counted = tuple(a + b for a, b in zip(before, counts, strict=True))
        return replace(self, at_s=end, llr=self.llr + log_e, counts=counted, next_start_s=nxt, **fields)

    @property
    def crossed(self) -> bool:
        """The budget-weighted sum of the e-values since every starting point reached 1
        (``sum_i exp(L_j - L_i - h_i) >= 1``; it does whenever one of them alone reaches its
        threshold, and earlier when several starting points near the rise all gather evidence)."""
        return self.llr + max(self.total, self.best) >= 0

    @property
    def rise(self) -> Stretch | None:
        """The stretch since the best starting point (None before the first poll)."""
        if math.isinf(self.best):
            return None
        base = self.best_counts or tuple(0 for _ in self.counts)
        return Stretch(self.best_start_s, self.at_s, tuple(a - b for a, b in zip(self.counts, base, strict=True)),
                       self.llr - self.best_llr, self.best_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {"at_s": self.at_s, "llr": self.llr, "counts": list(self.counts),
                "best": None if math.isinf(self.best) else self.best, "best_start_s": self.best_start_s,
                "best_llr": self.best_llr, "best_counts": list(self.best_counts),
                "best_threshold": None if math.isinf(self.best_threshold) else self.best_threshold,
                "next_start_s": self.next_start_s, "total": None if math.isinf(self.total) else self.total}

    @classmethod
    def from_dict(cls, data: Any) -> RiseCusum:
        """The inverse of :meth:`to_dict`; raises KeyError/TypeError/ValueError on bad data."""
        best, h = data.get("best"), data.get("best_threshold")
        out = cls(at_s=float(data["at_s"]), llr=float(data["llr"]), counts=tuple(int(c) for c in data["counts"]),
                  best=-math.inf if best is None else float(best), best_start_s=float(data["best_start_s"]),
                  best_llr=float(data["best_llr"]), best_counts=tuple(int(c) for c in data["best_counts"]),
                  best_threshold=math.inf if h is None else float(h), next_start_s=float(data["next_start_s"]))
        # a state saved without the sum resumes from its best starting point alone: the sum is at
        # least that, so this alarms no earlier than the full sum would
        total = data.get("total", best)
        out = replace(out, total=-math.inf if total is None else max(float(total), out.best))
        if not all(math.isfinite(x) for x in (out.at_s, out.llr, out.best_llr, out.next_start_s)) or out.at_s < 0:
            raise ValueError("non-finite window state")
        if any(c < 0 for c in out.counts) or (out.best_counts and len(out.best_counts) != len(out.counts)):
            raise ValueError("bad counts")
        return out
