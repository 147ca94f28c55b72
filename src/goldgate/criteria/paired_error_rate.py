"""Error rate above the limit -> rollback, judged against the stable version serving beside it.

Why paired. The window-wide test of :mod:`goldgate.criteria.watch_error_rate` holds its
bound only when errors arrive independently at one fixed rate. Real errors cluster: a
flaky dependency for a minute, a retry storm, a broker reconnect. Such a burst hits every
version that serves at the same time, so where a stable version serves beside the release
(a canary's stable pods) the question "is the release worse?" is asked of the *share* of
each poll's errors that fall on the release, which a shared burst does not move.

The test (a CUSUM over polls with the window's time-spent budget)
-----------------------------------------------------------------
Poll ``j`` brings ``n_r`` release requests with ``k_r`` errors and ``n_s`` stable requests
with ``k_s`` errors; ``K = k_r + k_s``. If both tracks ran at the same error probability
``p_j`` during the poll (however ``p_j`` wanders from poll to poll: the shared burst),
then given ``K`` the errors are a uniform random ``K``-subset of the poll's ``n_r + n_s``
requests, so ``k_r`` is hypergeometric with mean ``K * q0``, ``q0 = n_r / (n_r + n_s)``.
"Breached" is the release erring ``rho = p1 / p0`` times as often as the stable (the
environment's breached over healthy rate, 4 at the guide's numbers), i.e. a share
``q1 = rho * n_r / (rho * n_r + n_s)``. Each poll adds the binomial log-likelihood ratio::

    l_j = k_r * ln(q1 / q0) + k_s * ln((1 - q1) / (1 - q0))

(0 for a poll where either track had no request or no track had an error) and the
window's rise statistic is the CUSUM of :mod:`goldgate.criteria.rise_cusum` with the
thresholds ``h_i = ln(1 / (alpha * w_i))`` of :class:`WatchPlan` - the same budget split
as the lone test, so the bound is again for the whole window whatever the poll interval.

Why the bound holds. ``exp(l_j)`` is ``exp(c * k_r)`` times a constant, convex in
``k_r``; for sampling without replacement (hypergeometric) the mean of a convex function is
at most that under sampling with replacement (Hoeffding, 1963), where it is exactly 1:
``E[exp(l_j) | K, n] <= 1``. If the release errs *less* often than the stable
(``p_r <= p_s``, odds ratio at most 1), ``k_r`` given ``K`` is Fisher's noncentral
hypergeometric with odds ratio <= 1, stochastically smaller than the central one, and
``exp(l_j)`` rises with ``k_r``: still at most 1. So under "the release is no worse than
the stable in every poll" the product is a nonnegative supermartingale *whatever the
shared burst pattern* (the error probabilities, the traffic, the poll times), and
Ville's inequality for the budget-weighted sum over starting points
(:mod:`goldgate.criteria.rise_cusum`) gives::

    P(false rollback in the window) <= alpha * W(t_last) < alpha

It assumes what the pairing is for: within a poll both tracks meet the same burst in
proportion to their traffic (the router splits each request independently of the
errors), so a poll interval far longer than the traffic split is steady would weaken it.

The guide's absolute limit. "Error rate > 1 %" stays the rule; the paired test only
says whose errors they are. A FAIL needs (1) the paired alarm and (2) the release's own
error rate over the alarming stretch above ``limit`` and above the stable's over the same
stretch: a breach of the limit that is the release's own. Both only remove alarms, so the
bound above holds for the FAIL. A release at 3 % beside a stable at 3 % is not rolled back.

PASS, judged afresh every poll: no alarm, release requests within the last ``max_gap_s``,
and either (a) the release's own window accepted "healthy" by Wald's lower bound (or, when
the environment truncates the test, ``max_requests`` reached) with its rate at or below the
limit (a window with hardly any errors: the paired test has nothing to weigh), or (b) the paired window accepted "no worse than the stable" (paired LLR at or
below Wald's ``ln(beta / (1 - alpha))``, which a release erring ``rho`` times the stable's
rate reaches with probability at most ``beta``) with the release's excess over the stable
(its window rate minus the stable's) within ``limit - p0``, the room the guide's limit
leaves above a healthy service. Fewer polls with stable traffic than ``max_gap_s`` allows
make (b) INCONCLUSIVE, never a PASS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.rise_cusum import RiseCusum, Stretch
from goldgate.criteria.sprt import SprtParams
from goldgate.criteria.watch_error_rate import WatchPlan
from goldgate.verdict import Evidence, Verdict

__all__ = ["PairedErrorRate", "PairedState", "paired_error_rate", "paired_llr"]


def paired_llr(params: SprtParams, requests: int, errors: int, stable_requests: int, stable_errors: int) -> float:
    """One poll's evidence that the release errs ``p1/p0`` times as often as the stable."""
    if requests <= 0 or stable_requests <= 0 or errors + stable_errors == 0:
        return 0.0
    rho = params.p1 / params.p0
    q0 = requests / (requests + stable_requests)
    q1 = rho * requests / (rho * requests + stable_requests)
    return errors * math.log(q1 / q0) + stable_errors * math.log((1 - q1) / (1 - q0))


