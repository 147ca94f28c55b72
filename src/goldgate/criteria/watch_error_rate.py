"""Error rate above the limit -> rollback, with a false-rollback bound over the whole watch.

A release is not judged on one sample: it is watched for a canary phase (guide §2.2, 30
minutes), the window after a switch (§5.2, 2 hours) or a ``goldgate watch`` horizon, and
the rollback monitor looks at the error counters every poll. Restarting Wald's test
after each "healthy" decision spends the false-rollback budget ``alpha`` again on every
restart, so the chance of rolling back a healthy release grows with the length of the
watch and with how often it is polled. This module replaces the restarts by one test per
window whose false-rollback probability is bounded by ``alpha`` for the whole window.

The test (a CUSUM with a time-spent threshold)
----------------------------------------------
Every request is a Bernoulli trial; an error adds ``a = ln(p1/p0)`` to the log-likelihood
ratio (LLR) of "breached" (``p1``) against "healthy" (``p0``), a success adds
``b = ln((1-p1)/(1-p0))`` (negative). A poll ``j`` brings ``n_j`` requests with ``k_j``
errors and ends at window time ``t_j``; ``L_j`` is the LLR of everything up to poll ``j``.
A rise can begin at any poll boundary ``i``, so the evidence of a rise since ``i`` is
``L_j - L_i``; the test alarms (FAIL, rollback) at the first poll ``j`` with::

    L_j - L_i >= h_i   for some boundary i < j,     h_i = ln(1 / (alpha * w_i))

which is a CUSUM (``max_i (L_j - L_i)``, Page's reset at 0) whose threshold is set per
starting point. ``w_i`` is the share of the window's budget that boundary ``i`` gets: the
share of the horizon ``T`` it covers, ``w_i = W(e_i) - W(t_i)`` with ``e_i`` the end of its
poll or ``t_i + resolution``, whichever is later (boundaries inside that stretch are no
starting points: with 1 s polls the budget is not split 7200 ways, a rise is placed to the
resolution, by default 1/720 of the horizon) and::

    W(0) = 0
    W(t) = onset + (1 - onset - tail) * t / T           for 0 < t <= T
    W(t) = (1 - tail) + tail * (1 - T / t)              for t >  T   (never reaches 1)

The ``onset`` share (default half) goes to the window's first boundary, the moment the
release takes traffic: most bad builds are bad from their first request, and there the
threshold is ``ln(1/(onset*alpha)) = 5.3``, close to one Wald test's. The rest is spread
evenly over the horizon for rises that begin later.

Why the bound holds. Fix a boundary ``i``. From there on ``exp(L_j - L_i)`` is a product
of per-request likelihood ratios; at ``p = p0`` it is a martingale with mean 1, and for
any true rate ``p < p0`` a supermartingale (the mean of one factor,
``p*p1/p0 + (1-p)(1-p1)/(1-p0)``, rises with ``p`` and is 1 at ``p0``: the Bernoulli family
has a monotone likelihood ratio). Ville's inequality bounds the chance it *ever* reaches
``1/(alpha*w_i)`` by ``alpha*w_i``, whatever the stopping, however the requests are
grouped into polls and however many there are. A union bound over the boundaries gives
``P(false rollback in the window) <= alpha * sum_i w_i = alpha * W(t_last) < alpha``.
The weights depend only on the poll times, which the scheduler's clock sets and the
error outcomes do not; conditional on the traffic and the poll schedule the errors are
i.i.d., so the bound holds for every traffic pattern (bursts, gaps, a stopped stream)
and every poll interval. Polling more often buys earlier looks and pays for them with a
slightly higher threshold (``ln`` of the number of polls), which is what keeps the
window's guarantee independent of the interval. Past the horizon the remaining
``tail`` of the budget is spent at a rate falling like ``1/t^2``: a watch that overruns
stays valid, only slightly slower.

Why it still detects quickly. After a rise to ``p1`` at any time the LLR climbs by the
Kullback-Leibler divergence ``p1*a + (1-p1)*b`` per request, the CUSUM forgets the
healthy past (it maximises over the starting point), and the threshold grows only with
the logarithm of the number of polls: with the guide's numbers and 60 s polls over 2 h
``h = ln(120 / 0.004) = 10.3`` for a rise after the start against ``ln(0.95 / 0.01) = 4.6``
for one Wald test, i.e. about 800 requests at 2 % instead of 325 - the price of a
guarantee over 120 looks instead of one.
``bench/watch_validity.py`` measures both: false rollbacks per 2-hour watch and the
delay against a per-request CUSUM tuned by simulation to the same false-alarm rate.

PASS and freshness
------------------
A FAIL needs the alarm *and* the error rate of the alarming stretch above ``limit`` (a
FAIL is a measured breach). A PASS is judged afresh on every poll, never carried over:
it needs (1) no alarm, (2) requests seen within the last ``max_gap_s`` of the window (a
stopped stream is INCONCLUSIVE "no requests since ..."), and (3) the window's own counts
accepting "healthy" in Wald's sense: window LLR at or below ``ln(beta/(1-alpha))`` and the
window's error rate at or below ``limit``. By Ville's inequality under ``p1``, a release
breached at ``p1`` through the window is passed with probability at most ``beta``. If the
environment truncates the test (``max_requests``), a window with at least that many
requests and a rate at or below the limit also passes (truncation never makes a FAIL:
that would spend budget the bound does not have).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.sprt import SprtParams
from goldgate.verdict import Evidence, Verdict

__all__ = ["STARTS_PER_HORIZON", "Alarm", "WatchErrorRate", "WatchPlan", "WatchState", "error_rate_over_window"]

#: The horizon's budget is split over at most this many starting points by default: a rise is
#: placed to 1/720 of the window (10 s of a 2-hour watch); finer would only raise the threshold.
STARTS_PER_HORIZON = 720


@dataclass(frozen=True)
class WatchPlan:
    """The test's numbers: the sequential parameters, the window's horizon and the gap rule."""

    params: SprtParams
    horizon_s: float
    max_gap_s: float
    resolution_s: float | None = None
    onset: float = 0.5
    tail: float = 0.1

    def __post_init__(self) -> None:
        for name in ("horizon_s", "max_gap_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not (0 < self.tail < 1 and 0 <= self.onset < 1 - self.tail):
            raise ValueError(f"need 0 < tail < 1 and 0 <= onset < 1 - tail, got {self.tail!r}, {self.onset!r}")
        r = self.resolution_s
        if r is not None and not (isinstance(r, int | float) and math.isfinite(r) and r > 0):
            raise ValueError(f"resolution_s must be a positive number of seconds, got {r!r}")

    @property
    def resolution(self) -> float:
        """The closest two starting points may be: default 1/720 of the horizon (10 s in 2 h)."""
        return self.resolution_s or self.horizon_s / STARTS_PER_HORIZON

    def spent(self, t: float) -> float:
        """``W(t)``: the share of the window's false-rollback budget spent by window time ``t``."""
        if t <= 0:
            return 0.0
        T = self.horizon_s  # noqa: N806 - the horizon's usual symbol
        spread = 1 - self.onset - self.tail
        if t <= T:
            return self.onset + spread * t / T
        return self.onset + spread + self.tail * (1 - T / t)

    def threshold(self, start_s: float, end_s: float) -> float:
        """``h_i`` of a starting point at ``start_s`` whose budget covers the time up to ``end_s``."""
        share = self.spent(end_s) - self.spent(start_s)
        if share <= 0:
            return math.inf
        return -math.log(self.params.alpha * share)

    def start_point(self, boundary_s: float, poll_end_s: float, next_start_s: float) -> tuple[float, float]:
        """``(h, next_start_s)`` of the boundary at ``boundary_s`` whose poll ends at ``poll_end_s``.

        A boundary at or after ``next_start_s`` is a starting point; its budget covers
        ``[boundary, max(boundary + resolution, poll end)]``, and the next starting point is the
        first boundary after ``boundary + resolution``. Those stretches never overlap, so the
        shares add up to at most ``W(t)``. Other boundaries get no budget (``h`` infinite).
        """
        if poll_end_s <= boundary_s or boundary_s < next_start_s:
            return math.inf, next_start_s
        r = self.resolution
        return self.threshold(boundary_s, max(boundary_s + r, poll_end_s)), boundary_s + r


