"""Error rate above the limit -> rollback, decided by Wald's sequential probability ratio test.

Why a sequential test: a fixed rule ("error rate over the last minute > 1 %") aborts a
low-traffic canary on its first 5xx (1 error in 40 requests is 2.5 %) and, at high
traffic, waits for whole windows before it acts. The SPRT treats every request as a
Bernoulli trial and weighs two hypotheses around the guide's 1 % limit:

* H0 "healthy":  error probability ``p0`` (below the limit)
* H1 "breached": error probability ``p1`` (above the limit)

After ``n`` requests with ``k`` errors the log-likelihood ratio is::

    LLR = k * ln(p1 / p0) + (n - k) * ln((1 - p1) / (1 - p0))

and the test stops as soon as it leaves the band between the bounds::

    LLR >= ln((1 - beta) / alpha)   -> accept H1 -> FAIL (rollback)
    LLR <= ln(beta / (1 - alpha))   -> accept H0 -> PASS
    otherwise                       -> INCONCLUSIVE (keep watching)

``alpha`` is the probability of a false rollback of a service that really runs at ``p0``,
``beta`` the probability of missing a breach at ``p1`` (Wald's bounds hold these
approximately, slightly conservatively). Two guards keep the verdict honest about the
rule it stands for: a FAIL also needs the observed error rate above ``limit`` and a PASS
needs it at or below ``limit``; otherwise the test keeps watching.

Optionally the test is truncated at ``max_requests``: reaching it without a decision,
the observed error rate is held against ``limit`` directly (FAIL above, PASS otherwise).

One test, one sample: ``alpha`` holds for a single run of the test. A window watched poll
after poll (a canary phase, the two hours after a switch, ``goldgate watch``) must not
restart it after each "healthy" decision - every restart spends ``alpha`` again; the
rollback monitor uses :mod:`goldgate.criteria.watch_error_rate`, whose bound holds for
the whole window, and this module's parameters.

Defaults (:data:`GUIDE_DEFAULTS`, guide §6.1 "error rate > 1 %"): limit 1 %, p0 0.5 %,
p1 2 %, alpha 0.01, beta 0.05, no truncation. With them one 5xx moves the LLR by
+ln 4 = 1.39 while the FAIL bound is 4.55, so a single error never rolls back; a service
with no errors is accepted after 197 requests; a 2 % breach is caught after about 325
requests on average (:meth:`SprtParams.expected_requests`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass

from goldgate.criteria.registry import criterion as registered
from goldgate.verdict import Evidence, Verdict

__all__ = [
    "GUIDE_DEFAULTS",
    "Decision",
    "SequentialErrorRate",
    "SprtParams",
    "SprtState",
    "error_rate_sprt",
    "sprt_state",
]


class Decision(enum.StrEnum):
    ACCEPT_H0 = "accept H0 (healthy)"
    ACCEPT_H1 = "accept H1 (breached)"
    CONTINUE = "continue"


@dataclass(frozen=True)
class SprtParams:
    """Every number the sequential error-rate test depends on; validated on creation."""

    limit: float
    p0: float
    p1: float
    alpha: float
    beta: float
    max_requests: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.p0 < self.limit < self.p1 < 1:
            raise ValueError(
                f"need 0 < p0 < limit < p1 < 1, got p0={self.p0:g} limit={self.limit:g} p1={self.p1:g}")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not 0 < value < 0.5:
                raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError(f"max_requests must be positive, got {self.max_requests!r}")

    @property
    def upper(self) -> float:
        """LLR at or above which H1 (breach) is accepted."""
        return math.log((1 - self.beta) / self.alpha)

    @property
    def lower(self) -> float:
        """LLR at or below which H0 (healthy) is accepted."""
        return math.log(self.beta / (1 - self.alpha))

    @property
    def per_error(self) -> float:
        return math.log(self.p1 / self.p0)

    @property
    def per_success(self) -> float:
        return math.log((1 - self.p1) / (1 - self.p0))

    def llr(self, requests: int, errors: int) -> float:
        return errors * self.per_error + (requests - errors) * self.per_success

    def _drift(self, p: float) -> float:
        return p * self.per_error + (1 - p) * self.per_success

    def expected_requests(self, p: float) -> float:
        """Wald's average sample number at true error probability ``p`` (p0 or p1 exactly,
        or any p via the operating characteristic). Ignores overshoot of the bounds."""
        accept_h0 = self.operating_characteristic(p)
        drift = self._drift(p)
        if abs(drift) < 1e-12:  # the p where the LLR has no drift: Wald's limiting form
            return -self.lower * self.upper / (self.per_error**2 * p * (1 - p))
        return (accept_h0 * self.lower + (1 - accept_h0) * self.upper) / drift

    def operating_characteristic(self, p: float) -> float:
        """Wald's approximation of P(accept H0) when the true error probability is ``p``."""
        if math.isclose(p, self.p0):
            return 1 - self.alpha
        if math.isclose(p, self.p1):
            return self.beta
        # p(h) = (1 - r0**h) / (r1**h - r0**h) with r1 = p1/p0, r0 = (1-p1)/(1-p0):
        # find h by bisection (p(h) falls as h rises), then L = (A**h - 1) / (A**h - B**h).
        r1, r0 = self.p1 / self.p0, (1 - self.p1) / (1 - self.p0)

        def p_of(h: float) -> float:
            if abs(h) < 1e-9:
                return -math.log(r0) / (math.log(r1) - math.log(r0))
            return (1 - r0**h) / (r1**h - r0**h)

        lo, hi = -60.0, 60.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if p_of(mid) > p:
                lo = mid
            else:
                hi = mid
        h = (lo + hi) / 2
        a, b = math.exp(self.upper), math.exp(self.lower)
        if abs(h) < 1e-9:
            return self.upper / (self.upper - self.lower)
        return (a**h - 1) / (a**h - b**h)