@dataclass(frozen=True)
class PairedState:
    """Where the paired test stands; times are seconds since the window opened.

    ``cusum.counts`` are (release requests, release errors, stable requests, stable errors).
    """

    plan: WatchPlan
    polls: int = 0
    paired_polls: int = 0
    last_traffic_s: float | None = None
    last_stable_s: float | None = None
    cusum: RiseCusum = field(default_factory=lambda: RiseCusum(counts=(0, 0, 0, 0)))
    alarm: Stretch | None = None

    @property
    def at_s(self) -> float:
        return self.cusum.at_s

    @property
    def requests(self) -> int:
        return self.cusum.counts[0]

    @property
    def errors(self) -> int:
        return self.cusum.counts[1]

    @property
    def stable_requests(self) -> int:
        return self.cusum.counts[2]

    @property
    def stable_errors(self) -> int:
        return self.cusum.counts[3]

    def to_dict(self) -> dict[str, Any]:
        p = self.plan.params
        rise = self.cusum.rise
        return {"test": "paired with the stable", "window_s": round(self.at_s, 3), "polls": self.polls,
                "paired_polls": self.paired_polls, "requests": self.requests, "errors": self.errors,
                "stable_requests": self.stable_requests, "stable_errors": self.stable_errors,
                "error_rate": _rate(self.errors, self.requests),
                "stable_error_rate": _rate(self.stable_errors, self.stable_requests), "limit": p.limit,
                "paired_llr": round(self.cusum.llr, 4), "accept_at": round(p.lower, 4),
                "rise_statistic": None if rise is None else round(rise.llr, 4),
                "rise_threshold": None if rise is None else round(rise.threshold, 4),
                "last_traffic_s": self.last_traffic_s, "last_stable_s": self.last_stable_s,
                "max_gap_s": self.plan.max_gap_s, "horizon_s": self.plan.horizon_s,
                "ratio_breached": p.p1 / p.p0, "alpha": p.alpha, "beta": p.beta}


def _rate(errors: int, requests: int) -> float | None:
    return errors / requests if requests else None


