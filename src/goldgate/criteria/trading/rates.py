"""Trade rate of the canary vs the stable version, per bar and replica (guide §8.2 trades).

A release that trades three times as often as the version beside it on the same bars
(``FAULT_TRADE_MULTIPLIER``) serves every request fine; its orders give it away. The rule:
the canary's orders per unit of exposure, divided by the stable version's, stays within
``trading.trade_rate_ratio`` (default 0.5 to 2.0). Exposure is what the track had the chance
to trade on: bars decided by all its pods (a self-trading bot: orders per bar per replica)
or, where orders come from clients, the track's traffic share times the poll's duration.

The test (exact, conditional on each poll's total)
--------------------------------------------------
Poll ``j`` brings ``C_j`` canary and ``S_j`` stable orders over exposures ``E_cj`` and
``E_sj``. Given the poll's total ``T_j = C_j + S_j``, the canary's count is binomial::

    C_j | T_j ~ Binomial(T_j, pi_j(r)),     pi_j(r) = r e_j / (1 + r e_j),  e_j = E_cj / E_sj

with ``r`` the ratio of the two rates. A burst that multiplies both tracks' trading within
the poll (market open, news, a reconnect) leaves ``pi_j`` unchanged and cancels: nothing is
assumed about how the rate itself wanders. A poll where one track had no exposure is merged
into the next one. The ratio's bounds ``[lo, hi]`` are tested by two one-sided mixture
likelihood ratios, each against its bound with a fixed grid of alternatives (ratios ``hi*g``
and ``lo/g`` for ``g`` in 1.25, 1.5, 2, 3, 5, equal weights)::

    E_over  = mean_g prod_j L_j(hi*g) / L_j(hi)       E_under = mean_g prod_j L_j(lo/g) / L_j(lo)

For a true ratio at or below ``hi`` every factor of ``E_over`` is a nonnegative
supermartingale (the binomial family's likelihood ratio is monotone in ``pi``), so by
Ville's inequality ``P(E_over ever >= 2/alpha) <= alpha/2``; likewise ``E_under``.

* FAIL (rollback) when ``E_over >= 2/alpha`` and the observed ratio is above ``hi``, or
  ``E_under >= 2/alpha`` and it is below ``lo``: a canary whose ratio is within the bounds is
  rolled back with probability at most ``alpha`` over the phase, however often polled.
* PASS when at least ``min_orders`` orders were seen, the observed ratio is within the bounds
  and both mirrored tests reject their "outside" nulls: ``mean_g prod L(hi/g)/L(hi) >= 2/beta``
  and ``mean_g prod L(lo*g)/L(lo) >= 2/beta``. A canary whose ratio is outside the bounds is
  passed with probability at most ``beta/2``.
* INCONCLUSIVE otherwise (no orders, one track silent, too few orders).

Measured (``bench/trading_canary.py``: one canary pod against three stable pods, polls every
5 s, 2000 phases of 30 minutes per cell, 1 to 60 bars a minute, orders on half the bars, with
and without bursts that multiply both tracks' trading by a Gamma factor of squared CV 4 each
poll). A healthy canary (ratio 1) is rolled back in at most 0.05 % of phases, bursts or not;
at exactly the upper bound 2x, the null's worst case, in at most 0.45 % (alpha 1 %). A canary
trading 3x (the ``-overtrade`` build) is rolled back after 110 bars on average (120 with
bursts), 4x after 34 (44): 0.75 to 1.0 of the bars a fixed-sample exact binomial test with the
same error rates needs. A canary trading exactly 2x is on the default bound, not beyond it.

Limits of the bound. The binomial treats orders as independent given the poll's total.
Orders placed in clumps (several per signal) on only one track overdisperse the split and
weaken the bound near the edges of the ratio interval; a healthy canary at ratio 1 is far
from both edges. ``bench/trading_canary.py`` measures false rollbacks with shared bursts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.sequential import (
    binomial_share_loglik,
    finite_counts,
    finite_nonnegative,
    log_mean_exp,
)
from goldgate.verdict import Evidence, Verdict

__all__ = ["GRID", "TRADE_RATE", "TradeRate", "TradeRatePlan", "TradeRateState", "trade_rate"]

TRADE_RATE = "trade rate vs the stable version (§8.2 trades)"
#: the mixture's alternatives, as factors beyond the bound
GRID = (1.25, 1.5, 2.0, 3.0, 5.0)


@dataclass(frozen=True)
class TradeRatePlan:
    """The test's numbers: ``bounds`` from ``trading.trade_rate_ratio``."""

    bounds: tuple[float, float] = (0.5, 2.0)
    alpha: float = 0.01
    beta: float = 0.05
    min_orders: int = 20
    grid: tuple[float, ...] = GRID

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        if not (finite_nonnegative(lo, hi) and 0 < lo < hi):
            raise ValueError(f"trade_rate_ratio must be two numbers 0 < lo < hi, got {self.bounds!r}")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not (isinstance(value, float | int) and 0 < value < 0.5):
                raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
        if not (isinstance(self.min_orders, int) and self.min_orders >= 1):
            raise ValueError(f"min_orders must be a positive integer, got {self.min_orders!r}")
        if not self.grid or not all(isinstance(g, int | float) and math.isfinite(g) and g > 1 for g in self.grid):
            raise ValueError(f"grid factors must be numbers above 1, got {self.grid!r}")

    def ratios(self) -> tuple[float, ...]:
        """Every ratio whose likelihood the state tracks: the bounds and their alternatives."""
        lo, hi = self.bounds
        out = {lo, hi}
        for g in self.grid:
            out |= {hi * g, lo / g, hi / g, lo * g}
        return tuple(sorted(out))