@dataclass(frozen=True)
class Alarm:
    """The stretch of the window that crossed its threshold: from ``start_s`` to ``at_s``."""

    start_s: float
    at_s: float
    requests: int
    errors: int
    llr: float
    threshold: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else math.nan


@dataclass(frozen=True)
class WatchState:
    """Where the window's test stands after its last poll (plain data: resumable, judged by
    :func:`error_rate_over_window`). Times are seconds since the window opened."""

    plan: WatchPlan
    at_s: float = 0.0
    polls: int = 0
    requests: int = 0
    errors: int = 0
    llr: float = 0.0
    last_traffic_s: float | None = None
    last_poll: tuple[int, int, float] = (0, 0, 0.0)
    # the best starting point so far: max over boundaries i of (-L_i - h_i), with its place
    best: float = -math.inf
    best_start_s: float = 0.0
    best_requests: int = 0
    best_errors: int = 0
    best_threshold: float = math.inf
    next_start_s: float = 0.0
    alarm: Alarm | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def cusum(self) -> float:
        """``max_i (L_j - L_i - h_i)``: the alarm fires when this reaches 0."""
        return self.llr + self.best

    def to_dict(self) -> dict[str, Any]:
        p = self.plan.params
        out: dict[str, Any] = {
            "window_s": round(self.at_s, 3), "polls": self.polls, "requests": self.requests,
            "errors": self.errors, "error_rate": self.error_rate, "limit": p.limit,
            "llr": round(self.llr, 4), "accept_h0_at": round(p.lower, 4),
            "rise_statistic": None if math.isinf(self.best) else round(self.rise_llr, 4),
            "rise_threshold": None if math.isinf(self.best) else round(self.best_threshold, 4),
            "rise_since_s": None if math.isinf(self.best) else round(self.best_start_s, 3),
            "last_poll": {"requests": self.last_poll[0], "errors": self.last_poll[1],
                          "duration_s": round(self.last_poll[2], 3)},
            "last_traffic_s": self.last_traffic_s, "max_gap_s": self.plan.max_gap_s,
            "horizon_s": self.plan.horizon_s, "budget_spent": round(self.plan.spent(self.at_s), 4),
            "p0": p.p0, "p1": p.p1, "alpha": p.alpha, "beta": p.beta, "max_requests": p.max_requests,
        }
        if self.alarm is not None:
            a = self.alarm
            out["alarm"] = {"start_s": a.start_s, "at_s": a.at_s, "requests": a.requests, "errors": a.errors,
                            "llr": round(a.llr, 4), "threshold": round(a.threshold, 4)}
        return out

    @property
    def rise_llr(self) -> float:
        """LLR of the stretch since the best starting point (compared with its threshold)."""
        return self.llr - self.plan.params.llr(self.best_requests, self.best_errors)