GUIDE_DEFAULTS = SprtParams(limit=0.01, p0=0.005, p1=0.02, alpha=0.01, beta=0.05)
"""Guide §6.1's "error rate > 1 %" as a sequential test; environments override each field."""


@dataclass(frozen=True)
class SprtState:
    """Where the test stands after ``requests`` trials with ``errors`` failures."""

    requests: int
    errors: int
    llr: float
    decision: Decision
    params: SprtParams
    truncated: bool = False

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def details(self) -> dict[str, object]:
        p = self.params
        return {
            "requests": self.requests, "errors": self.errors,
            "error_rate": self.error_rate, "limit": p.limit,
            "llr": round(self.llr, 4), "accept_h1_at": round(p.upper, 4),
            "accept_h0_at": round(p.lower, 4), "p0": p.p0, "p1": p.p1,
            "alpha": p.alpha, "beta": p.beta, "max_requests": p.max_requests,
            "decision": self.decision.value, "truncated": self.truncated,
        }


def _check_counts(requests: int, errors: int) -> None:
    if requests < 0 or errors < 0 or errors > requests:
        raise ValueError(f"need 0 <= errors <= requests, got {errors} errors of {requests}")


def sprt_state(requests: int, errors: int, params: SprtParams) -> SprtState:
    """The test's decision on cumulative counts (a single look)."""
    _check_counts(requests, errors)
    llr = params.llr(requests, errors)
    rate = errors / requests if requests else None
    if rate is not None and llr >= params.upper and rate > params.limit:
        return SprtState(requests, errors, llr, Decision.ACCEPT_H1, params)
    if rate is not None and llr <= params.lower and rate <= params.limit:
        return SprtState(requests, errors, llr, Decision.ACCEPT_H0, params)
    if rate is not None and params.max_requests is not None and requests >= params.max_requests:
        decision = Decision.ACCEPT_H1 if rate > params.limit else Decision.ACCEPT_H0
        return SprtState(requests, errors, llr, decision, params, truncated=True)
    return SprtState(requests, errors, llr, Decision.CONTINUE, params)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.3g} %"