@dataclass(frozen=True)
class TradeRateState:
    """Where the phase's trade-rate test stands (plain data, judged by :func:`trade_rate`)."""

    plan: TradeRatePlan
    polls: int = 0
    canary_orders: int = 0
    stable_orders: int = 0
    canary_exposure: float = 0.0
    stable_exposure: float = 0.0
    loglik: tuple[float, ...] = ()
    pending: tuple[int, float, int, float] = (0, 0.0, 0, 0.0)
    alarm: str = ""
    #: when the alarm fired: (ratio, log e-value, canary orders, stable orders, poll) - a breach is final
    alarm_at: tuple[float, float, int, int, int] | None = None

    def __post_init__(self) -> None:
        if not self.loglik:
            object.__setattr__(self, "loglik", tuple(0.0 for _ in self.plan.ratios()))

    @property
    def ratio(self) -> float | None:
        """(canary orders per exposure) / (stable orders per exposure) of the judged polls."""
        if self.canary_exposure <= 0 or self.stable_exposure <= 0:
            return None
        c, s = self.canary_orders / self.canary_exposure, self.stable_orders / self.stable_exposure
        if s == 0:
            return math.inf if c > 0 else None
        return c / s

    def log_e(self, bound: float, alternatives: Iterable[float]) -> float:
        """ln of the equal-weight mixture e-value against the ratio ``bound``."""
        ll = dict(zip(self.plan.ratios(), self.loglik, strict=True))
        return log_mean_exp([ll[r] - ll[bound] for r in alternatives])

    def e_values(self) -> dict[str, float]:
        """ln e-values: ``over``/``under`` reject the ratio being within the bound (FAIL side),
        ``not_over``/``not_under`` reject it being beyond (PASS side)."""
        lo, hi = self.plan.bounds
        g = self.plan.grid
        return {"over": self.log_e(hi, [hi * x for x in g]), "under": self.log_e(lo, [lo / x for x in g]),
                "not_over": self.log_e(hi, [hi / x for x in g]), "not_under": self.log_e(lo, [lo * x for x in g])}

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        e = self.e_values()
        return {
            "polls": self.polls, "canary_orders": self.canary_orders, "stable_orders": self.stable_orders,
            "canary_exposure": self.canary_exposure, "stable_exposure": self.stable_exposure,
            "canary_rate": _per(self.canary_orders, self.canary_exposure),
            "stable_rate": _per(self.stable_orders, self.stable_exposure),
            "ratio": self.ratio, "bounds": list(p.bounds), "alpha": p.alpha, "beta": p.beta,
            "log_e": {k: round(v, 4) for k, v in e.items()},
            "fail_at_log_e": round(math.log(2 / p.alpha), 4), "pass_at_log_e": round(math.log(2 / p.beta), 4),
            "min_orders": p.min_orders, "pending": list(self.pending),
        }


