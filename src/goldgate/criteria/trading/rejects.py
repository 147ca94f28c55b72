"""Order rejects of the canary vs the stable version (guide §8.2 trades).

The rule: the canary's reject rate (rejected orders / orders placed) is not above the
stable version's by more than ``trading.reject_margin`` (default 0.02). Broker and
venue rejects come in bursts (a session opens, a reconnect) that hit both versions at the
same moments, so the canary is compared with the stable version *in the same poll*.

FAIL: a bet on the paired per-poll difference (anytime-valid, exact)
---------------------------------------------------------------------
Poll ``j`` gives both tracks' reject shares ``c_j = Rc_j / Oc_j`` and ``s_j = Rs_j / Os_j``
(a poll where a track placed no order is merged into the next). Under the null "in every
poll the canary's reject probability is at most the stable version's plus the margin",
``x_j = c_j - s_j - margin`` has conditional mean at most 0 and lies in ``[-1-m, 1-m]``, so
for every ``lam`` in ``[0, 1/(1+m))`` the wealth ``prod_j (1 + lam x_j)`` is a nonnegative
supermartingale; so is its average over the grid ``lam = f/(1+m)``, ``f`` in 0.05, 0.1, 0.2,
0.4, 0.8. By Ville's inequality it ever reaches ``1/alpha`` with probability at most
``alpha``. FAIL (rollback) needs that and the phase's pooled excess above the margin. No
assumption is made on how rejects cluster in time, as long as a cluster hits both tracks in
the same poll; the price is speed: the bet grows by at most about the excess per poll, so a
canary rejecting 10 % against 1 % needs on the order of 100 polls.

PASS: confidence sequences per order
------------------------------------
PASS needs at least ``min_orders`` canary orders, no alarm, and the canary's upper
confidence bound minus the stable version's lower bound at or below the margin, each a
Beta-binomial confidence sequence (:mod:`~goldgate.criteria.trading.sequential`) at level
``beta/2``: a canary whose reject rate exceeds stable's by more than the margin passes with
probability at most ``beta`` when each track's orders are rejected independently at a
constant rate (bursts make this side approximate; they cannot cause a rollback). With no
rejects at all 276 canary orders are needed at margin 0.02 (93 at 0.05); a fixed-sample
test would need about 150 (50), and no test with these error rates needs fewer than
``ln(1/beta) / margin``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.sequential import (
    betting_log_wealth,
    finite_counts,
    log_mean_exp,
    rate_bounds,
)
from goldgate.verdict import Evidence, Verdict

__all__ = ["BETS", "REJECTS", "OrderRejects", "RejectPlan", "RejectState", "order_rejects"]

REJECTS = "order rejects vs the stable version (§8.2 trades)"
#: bet sizes as fractions of the largest safe bet 1/(1+margin)
BETS = (0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass(frozen=True)
class RejectPlan:
    margin: float = 0.02
    alpha: float = 0.01
    beta: float = 0.05
    min_orders: int = 50
    prior: tuple[float, float] = (1.0, 50.0)
    bets: tuple[float, ...] = BETS

    def __post_init__(self) -> None:
        if not (isinstance(self.margin, int | float) and math.isfinite(self.margin) and 0 <= self.margin < 1):
            raise ValueError(f"reject_margin must be in [0, 1), got {self.margin!r}")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not (isinstance(value, float | int) and 0 < value < 0.5):
                raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
        if not (isinstance(self.min_orders, int) and self.min_orders >= 1):
            raise ValueError(f"min_orders must be a positive integer, got {self.min_orders!r}")
        if not self.bets or not all(0 < f < 1 for f in self.bets):
            raise ValueError(f"bets must be fractions in (0, 1), got {self.bets!r}")

    @property
    def lambdas(self) -> tuple[float, ...]:
        return tuple(f / (1 + self.margin) for f in self.bets)


@dataclass(frozen=True)
class RejectState:
    plan: RejectPlan
    polls: int = 0
    canary_rejects: int = 0
    canary_orders: int = 0
    stable_rejects: int = 0
    stable_orders: int = 0
    log_wealth: tuple[float, ...] = ()
    pending: tuple[int, int, int, int] = (0, 0, 0, 0)
    alarm: bool = False
    #: when the alarm fired: (excess, log e-value, poll) - a breach is final
    alarm_at: tuple[float, float, int] | None = None

    def __post_init__(self) -> None:
        if not self.log_wealth:
            object.__setattr__(self, "log_wealth", tuple(0.0 for _ in self.plan.bets))

    @property
    def canary_rate(self) -> float | None:
        return self.canary_rejects / self.canary_orders if self.canary_orders else None

    @property
    def stable_rate(self) -> float | None:
        return self.stable_rejects / self.stable_orders if self.stable_orders else None

    @property
    def excess(self) -> float | None:
        c, s = self.canary_rate, self.stable_rate
        return None if c is None or s is None else c - s

    @property
    def log_e(self) -> float:
        return log_mean_exp(self.log_wealth)

    def bounds(self) -> tuple[float, float]:
        """(canary's upper bound, stable's lower bound) at level beta/2 each."""
        a, b = self.plan.prior
        level = self.plan.beta / 2
        _, c_hi = rate_bounds(self.canary_orders, self.canary_rejects, level, a, b)
        s_lo, _ = rate_bounds(self.stable_orders, self.stable_rejects, level, a, b)
        return c_hi, s_lo

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        c_hi, s_lo = self.bounds()
        return {"polls": self.polls, "canary_rejects": self.canary_rejects, "canary_orders": self.canary_orders,
                "stable_rejects": self.stable_rejects, "stable_orders": self.stable_orders,
                "canary_rate": self.canary_rate, "stable_rate": self.stable_rate, "excess": self.excess,
                "margin": p.margin, "log_e": round(self.log_e, 4), "fail_at_log_e": round(-math.log(p.alpha), 4),
                "canary_upper_bound": c_hi, "stable_lower_bound": s_lo, "alpha": p.alpha, "beta": p.beta,
                "min_orders": p.min_orders, "pending": list(self.pending)}


class OrderRejects:
    """Feeds one phase's polls; ``observe(canary_rejects, canary_orders, stable_rejects,
    stable_orders)`` adds one poll's new counts and returns the new state."""

    def __init__(self, plan: RejectPlan) -> None:
        self.plan = plan
        self.state = RejectState(plan)

    def observe(self, canary_rejects: int, canary_orders: int, stable_rejects: int,
                stable_orders: int) -> RejectState:
        counts = (canary_rejects, canary_orders, stable_rejects, stable_orders)
        if not finite_counts(*counts) or canary_rejects > canary_orders or stable_rejects > stable_orders:
            raise ValueError(f"need 0 <= rejects <= orders, got canary {canary_rejects!r} of {canary_orders!r}, "
                             f"stable {stable_rejects!r} of {stable_orders!r}")
        s = self.state
        rc, oc, rs, os_ = (a + b for a, b in zip(s.pending, counts, strict=True))
        if oc == 0 or os_ == 0:
            self.state = replace(s, pending=(rc, oc, rs, os_))
            return self.state
        x = rc / oc - rs / os_ - self.plan.margin
        new = replace(s, polls=s.polls + 1, canary_rejects=s.canary_rejects + rc, canary_orders=s.canary_orders + oc,
                      stable_rejects=s.stable_rejects + rs, stable_orders=s.stable_orders + os_,
                      log_wealth=betting_log_wealth(s.log_wealth, self.plan.lambdas, x), pending=(0, 0, 0, 0))
        if not s.alarm:
            excess = new.excess
            if excess is not None and excess > self.plan.margin and new.log_e >= -math.log(self.plan.alpha):
                new = replace(new, alarm=True, alarm_at=(excess, new.log_e, new.polls))
        self.state = new
        return new


