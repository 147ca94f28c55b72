"""The anytime-valid arithmetic the trading criteria share: no verdicts here, only numbers.

A phase is polled every few seconds and each trading criterion is judged afresh on every
poll. A test that spends its error budget on every look (a fixed-sample test re-run, or
Wald's test restarted) rolls back a healthy release more often the more often it is
polled. Each rule below is instead a nonnegative (super)martingale under its null
hypothesis, started once per phase; by Ville's inequality the chance that it *ever* reaches
``1/alpha`` is at most ``alpha``, however often it is looked at, however the data are cut
into polls, and whenever the phase ends. Three such processes:

* :func:`beta_binomial_log_e` - Robbins' mixture martingale for a Bernoulli rate (a prior
  ``Beta(a, b)`` over the alternative rates, integrated in closed form). The set of rates it
  has not rejected at level ``alpha`` is an interval: an anytime-valid confidence sequence
  (:func:`rate_bounds`).
* :func:`binomial_share_loglik` - the exact conditional likelihood of the canary's share of
  events given each poll's total: anything that multiplies both tracks' rates within a poll
  (a shared burst) cancels. Mixed over a fixed grid of alternative ratios
  (:func:`log_mean_exp`), each component is a likelihood ratio against the bound, a
  supermartingale on the null side by the binomial's monotone likelihood ratio.
* :func:`betting_log_wealth` - a bet on bounded per-poll differences ``x_j`` whose mean is at
  most 0 under the null: ``prod (1 + lam * x_j)`` is a nonnegative supermartingale for every
  fixed ``lam`` in ``[0, 1/max_loss)``, and so is an average over a grid of ``lam``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = [
    "beta_binomial_log_e",
    "betting_log_wealth",
    "binomial_share_loglik",
    "log_beta",
    "log_mean_exp",
    "rate_bounds",
]


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _xlogy(x: float, y: float) -> float:
    if x == 0:
        return 0.0
    return x * math.log(y) if y > 0 else -math.inf


def beta_binomial_log_e(n: int, k: int, p: float, a: float, b: float) -> float:
    """``ln M`` of ``k`` events in ``n`` trials against the rate ``p``: the Beta(a, b) mixture
    of likelihood ratios, ``B(a+k, b+n-k) / B(a, b) / (p^k (1-p)^(n-k))``. A martingale with
    mean 1 when the events are Bernoulli(p); at least ``ln(1/alpha)`` means ``p`` is rejected."""
    if not 0 <= p <= 1:
        raise ValueError(f"a rate is in [0, 1], got {p!r}")
    denominator = _xlogy(k, p) + _xlogy(n - k, 1 - p)
    if denominator == -math.inf:
        return math.inf
    return log_beta(a + k, b + n - k) - log_beta(a, b) - denominator


def rate_bounds(n: int, k: int, level: float, a: float, b: float) -> tuple[float, float]:
    """The confidence sequence's interval for a Bernoulli rate after ``k`` events in ``n``:
    every ``p`` with ``ln M(p) < ln(1/level)``. ``ln M`` is convex in ``p`` with its minimum at
    ``k/n``, so the set is an interval, found by bisection (to 1e-9). With no trials: [0, 1]."""
    if n <= 0:
        return 0.0, 1.0
    c = -math.log(level)
    hat = k / n

    def rejected(p: float) -> bool:
        return beta_binomial_log_e(n, k, p, a, b) >= c

    def edge(inside: float, outside: float) -> float:
        for _ in range(60):
            mid = (inside + outside) / 2
            if rejected(mid):
                outside = mid
            else:
                inside = mid
        return inside

    lo = 0.0 if not rejected(0.0) else edge(hat, 0.0)
    hi = 1.0 if not rejected(1.0) else edge(hat, 1.0)
    return lo, hi


def log_mean_exp(values: Sequence[float]) -> float:
    """``ln(mean(exp(v)))``, computed without overflow: an equal-weight mixture's log e-value."""
    top = max(values)
    if top == -math.inf or top == math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))


def binomial_share_loglik(canary: int, stable: int, exposure_ratio: float, ratio: float) -> float:
    """Log-likelihood (up to a term free of ``ratio``) of ``canary`` of the poll's
    ``canary + stable`` events being the canary's, when its rate per unit of exposure is
    ``ratio`` times stable's: the canary's share is ``ratio*e / (1 + ratio*e)`` with
    ``e = canary exposure / stable exposure``."""
    odds = ratio * exposure_ratio
    share = odds / (1 + odds)
    return _xlogy(canary, share) + _xlogy(stable, 1 - share)


def betting_log_wealth(log_wealth: Sequence[float], lambdas: Sequence[float], x: float) -> tuple[float, ...]:
    """Each constant bet's log wealth after one more outcome ``x`` (``1 + lam*x`` must stay
    positive: the caller keeps ``lam`` below ``1 / max(-x)``)."""
    return tuple(w + math.log1p(lam * x) if 1 + lam * x > 0 else -math.inf
                 for w, lam in zip(log_wealth, lambdas, strict=True))


def finite_counts(*values: object) -> bool:
    """Every value a non-negative integer count (bools are no counts)."""
    return all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)


def finite_nonnegative(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
               for v in values)


def first(items: Iterable[str]) -> str:
    return next(iter(items), "")