def _per(n: int, exposure: float) -> float | None:
    return n / exposure if exposure > 0 else None


class TradeRate:
    """Feeds one phase's polls into the test; every :meth:`observe` returns the new state.

    ``observe(canary_orders, canary_exposure, stable_orders, stable_exposure)`` adds one
    poll's new orders and exposures (bars decided by all the track's pods, or traffic share
    times seconds). Bad numbers raise ``ValueError`` naming them.
    """

    def __init__(self, plan: TradeRatePlan) -> None:
        self.plan = plan
        self.state = TradeRateState(plan)
        self._ratios = plan.ratios()

    def observe(self, canary_orders: int, canary_exposure: float, stable_orders: int,
                stable_exposure: float) -> TradeRateState:
        if not finite_counts(canary_orders, stable_orders):
            raise ValueError(f"order counts must be non-negative integers, got {canary_orders!r} canary, "
                             f"{stable_orders!r} stable")
        if not finite_nonnegative(canary_exposure, stable_exposure):
            raise ValueError(f"exposures must be finite non-negative numbers, got {canary_exposure!r} canary, "
                             f"{stable_exposure!r} stable")
        s = self.state
        c, ec, st, es = s.pending
        c, ec, st, es = c + canary_orders, ec + canary_exposure, st + stable_orders, es + stable_exposure
        if ec <= 0 or es <= 0:  # one track had nothing to trade on yet: merge into the next poll
            self.state = replace(s, pending=(c, ec, st, es))
            return self.state
        e = ec / es
        ll = tuple(v + binomial_share_loglik(c, st, e, r) for v, r in zip(s.loglik, self._ratios, strict=True))
        new = replace(s, polls=s.polls + 1, canary_orders=s.canary_orders + c, stable_orders=s.stable_orders + st,
                      canary_exposure=s.canary_exposure + ec, stable_exposure=s.stable_exposure + es,
                      loglik=ll, pending=(0, 0.0, 0, 0.0))
        if not s.alarm:
            side = _alarm(new)
            if side:
                ratio = new.ratio
                new = replace(new, alarm=side, alarm_at=(math.inf if ratio is None else ratio,
                                                         new.e_values()[side], new.canary_orders,
                                                         new.stable_orders, new.polls))
        self.state = new
        return new


def _alarm(s: TradeRateState) -> str:
    """'over' / 'under' once the phase's test has crossed (final), else ''."""
    ratio = s.ratio
    if ratio is None:
        return ""
    lo, hi = s.plan.bounds
    e = s.e_values()
    fail = math.log(2 / s.plan.alpha)
    if ratio > hi and e["over"] >= fail:
        return "over"
    if ratio < lo and e["under"] >= fail:
        return "under"
    return ""


def _invalid(state: object) -> str:
    if not isinstance(state, TradeRateState):
        return f"not a trade-rate state: {type(state).__name__}"
    if not finite_counts(state.polls, state.canary_orders, state.stable_orders):
        return f"order counts must be non-negative integers, got {state.canary_orders!r}, {state.stable_orders!r}"
    if not finite_nonnegative(state.canary_exposure, state.stable_exposure):
        return f"exposures must be finite non-negative numbers, got {state.canary_exposure!r}, " \
               f"{state.stable_exposure!r}"
    if len(state.loglik) != len(state.plan.ratios()) or any(math.isnan(v) for v in state.loglik):
        return "the likelihoods do not match the plan"
    if state.polls and (state.canary_exposure <= 0 or state.stable_exposure <= 0):
        return f"{state.polls} polls judged without exposure on both tracks"
    return ""