class WatchErrorRate:
    """Feeds one window's polls into the test; every :meth:`observe` returns the new state.

    ``observe(requests, errors, duration_s)`` adds what one poll saw over ``duration_s``
    seconds. Counts split over several calls at the same instant (``duration_s = 0`` after
    the first) give exactly the state of one call with their sum: they are one look, so the
    poll is recomputed from the state before it with the summed counts.
    """

    def __init__(self, plan: WatchPlan) -> None:
        self.plan = plan
        self.state = WatchState(plan)
        self._before = self.state  # the state before the latest poll, for same-instant pieces
        self._pending = (0, 0, 0.0)

    def observe(self, requests: int, errors: int, duration_s: float) -> WatchState:
        if requests < 0 or errors < 0 or errors > requests:
            raise ValueError(f"need 0 <= errors <= requests, got {errors} errors of {requests}")
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be a finite non-negative number, got {duration_s!r}")
        if duration_s == 0 and self.state.polls > 0:
            n, k, d = self._pending
            self._pending = (n + requests, k + errors, d)
        else:
            self._before = self.state
            self._pending = (requests, errors, duration_s)
        self.state = self._poll(self._before, *self._pending)
        return self.state

    def _poll(self, s: WatchState, requests: int, errors: int, duration_s: float) -> WatchState:
        if s.alarm is not None:  # a breach is final: later traffic does not undo it
            return replace(s, polls=s.polls + 1, last_poll=(requests, errors, duration_s))
        p = self.plan.params
        end = s.at_s + duration_s
        best, start_s, start_n, start_k, start_h = (s.best, s.best_start_s, s.best_requests, s.best_errors,
                                                    s.best_threshold)
        # the boundary at s.at_s may be a starting point: its budget is the time it opens
        h, next_start = self.plan.start_point(s.at_s, end, s.next_start_s)
        candidate = -s.llr - h
        if candidate > best:
            best, start_s, start_n, start_k, start_h = candidate, s.at_s, s.requests, s.errors, h
        llr = s.llr + p.llr(requests, errors)
        n, k = s.requests + requests, s.errors + errors
        alarm = None
        if llr + best >= 0:
            seg_n, seg_k = n - start_n, k - start_k
            if seg_n and seg_k / seg_n > p.limit:
                alarm = Alarm(start_s, end, seg_n, seg_k, llr - p.llr(start_n, start_k), start_h)
        return replace(
            s, at_s=end, polls=s.polls + 1, requests=n, errors=k, llr=llr,
            last_traffic_s=end if requests else s.last_traffic_s, last_poll=(requests, errors, duration_s),
            best=best, best_start_s=start_s, best_requests=start_n, best_errors=start_k, best_threshold=start_h,
            next_start_s=next_start, alarm=alarm)

    # ------------------------------------------------------------------ resume
    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data, to continue the same window after a restart."""
        s = self.state
        return {"at_s": s.at_s, "polls": s.polls, "requests": s.requests, "errors": s.errors, "llr": s.llr,
                "last_traffic_s": s.last_traffic_s, "last_poll": list(s.last_poll),
                "best": None if math.isinf(s.best) else s.best, "best_start_s": s.best_start_s,
                "best_requests": s.best_requests, "best_errors": s.best_errors,
                "best_threshold": None if math.isinf(s.best_threshold) else s.best_threshold,
                "next_start_s": s.next_start_s,
                "alarm": None if s.alarm is None else vars(s.alarm)}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Continue from :meth:`snapshot`; anything unreadable starts the window afresh."""
        try:
            best = data.get("best")
            alarm = data.get("alarm")
            last = list(data.get("last_poll") or (0, 0, 0.0))
            state = WatchState(
                self.plan, at_s=float(data["at_s"]), polls=int(data["polls"]), requests=int(data["requests"]),
                errors=int(data["errors"]), llr=float(data["llr"]),
                last_traffic_s=None if data.get("last_traffic_s") is None else float(data["last_traffic_s"]),
                last_poll=(int(last[0]), int(last[1]), float(last[2])),
                best=-math.inf if best is None else float(best), best_start_s=float(data.get("best_start_s", 0.0)),
                best_requests=int(data.get("best_requests", 0)), best_errors=int(data.get("best_errors", 0)),
                best_threshold=math.inf if data.get("best_threshold") is None else float(data["best_threshold"]),
                next_start_s=float(data.get("next_start_s", 0.0)),
                alarm=None if not alarm else Alarm(**{k: float(v) if k in ("start_s", "at_s", "llr", "threshold")
                                                      else int(v) for k, v in alarm.items()}))
        except (KeyError, TypeError, ValueError):
            return
        if 0 <= state.errors <= state.requests and math.isfinite(state.at_s) and state.at_s >= 0:
            self.state = self._before = state
            self._pending = (0, 0, 0.0)