@registered(needs="a state whose counts crossed Wald's acceptance bound with the observed rate within the limit")
def verdict_of(state: SprtState, *, criterion: str, window_s: float | None,
               evidence: Iterable[Evidence] = (), rollback: bool = True) -> Verdict:
    """Turn a test state into a Verdict whose message carries every number."""
    p = state.params
    ev = (*evidence, Evidence("sprt", f"SPRT p0={p.p0:g} p1={p.p1:g} alpha={p.alpha:g} "
                                      f"beta={p.beta:g}", window_s, state.requests,
                              state.details()))
    counts = f"{state.errors} errors in {state.requests} requests"
    window = f" over {window_s:g}s" if window_s is not None else ""
    bounds = f"LLR {state.llr:.3f}, bounds [{p.lower:.3f}, {p.upper:.3f}]"
    kw = {"evidence": ev, "rollback": rollback, "unit": ""}
    if state.decision is Decision.ACCEPT_H1:
        how = "truncated at max_requests" if state.truncated else "SPRT accepted H1 (breached)"
        return Verdict.failed(
            criterion, state.error_rate, p.limit,
            f"error rate {_pct(state.error_rate)} ({counts}{window}) is above the limit "
            f"{_pct(p.limit)}: {how}; {bounds}", **kw)
    if state.decision is Decision.ACCEPT_H0:
        how = "truncated at max_requests" if state.truncated else "SPRT accepted H0 (healthy)"
        return Verdict.passed(
            criterion, state.error_rate, p.limit,
            f"error rate {_pct(state.error_rate)} ({counts}{window}) within the limit "
            f"{_pct(p.limit)}: {how}; {bounds}", **kw)
    if state.requests == 0:
        why = f"no requests{window}: nothing to decide on"
    else:
        why = (f"error rate {_pct(state.error_rate)} ({counts}{window}) vs limit "
               f"{_pct(p.limit)}: not enough evidence yet; {bounds}")
    return Verdict.inconclusive(criterion, why, observed=state.error_rate, threshold=p.limit, **kw)


@registered(needs="request counts that cross Wald's acceptance bound with the observed rate within the limit")
def error_rate_sprt(
    requests: int,
    errors: int,
    params: SprtParams,
    *,
    criterion: str = "error rate",
    window_s: float | None = None,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """One-look verdict on counts over a window (requests and 5xx errors)."""
    return verdict_of(sprt_state(requests, errors, params), criterion=criterion,
                      window_s=window_s, evidence=evidence, rollback=rollback)


class SequentialErrorRate:
    """The streaming form for the canary monitor: feed counts as they arrive.

    Each :meth:`update` adds the requests and errors seen since the previous one (for
    instance the ``counts`` of a measurement over one poll interval). The first boundary
    crossing is final, as in Wald's test: later traffic does not undo a decision.
    """

    def __init__(self, params: SprtParams, *, criterion: str = "error rate",
                 rollback: bool = True) -> None:
        self.params = params
        self.criterion = criterion
        self.rollback = rollback
        self.requests = 0
        self.errors = 0
        self.elapsed_s = 0.0
        self._final: SprtState | None = None
        self._evidence: list[Evidence] = []

    @property
    def state(self) -> SprtState:
        return self._final or sprt_state(self.requests, self.errors, self.params)

    @property
    def decided(self) -> bool:
        return self._final is not None

    def update(self, requests: int, errors: int, *, elapsed_s: float = 0.0,
               evidence: Evidence | None = None) -> SprtState:
        """Add counts observed since the last update; return the (possibly final) state."""
        _check_counts(requests, errors)
        if self._final is None:
            self.requests += requests
            self.errors += errors
            self.elapsed_s += elapsed_s
            if evidence is not None:
                self._evidence.append(evidence)
            state = sprt_state(self.requests, self.errors, self.params)
            if state.decision is not Decision.CONTINUE:
                self._final = state
        return self.state

    def update_each(self, outcomes: Iterable[bool]) -> SprtState:
        """Feed request by request (True = error), stopping at the first decision."""
        for is_error in outcomes:
            if self.update(1, int(is_error)).decision is not Decision.CONTINUE:
                break
        return self.state

    @registered(needs="counts fed until Wald's acceptance bound is crossed")
    def verdict(self) -> Verdict:
        return verdict_of(self.state, criterion=self.criterion,
                          window_s=self.elapsed_s or None, evidence=self._evidence[-3:],
                          rollback=self.rollback)