def _invalid(state: object) -> str:
    if not isinstance(state, RejectState):
        return f"not a reject state: {type(state).__name__}"
    counts = (state.polls, state.canary_rejects, state.canary_orders, state.stable_rejects, state.stable_orders)
    if not finite_counts(*counts):
        return f"counts must be non-negative integers, got {counts!r}"
    if state.canary_rejects > state.canary_orders or state.stable_rejects > state.stable_orders:
        return (f"more rejects than orders: canary {state.canary_rejects} of {state.canary_orders}, "
                f"stable {state.stable_rejects} of {state.stable_orders}")
    if len(state.log_wealth) != len(state.plan.bets) or any(math.isnan(w) for w in state.log_wealth):
        return "the bets do not match the plan"
    return ""


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.3g} %"


@criterion(needs="at least min_orders canary orders and stable orders in the same polls, with the canary's upper "
                 "confidence bound minus the stable version's lower bound within the margin")
def order_rejects(
    state: RejectState,
    *,
    criterion: str = REJECTS,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The reject-rate verdict for the phase so far (see the module docstring for the bounds)."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid reject state: {problem}", evidence=tuple(evidence), **kw)
    p = state.plan
    kw["evidence"] = (*evidence, Evidence(
        "order rejects", f"paired by poll, margin {p.margin:g}, alpha={p.alpha:g}", None,
        state.canary_orders + state.stable_orders, state.to_dict()))
    seen = (f"canary {state.canary_rejects} rejects of {state.canary_orders} orders ({_pct(state.canary_rate)}), "
            f"stable {state.stable_rejects} of {state.stable_orders} ({_pct(state.stable_rate)}), {state.polls} polls")
    excess = state.excess
    if state.alarm:
        at, e, poll = state.alarm_at or (excess if excess is not None else math.nan, state.log_e, state.polls)
        return Verdict.failed(
            criterion, at, p.margin,
            f"canary reject rate was {_pct(at)} above the stable version's at poll {poll}, more than the margin "
            f"{_pct(p.margin)} (now {seen}): the paired test's log e-value {e:.2f} reached "
            f"{-math.log(p.alpha):.2f} (false-rollback bound {p.alpha:g} over the phase)", **kw)
    if state.polls == 0 or excess is None:
        _, oc, _, os_ = state.pending
        why = ("no orders on both tracks in the same polls yet (the market is closed or a track is not trading): "
               f"canary {oc} orders, stable {os_}")
        return Verdict.inconclusive(criterion, why, threshold=p.margin, **kw)
    c_hi, s_lo = state.bounds()
    if state.canary_orders >= p.min_orders and c_hi - s_lo <= p.margin:
        return Verdict.passed(
            criterion, excess, p.margin,
            f"canary reject rate {_pct(excess)} above the stable version's, within the margin {_pct(p.margin)} "
            f"({seen}): canary's upper bound {_pct(c_hi)} minus stable's lower bound {_pct(s_lo)} is "
            f"{_pct(c_hi - s_lo)} (beta {p.beta:g})", **kw)
    more = "" if state.canary_orders >= p.min_orders else f"; need at least {p.min_orders} canary orders"
    return Verdict.inconclusive(
        criterion, f"canary reject rate {_pct(excess)} above the stable version's vs margin {_pct(p.margin)}: not "
                   f"enough orders yet ({seen}; bounds differ by {_pct(c_hi - s_lo)}{more})",
        observed=excess, threshold=p.margin, **kw)