class PairedErrorRate:
    """Feeds one window's polls of both tracks into the paired test."""

    def __init__(self, plan: WatchPlan) -> None:
        self.plan = plan
        self.state = PairedState(plan)

    def observe(self, requests: int, errors: int, stable_requests: int, stable_errors: int,
                duration_s: float) -> PairedState:
        for n, k in ((requests, errors), (stable_requests, stable_errors)):
            if n < 0 or k < 0 or k > n:
                raise ValueError(f"need 0 <= errors <= requests, got {k} errors of {n}")
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be a finite non-negative number, got {duration_s!r}")
        s = self.state
        if s.alarm is not None:  # a breach is final
            self.state = replace(s, polls=s.polls + 1)
            return self.state
        p = self.plan.params
        log_e = paired_llr(p, requests, errors, stable_requests, stable_errors)
        cusum = s.cusum.step(self.plan, log_e, (requests, errors, stable_requests, stable_errors), duration_s)
        alarm = None
        rise = cusum.rise
        if cusum.crossed and rise is not None:
            n, k, ns, ks = rise.counts
            if n and k / n > p.limit and (not ns or k / n > ks / ns):
                alarm = rise
        end = cusum.at_s
        self.state = replace(
            s, polls=s.polls + 1, paired_polls=s.paired_polls + (1 if requests and stable_requests else 0),
            last_traffic_s=end if requests else s.last_traffic_s,
            last_stable_s=end if stable_requests else s.last_stable_s, cusum=cusum, alarm=alarm)
        return self.state

    # ------------------------------------------------------------------ resume
    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data, so a judge that restarts continues the same window."""
        s = self.state
        return {"test": "paired", "requests": s.requests, "errors": s.errors, "polls": s.polls,
                "paired_polls": s.paired_polls, "stable_requests": s.stable_requests,
                "stable_errors": s.stable_errors,
                "last_traffic_s": s.last_traffic_s, "last_stable_s": s.last_stable_s,
                "cusum": s.cusum.to_dict(),
                "alarm": None if s.alarm is None else {**vars(s.alarm), "counts": list(s.alarm.counts)}}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Continue from :meth:`snapshot`; anything unreadable starts the window afresh."""
        try:
            if data.get("test") != "paired":
                return
            cusum = RiseCusum.from_dict(data["cusum"])
            alarm = data.get("alarm")
            last, last_stable = data.get("last_traffic_s"), data.get("last_stable_s")
            state = replace(self.state, polls=int(data["polls"]), paired_polls=int(data["paired_polls"]),
                            cusum=cusum, last_traffic_s=None if last is None else float(last),
                            last_stable_s=None if last_stable is None else float(last_stable),
                            alarm=None if not alarm else Stretch(
                                float(alarm["start_s"]), float(alarm["at_s"]),
                                tuple(int(c) for c in alarm["counts"]), float(alarm["llr"]),
                                float(alarm["threshold"])))
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        counts = state.cusum.counts
        if len(counts) == 4 and 0 <= counts[1] <= counts[0] and 0 <= counts[3] <= counts[2]:
            self.state = state


def _pct(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x * 100:.3g} %"


def _invalid(state: PairedState) -> str:
    if not isinstance(state, PairedState):
        return f"not a paired window state: {type(state).__name__}"
    c = state.cusum
    if len(c.counts) != 4:
        return f"counts {c.counts!r} are not (requests, errors, stable requests, stable errors)"
    for name, value in (("at_s", c.at_s), ("llr", c.llr)):
        if not isinstance(value, int | float) or not math.isfinite(value) or (name == "at_s" and value < 0):
            return f"{name} is {value!r}"
    for n, k in ((state.requests, state.errors), (state.stable_requests, state.stable_errors)):
        if n < 0 or k < 0 or k > n:
            return f"{k} errors of {n} requests"
    for t in (state.last_traffic_s, state.last_stable_s):
        if t is not None and not (0 <= t <= c.at_s):
            return f"last traffic at {t!r}s outside the window [0, {c.at_s:g}]s"
    if state.requests and state.last_traffic_s is None:
        return f"{state.requests} requests but no time of traffic"
    return ""


@criterion(needs="release requests within max_gap_s and either the release's own window accepting 'healthy' "
                 "(Wald) or, with stable requests in the same polls, the paired window accepting 'no worse than "
                 "the stable' with the excess over the stable within limit - p0; no paired alarm")