def _rate(n: int, x: float) -> str:
    return f"{n} orders over {x:g} ({n / x:.4g} per unit)" if x > 0 else f"{n} orders, no exposure"


@criterion(needs="at least min_orders orders of both tracks together over polls where both had exposure (bars "
                 "decided or traffic), with both mirrored tests placing the ratio inside the bounds")
def trade_rate(
    state: TradeRateState,
    *,
    criterion: str = TRADE_RATE,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The trade-rate verdict for the phase so far (see the module docstring for the bounds)."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": "x"}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid trade-rate state: {problem}", evidence=tuple(evidence), **kw)
    p = state.plan
    lo, hi = p.bounds
    total = state.canary_orders + state.stable_orders
    kw["evidence"] = (*evidence, Evidence(
        "orders per exposure", f"conditional binomial per poll, ratio bounds [{lo:g}, {hi:g}], alpha={p.alpha:g}",
        None, total, state.to_dict()))
    seen = (f"canary {_rate(state.canary_orders, state.canary_exposure)}, stable "
            f"{_rate(state.stable_orders, state.stable_exposure)}, {state.polls} polls")
    ratio = state.ratio
    if state.alarm:
        at, e, c_at, s_at, poll = state.alarm_at or (ratio if ratio is not None else math.inf,
                                                      state.e_values()[state.alarm], state.canary_orders,
                                                      state.stable_orders, state.polls)
        side, bound = ("above the maximum", hi) if state.alarm == "over" else ("below the minimum", lo)
        shown = "inf" if math.isinf(at) else f"{at:.3g}"
        return Verdict.failed(
            criterion, at, bound,
            f"trade rate ratio {shown}x is {side} {bound:g}x (at poll {poll}: canary {c_at} orders, stable {s_at}; "
            f"now {seen}): the test's log e-value {e:.2f} reached {math.log(2 / p.alpha):.2f} (false-rollback "
            f"bound {p.alpha:g} over the phase)", **kw)
    if state.polls == 0 or total == 0:
        if state.polls == 0:
            c, ec, s, es = state.pending
            why = ("no exposure yet on both tracks (the market is closed or a track decided no bar): "
                   f"canary {c} orders over {ec:g}, stable {s} over {es:g}")
        else:
            why = f"no orders on either track yet ({seen})"
        return Verdict.inconclusive(criterion, why, threshold=[lo, hi], **kw)
    if ratio is None or math.isinf(ratio):
        return Verdict.inconclusive(criterion, f"no stable orders to compare with yet ({seen})",
                                    observed=ratio, threshold=hi, **kw)
    e = state.e_values()
    need = math.log(2 / p.beta)
    inside = lo <= ratio <= hi
    if inside and total >= p.min_orders and e["not_over"] >= need and e["not_under"] >= need:
        return Verdict.passed(
            criterion, ratio, [lo, hi],
            f"trade rate ratio {ratio:.3g}x within [{lo:g}, {hi:g}] ({seen}): both bounds excluded at "
            f"beta {p.beta:g}", **kw)
    more = "" if total >= p.min_orders else f"; need at least {p.min_orders} orders"
    return Verdict.inconclusive(
        criterion, f"trade rate ratio {ratio:.3g}x vs bounds [{lo:g}, {hi:g}]: not enough orders yet to decide "
                   f"({seen}; log e-values {e['not_over']:.2f} and {e['not_under']:.2f}, PASS at {need:.2f}{more})",
        observed=ratio, threshold=[lo, hi], **kw)