def _pct(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x * 100:.3g} %"


def _invalid(state: WatchState) -> str:
    if not isinstance(state, WatchState):
        return f"not a window state: {type(state).__name__}"
    for name in ("at_s", "llr"):
        value = getattr(state, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or (name == "at_s" and value < 0):
            return f"{name} is {value!r}"
    if state.requests < 0 or state.errors < 0 or state.errors > state.requests:
        return f"{state.errors} errors of {state.requests} requests"
    if abs(state.llr - state.plan.params.llr(state.requests, state.errors)) > 1e-6 * max(1.0, abs(state.llr)):
        return f"LLR {state.llr!r} does not match {state.errors} errors of {state.requests} requests"
    if state.last_traffic_s is not None and not (0 <= state.last_traffic_s <= state.at_s):
        return f"last traffic at {state.last_traffic_s!r}s outside the window [0, {state.at_s:g}]s"
    if state.requests and state.last_traffic_s is None:
        return f"{state.requests} requests but no time of traffic"
    return ""


@criterion(needs="requests inside the window, the last of them within max_gap_s, and the window's counts "
                 "accepting 'healthy' (Wald's lower bound) with no alarm of the window-wide CUSUM")
def error_rate_over_window(
    state: WatchState,
    *,
    criterion: str = "error rate",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The error-rate trigger's verdict for the window so far, judged afresh on every poll."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid error-rate window state: {problem}",
                             evidence=tuple(evidence), **kw)
    p, plan = state.plan.params, state.plan
    details = state.to_dict()
    ev = (*evidence, Evidence("window test", f"CUSUM p0={p.p0:g} p1={p.p1:g} alpha={p.alpha:g} over "
                                            f"{plan.horizon_s:g}s", round(state.at_s, 3), state.requests, details))
    kw["evidence"] = ev
    window = (f"{state.errors} errors in {state.requests} requests over {state.at_s:g}s of the window, "
              f"{state.polls} polls")
    if state.alarm is not None:
        a = state.alarm
        return Verdict.failed(
            criterion, a.error_rate, p.limit,
            f"error rate {_pct(a.error_rate)} ({a.errors} errors in {a.requests} requests from "
            f"{a.start_s:g}s to {a.at_s:g}s) is above the limit {_pct(p.limit)}: rise statistic "
            f"{a.llr:.3f} reached its threshold {a.threshold:.3f} (false-rollback bound {p.alpha:g} over the "
            f"{plan.horizon_s:g}s window); window: {window}", **kw)
    if state.requests == 0:
        if state.at_s > plan.max_gap_s:
            why = (f"no requests since the window opened ({state.at_s:g}s ago, longer than max_gap_s "
                   f"{plan.max_gap_s:g}s): nothing measured to judge")
        else:
            why = f"no requests yet in the window ({state.at_s:g}s): nothing to decide on"
        return Verdict.inconclusive(criterion, why, threshold=p.limit, **kw)
    assert state.last_traffic_s is not None
    quiet = state.at_s - state.last_traffic_s
    if quiet > plan.max_gap_s:
        return Verdict.inconclusive(
            criterion, f"no requests since {state.last_traffic_s:g}s of the window ({quiet:g}s without traffic, "
                       f"longer than max_gap_s {plan.max_gap_s:g}s): the present is not measured; {window}",
            observed=state.error_rate, threshold=p.limit, **kw)
    rate = state.error_rate
    assert rate is not None
    accepted = state.llr <= p.lower and rate <= p.limit
    truncated = p.max_requests is not None and state.requests >= p.max_requests and rate <= p.limit
    if accepted or truncated:
        how = (f"window LLR {state.llr:.3f} at or below Wald's acceptance {p.lower:.3f}" if accepted
               else f"truncated at max_requests {p.max_requests}")
        return Verdict.passed(
            criterion, rate, p.limit,
            f"error rate {_pct(rate)} ({window}) within the limit {_pct(p.limit)}: {how}; no rise detected "
            f"(false-rollback bound {p.alpha:g} over the {plan.horizon_s:g}s window)", **kw)
    return Verdict.inconclusive(
        criterion, f"error rate {_pct(rate)} ({window}) vs limit {_pct(p.limit)}: not enough evidence yet; "
                   f"window LLR {state.llr:.3f}, healthy accepted at {p.lower:.3f}",
        observed=rate, threshold=p.limit, **kw)