def paired_error_rate(
    state: PairedState,
    *,
    criterion: str = "error rate",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The error-rate trigger judged against the stable serving beside the release, afresh every poll."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid paired error-rate state: {problem}", evidence=tuple(evidence), **kw)
    p, plan = state.plan.params, state.plan
    kw["evidence"] = (*evidence, Evidence(
        "paired window test", f"release vs concurrent stable, CUSUM ratio {p.p1 / p.p0:g} alpha={p.alpha:g} over "
        f"{plan.horizon_s:g}s", round(state.at_s, 3), state.requests, state.to_dict()))
    rate, stable_rate = _rate(state.errors, state.requests), _rate(state.stable_errors, state.stable_requests)
    how = f"paired with the stable pods over {state.paired_polls} polls"
    window = (f"release {state.errors} errors in {state.requests} requests, stable {state.stable_errors} in "
              f"{state.stable_requests}, over {state.at_s:g}s ({how})")
    if state.alarm is not None:
        a = state.alarm
        n, k, ns, ks = a.counts
        return Verdict.failed(
            criterion, k / n, p.limit,
            f"error rate {_pct(k / n)} ({k} errors in {n} requests from {a.start_s:g}s to {a.at_s:g}s) is above "
            f"the limit {_pct(p.limit)} and its own: the stable pods beside it had {_pct(_rate(ks, ns))} "
            f"({ks} in {ns}) over the same polls; paired rise statistic {a.llr:.3f} reached its threshold "
            f"{a.threshold:.3f} (false-rollback bound {p.alpha:g} over the {plan.horizon_s:g}s window, whatever "
            f"bursts both versions share); window: {window}", **kw)
    if state.requests == 0 or state.last_traffic_s is None:
        return Verdict.inconclusive(criterion, f"no requests from the release yet in the window ({state.at_s:g}s): "
                                               "nothing to decide on", threshold=p.limit, **kw)
    quiet = state.at_s - state.last_traffic_s
    if quiet > plan.max_gap_s:
        return Verdict.inconclusive(
            criterion, f"no requests from the release since {state.last_traffic_s:g}s of the window ({quiet:g}s, longer "
                       f"than max_gap_s {plan.max_gap_s:g}s): the present is not measured; {window}",
            observed=rate, threshold=p.limit, **kw)
    assert rate is not None
    own_llr = p.llr(state.requests, state.errors)
    truncated = p.max_requests is not None and state.requests >= p.max_requests
    if (own_llr <= p.lower or truncated) and rate <= p.limit:
        how = (f"window LLR {own_llr:.3f} at or below Wald's acceptance {p.lower:.3f}" if own_llr <= p.lower
               else f"truncated at max_requests {p.max_requests}")
        return Verdict.passed(
            criterion, rate, p.limit,
            f"error rate {_pct(rate)} within the limit {_pct(p.limit)}: {how}; no rise against the stable "
            f"({_pct(stable_rate)}); {window}", **kw)
    stable_fresh = state.last_stable_s is not None and state.at_s - state.last_stable_s <= plan.max_gap_s
    room = p.limit - p.p0
    excess = rate - (stable_rate or 0.0)
    if stable_fresh and stable_rate is not None and state.cusum.llr <= p.lower and excess <= room:
        return Verdict.passed(
            criterion, rate, p.limit,
            f"error rate {_pct(rate)} is no worse than the stable's {_pct(stable_rate)} over the same polls "
            f"(paired LLR {state.cusum.llr:.3f} at or below {p.lower:.3f}; excess {_pct(excess)} within "
            f"{_pct(room)} = limit - healthy rate): errors both versions share are not the release's; {window}",
            **kw)
    why = ("no stable requests within max_gap_s to compare with" if not stable_fresh else
           f"paired LLR {state.cusum.llr:.3f}, 'no worse than the stable' accepted at {p.lower:.3f}; excess over the "
           f"stable {_pct(excess)} (room {_pct(room)})")
    return Verdict.inconclusive(
        criterion, f"error rate {_pct(rate)} vs limit {_pct(p.limit)} (stable {_pct(stable_rate)}): not enough "
                   f"evidence yet; {why}; {window}", observed=rate, threshold=p.limit, **kw)
