"""Error rate above the limit -> rollback, for a release with nothing beside it, errors clustered or not.

Where no stable version serves at the same time (blue-green after the switch, a rolling
update once the old ReplicaSet is gone, ``goldgate watch`` on a lone release) there is
nothing to pair with, and per-poll error counts vary more than independent requests
would make them: the error probability wanders from poll to poll (bursts) while its mean
stays healthy. The test of :mod:`goldgate.criteria.watch_error_rate` treats every
request as an independent trial; with a variance ratio of 2 it rolls back 8 % of healthy
2-hour watches, with 7 nearly all of them. This test measures the dispersion and widens
itself accordingly, and assumes no independence it did not measure.

The model. Within poll ``j`` the ``n_j`` requests err with a probability ``P_j`` drawn
afresh for the poll from a Beta distribution with mean ``p`` and concentration ``c``
(intra-poll correlation ``rho = 1 / (c + 1)``), so ``k_j`` is beta-binomial with variance
``n p (1 - p) (1 + (n - 1) rho)``: the variance ratio ``phi = 1 + (n - 1) rho`` of the
poll's counts (``c`` infinite: independent requests, ``phi = 1``).

The test (the window-wide CUSUM with a dispersion-robust ratio)
---------------------------------------------------------------
For a known ``c`` the likelihood ratio of a poll, ``BB(k; n, p1, c) / BB(k; n, p0, c)``,
is exact: its mean is 1 at ``p0`` and, the beta-binomial family having a monotone
likelihood ratio in ``k`` for fixed ``c``, at most 1 for any ``p <= p0``. ``c`` is not
known, so the poll's log e-value is the smallest log ratio over a grid of concentrations
``C`` from ``c_lo`` (the most dispersion the test allows) to ``c_hi`` (the least; infinite,
i.e. independent requests, unless the history shows dispersion beyond doubt)::

    l_j = min_{c in C} ln(BB(k_j; n_j, p1, c) / BB(k_j; n_j, p0, c))

(``C``: geometric from ``c_lo``, at most 8 steps of at least 1.5, both ends included). For
the true ``c`` in ``C`` the minimum is at most the true ratio, so ``exp(l_j)`` has mean at
most 1 under "healthy" whatever else ``c`` is; for a ``c`` between grid points the mean of
the neighbours' ratios is close to 1, not exactly (the bench measures the result). ``C`` for
poll ``j`` comes only from polls before it and from poll ``j``'s request count (a
predictable choice, which keeps the product a supermartingale), and the sum goes into the
CUSUM of :mod:`goldgate.criteria.rise_cusum` with the window's time-spent thresholds. By
Ville's inequality for its budget-weighted sum over starting points::

    P(false rollback in the window) <= alpha    whenever the true dispersion lies in C's range

Taking the minimum over a range, not the ratio at one estimate, matters: the beta-binomial
ratio at a wrong concentration has a mean above 1 in either direction (assuming more
dispersion than there is makes middling counts look like a breach).

How much dispersion is allowed. The correlation is estimated by moments from successive
differences of per-poll rates (:class:`DispersionStats`; a rise of the release adds one
difference, not one per later poll) over the history given (the previous version's polls
read while it served, when the strategy has them) and the release's own earlier polls.
The variance ratio at the mean poll size, ``phi_hat``, with a relative standard error of
about ``sqrt(2/m)`` from ``m`` differences, sets the range ``phi_hat / s .. phi_hat * s``,
``s = 1 + DISPERSION_MARGIN * sqrt(2/m)`` (one standard error); a lower end at or below 1
lets independent requests in. With fewer than ``min_polls`` differences or fewer than
:data:`MIN_ERRORS` errors there is nothing to estimate from: the range is everything from
the environment's ``default_dispersion`` down to independent requests, and the verdict says
so. A configured ``dispersion`` replaces the estimate's upper end (the most the test
allows); the range runs down to the estimate's lower end once there is history enough, down
to independent requests before that; a configured value more than
:data:`CONTRADICTION_MARGIN` standard errors below the estimate is contradicted by the
errors and the estimate's range is used, the verdict saying so. Down to independence
throughout is safe but slow: with the true dispersion stated, the bench's lone watches took
up to three times the reference's delay that way and 1.6 times with the lower end estimated
(an alarm's fixed allowance keeps the slow form, ``lower_from_estimate=False``). Either is a
variance ratio for a minute's requests or for the poll's, whichever are fewer
(:func:`_rho_of_per_minute`: with polls shorter than a minute, spiky bursts - 100 % errors
for 0.1 s every 20 s - straddling the first two 1 s polls of a lone phase rolled it back
when the ratio was read per minute). The default is 30, above the 25x of the bench's most
clustered cell (concentration 50 at 20 req/s): a default below the true dispersion is where
the bound slips (1.2 % false rollbacks there with a default of 10), since the first polls
are then tested under too little dispersion.

FAIL needs the alarm and the error rate of the alarming stretch above ``limit``. PASS,
judged afresh every poll: no alarm, requests within ``max_gap_s``, the window's rate at or
below ``limit`` and the window accepting "healthy" with the mirror-image robust ratio
(``max`` over the grid of the poll's log ratio, summed, at or below Wald's
``ln(beta / (1 - alpha))``): a release breached at ``p1`` under any allowed dispersion
is passed with probability at most ``beta``. If the environment truncates the test
(``max_requests``), a window with that many requests and a rate within the limit passes too.
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

__all__ = [
    "CONTRADICTION_MARGIN",
    "DISPERSION_MARGIN",
    "MIN_ERRORS",
    "DispersionSetting",
    "DispersionStats",
    "LoneErrorRate",
    "LoneState",
    "concentrations",
    "lone_error_rate",
    "robust_llr",
]

#: The test allows the measured variance ratio plus this many standard errors (relative standard
#: error of a moment estimate from m differences: about sqrt(2/m)): too little allowed dispersion
#: is what breaks the bound.
DISPERSION_MARGIN = 1.0
#: A configured dispersion is contradicted by the errors when the estimate lies more than this
#: many standard errors above it (beyond doubt: at one, a right statement is overruled whenever
#: the estimate's lower end lies above it, and the bench's lone test with the true dispersion
#: stated slowed from 1.56 to 1.66 of the reference's delay).
CONTRADICTION_MARGIN = 2.0
#: Fewer errors than this in the history say nothing about how they cluster.
MIN_ERRORS = 10
#: Above this concentration the beta-binomial is the binomial for any poll the monitor reads.
_C_MAX = 1e5
_GRID_STEP = 1.5
_GRID_POINTS = 8


@dataclass(frozen=True)
class DispersionStats:
    """Sums over per-poll counts from which the intra-poll correlation is estimated.

    The spread is measured between *consecutive* polls (von Neumann's successive
    differences of the per-poll rates ``x = k / n``), each scaled by the binomial variance at
    the pair's own rate ``v = x_bar (1 - x_bar)``, so a shift of the mean - a release that
    starts failing - inflates it by one difference only instead of by every poll after it.
    """

    polls: int = 0
    requests: int = 0
    errors: int = 0
    pairs: int = 0
    sum_d2: float = 0.0
    sum_v_inv: float = 0.0
    sum_v_rest: float = 0.0
    seconds: float = 0.0
    last_requests: int = 0
    last_errors: int = 0

    def add(self, requests: int, errors: int, duration_s: float) -> DispersionStats:
        if requests <= 0:
            return replace(self, seconds=self.seconds + duration_s, last_requests=0, last_errors=0)
        pairs, d2, v_inv, v_rest = self.pairs, self.sum_d2, self.sum_v_inv, self.sum_v_rest
        if self.last_requests > 0:
            d = errors / requests - self.last_errors / self.last_requests
            x = (errors + self.last_errors) / (requests + self.last_requests)
            inv = 1 / requests + 1 / self.last_requests
            pairs, d2 = pairs + 1, d2 + d * d
            v_inv, v_rest = v_inv + x * (1 - x) * inv, v_rest + x * (1 - x) * (2 - inv)
        return DispersionStats(self.polls + 1, self.requests + requests, self.errors + errors, pairs, d2, v_inv,
                               v_rest, self.seconds + duration_s, requests, errors)

    def merged(self, other: DispersionStats) -> DispersionStats:
        """Both sets of polls (no difference is taken across the two)."""
        return DispersionStats(*(getattr(self, f) + getattr(other, f) for f in
                                 ("polls", "requests", "errors", "pairs", "sum_d2", "sum_v_inv", "sum_v_rest",
                                  "seconds")),
                               other.last_requests, other.last_errors)

    @property
    def mean_poll(self) -> float:
        return self.requests / self.polls if self.polls else 0.0

    def rho(self) -> float | None:
        """Intra-poll correlation by moments: ``E[(x_j - x_{j-1})^2] = p(1-p) (1/n_j + 1/n_{j-1}
        + rho (2 - 1/n_j - 1/n_{j-1}))`` (None: no errors in consecutive polls)."""
        if not self.errors or not self.pairs or self.sum_v_rest <= 0:
            return None
        return max(0.0, (self.sum_d2 - self.sum_v_inv) / self.sum_v_rest)

    def per_minute(self) -> float:
        """Requests per minute; with no time measured yet, a poll is taken for a minute."""
        return 60.0 * self.requests / self.seconds if self.seconds > 0 else self.mean_poll


@dataclass(frozen=True)
class DispersionSetting:
    """The environment's choice: a configured per-minute variance ratio, or None to estimate."""

    configured: float | None = None
    default: float = 30.0
    min_polls: int = 30
    #: A configured dispersion is the most the test allows; the least is the lower end of the
    #: estimate once there is enough history (as ``auto`` has it), else independent requests.
    #: False keeps everything down to independent requests (an alarm's fixed allowance).
    lower_from_estimate: bool = True

    def __post_init__(self) -> None:
        for value in (self.configured, self.default):
            if value is not None and not (math.isfinite(value) and value >= 1):
                raise ValueError(f"a variance ratio is a number >= 1, got {value!r}")
        if self.min_polls < 2:
            raise ValueError(f"min_polls must be at least 2, got {self.min_polls!r}")


def _rho_of_per_minute(phi: float, per_minute: float, per_poll: float) -> float:
    """The intra-poll correlation that gives the variance ratio ``phi`` to a minute's requests or
    to the poll's, whichever are fewer. Bursts shorter than a poll make a short poll's counts
    *more* dispersed than a minute's (a 0.1 s burst of 100 % errors every 20 s: a minute holds
    three, a 1 s poll none or one), so ``phi`` read as per minute would let the first polls of a
    sub-minute schedule through as nearly independent; read as the poll's own it bounds both."""
    n = min(per_minute, per_poll) if per_poll > 0 else per_minute
    return 1.0 if n <= 1 else min(1.0, (phi - 1) / (n - 1))


def _estimate(setting: DispersionSetting, stats: DispersionStats, n_bar: float) -> tuple[float, float, float] | None:
    """The estimate's (phi_hat, phi_lo, phi_hi) for an ``n_bar``-request poll, or None with too
    little history (fewer than ``min_polls`` differences or :data:`MIN_ERRORS` errors)."""
    rho_hat = stats.rho() if stats.pairs >= setting.min_polls and stats.errors >= MIN_ERRORS else None
    if rho_hat is None:
        return None
    phi_hat = 1 + (n_bar - 1) * rho_hat
    spread = 1 + DISPERSION_MARGIN * math.sqrt(2 / stats.pairs)
    return phi_hat, phi_hat / spread, phi_hat * spread


def _rho_of(phi: float, n_bar: float) -> float:
    return min(1.0, max(0.0, (phi - 1) / (n_bar - 1)))


def allowed_rho(setting: DispersionSetting, stats: DispersionStats, source: str,
                rate_stats: DispersionStats) -> tuple[float, float, str]:
    """The range of intra-poll correlation the test allows for the next poll, and how it was set:
    (most, least, how); least 0 means independent requests are among the allowed."""
    n_bar = max(rate_stats.mean_poll, stats.mean_poll)
    est = _estimate(setting, stats, n_bar)
    contradicted = ""
    if setting.configured is not None:
        rho = _rho_of_per_minute(setting.configured, rate_stats.per_minute(), n_bar)
        stated = f"dispersion phi={setting.configured:g} per minute from the environment"
        if est is None or n_bar <= 1 or not setting.lower_from_estimate:
            return rho, 0.0, f"{stated}, tested down to independent requests"
        phi_hat, phi_lo, _ = est
        if _rho_of(phi_hat / (1 + CONTRADICTION_MARGIN * math.sqrt(2 / stats.pairs)), n_bar) <= rho:
            return rho, min(rho, _rho_of(phi_lo, n_bar)), (
                f"{stated}, tested down to phi={max(1.0, phi_lo):.3g} (the lower end of the "
                f"{_estimated(phi_hat, n_bar, stats, source)})")
        # the errors contradict the statement: testing under less dispersion than measured is
        # what rolls healthy releases back, so the estimate's range stands
        contradicted = f"{stated} is too low: the errors are more dispersed; "
    if est is None:
        rho = _rho_of_per_minute(setting.default, rate_stats.per_minute(), n_bar)
        return rho, 0.0, (f"too little history to estimate the dispersion ({stats.pairs} consecutive polls with traffic, "
                     f"{stats.errors} errors; need {setting.min_polls} and {MIN_ERRORS}): default phi="
                     f"{setting.default:g} per minute from the environment")
    if n_bar <= 1:
        return 1.0, 0.0, f"one request per poll from {source}: any dispersion allowed"
    phi_hat, phi_lo, phi_hi = est
    rho = _rho_of(phi_hi, n_bar)
    rho_lo = min(rho, _rho_of(phi_lo, n_bar))
    return rho, rho_lo, (f"{contradicted}{_estimated(phi_hat, n_bar, stats, source)}, tested for any phi from "
                         f"{max(1.0, phi_lo):.3g} to {phi_hi:.3g}")


def _estimated(phi_hat: float, n_bar: float, stats: DispersionStats, source: str) -> str:
    return f"dispersion phi={phi_hat:.3g} per {n_bar:.0f}-request poll estimated from {stats.polls} polls of {source}"


def concentrations(rho: float, rho_lo: float = 0.0) -> tuple[float, ...]:
    """The grid of beta concentrations from the most dispersed allowed (``rho``) to the least
    (``rho_lo``; 0: independent requests, ``inf``): geometric, at most :data:`_GRID_POINTS`
    steps of at least :data:`_GRID_STEP`, both ends included."""
    top = math.inf if rho_lo <= 0 else 1 / rho_lo - 1
    if rho <= 0:
        return (math.inf,)
    c_lo = max(1e-3, 1 / rho - 1)
    span = min(top, _C_MAX)
    out: list[float] = []
    if c_lo < span:
        step = max(_GRID_STEP, (span / c_lo) ** (1 / _GRID_POINTS))
        c = c_lo
        while c < span and len(out) < _GRID_POINTS:
            out.append(c)
            c *= step
    out.append(top if top < _C_MAX else math.inf)
    return tuple(out)


def _bb_llr(p0: float, p1: float, n: int, k: int, c: float) -> float:
    if math.isinf(c):
        return k * math.log(p1 / p0) + (n - k) * math.log((1 - p1) / (1 - p0))
    lg = math.lgamma
    a0, a1, b0, b1 = c * p0, c * p1, c * (1 - p0), c * (1 - p1)
    return (lg(k + a1) - lg(a1) - lg(k + a0) + lg(a0)) + (lg(n - k + b1) - lg(b1) - lg(n - k + b0) + lg(b0))


def robust_llr(params: SprtParams, requests: int, errors: int, rho: float, rho_lo: float = 0.0) -> tuple[float, float]:
    """(min, max) over the allowed concentrations of the poll's log likelihood ratio p1 vs p0."""
    if requests <= 0:
        return 0.0, 0.0
    values = [_bb_llr(params.p0, params.p1, requests, errors, c) for c in concentrations(rho, rho_lo)]
    return min(values), max(values)


@dataclass(frozen=True)
class LoneState:
    """Where the lone test stands; ``cusum.counts`` are (requests, errors)."""

    plan: WatchPlan
    setting: DispersionSetting = field(default_factory=DispersionSetting)
    history: DispersionStats = field(default_factory=DispersionStats)
    history_source: str = ""
    own: DispersionStats = field(default_factory=DispersionStats)
    polls: int = 0
    last_traffic_s: float | None = None
    cusum: RiseCusum = field(default_factory=lambda: RiseCusum(counts=(0, 0)))
    accept_llr: float = 0.0
    rho: float | None = None
    dispersion: str = ""
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
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        p = self.plan.params
        rise = self.cusum.rise
        return {"test": "lone release", "window_s": round(self.at_s, 3), "polls": self.polls,
                "requests": self.requests, "errors": self.errors, "error_rate": self.error_rate, "limit": p.limit,
                "dispersion": self.dispersion, "rho_allowed": self.rho,
                "accept_llr": round(self.accept_llr, 4), "accept_at": round(p.lower, 4),
                "rise_statistic": None if rise is None else round(rise.llr, 4),
                "rise_threshold": None if rise is None else round(rise.threshold, 4),
                "last_traffic_s": self.last_traffic_s, "max_gap_s": self.plan.max_gap_s,
                "horizon_s": self.plan.horizon_s, "alpha": p.alpha, "beta": p.beta}


class LoneErrorRate:
    """Feeds one lone release's polls into the dispersion-robust window test.

    ``history``: per-poll counts of the stable version before the switch (``history_source``
    names them), used with the release's own earlier polls to estimate the dispersion.
    """

    def __init__(self, plan: WatchPlan, setting: DispersionSetting | None = None, *,
                 history: DispersionStats | None = None, history_source: str = "") -> None:
        self.plan = plan
        self.state = LoneState(plan, setting or DispersionSetting(), history or DispersionStats(),
                               history_source or "the stable version before the switch")

    def observe(self, requests: int, errors: int, duration_s: float) -> LoneState:
        if requests < 0 or errors < 0 or errors > requests:
            raise ValueError(f"need 0 <= errors <= requests, got {errors} errors of {requests}")
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be a finite non-negative number, got {duration_s!r}")
        s = self.state
        if s.alarm is not None:  # a breach is final
            self.state = replace(s, polls=s.polls + 1)
            return self.state
        rho, rho_lo, how = self._allowed(s, requests, duration_s)
        up, down = robust_llr(self.plan.params, requests, errors, rho, rho_lo)
        cusum = s.cusum.step(self.plan, up, (requests, errors), duration_s)
        alarm = None
        rise = cusum.rise
        if cusum.crossed and rise is not None and rise.counts[0] and rise.counts[1] / rise.counts[0] > \
                self.plan.params.limit:
            alarm = rise
        self.state = replace(s, own=s.own.add(requests, errors, duration_s), polls=s.polls + 1,
                             last_traffic_s=cusum.at_s if requests else s.last_traffic_s, cusum=cusum,
                             accept_llr=s.accept_llr + down, rho=rho, dispersion=how, alarm=alarm)
        return self.state

    @staticmethod
    def _allowed(s: LoneState, requests: int, duration_s: float) -> tuple[float, float, str]:
        # The poll's traffic may set the allowance (it says nothing about its errors): the
        # request rate converts a per-minute variance ratio into the poll's correlation.
        stats = s.history.merged(s.own)
        if s.history.polls and s.own.polls:
            source = f"{s.history_source} and the release"
        elif s.history.polls:
            source = s.history_source
        else:
            source = "the release"
        traffic = s.own.add(requests, 0, duration_s)
        return allowed_rho(s.setting, stats, source, traffic if traffic.requests else stats)

    # ------------------------------------------------------------------ resume
    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data, to continue the same window after a restart."""
        s = self.state
        return {"test": "lone", "requests": s.requests, "errors": s.errors, "polls": s.polls,
                "last_traffic_s": s.last_traffic_s, "cusum": s.cusum.to_dict(),
                "accept_llr": s.accept_llr, "own": vars(s.own), "history": vars(s.history),
                "alarm": None if s.alarm is None else {**vars(s.alarm), "counts": list(s.alarm.counts)}}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Continue from :meth:`snapshot`; anything unreadable starts the window afresh."""
        try:
            if data.get("test") != "lone":
                return
            cusum = RiseCusum.from_dict(data["cusum"])
            alarm = data.get("alarm")
            last = data.get("last_traffic_s")
            state = replace(self.state, polls=int(data["polls"]), cusum=cusum,
                            last_traffic_s=None if last is None else float(last),
                            accept_llr=float(data["accept_llr"]), own=DispersionStats(**data["own"]),
                            history=DispersionStats(**data["history"]),
                            alarm=None if not alarm else Stretch(
                                float(alarm["start_s"]), float(alarm["at_s"]),
                                tuple(int(c) for c in alarm["counts"]), float(alarm["llr"]),
                                float(alarm["threshold"])))
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        if len(cusum.counts) == 2 and 0 <= state.errors <= state.requests and math.isfinite(state.accept_llr):
            self.state = state


def _pct(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x * 100:.3g} %"


def _invalid(state: LoneState) -> str:
    if not isinstance(state, LoneState):
        return f"not a lone window state: {type(state).__name__}"
    c = state.cusum
    if len(c.counts) != 2:
        return f"counts {c.counts!r} are not (requests, errors)"
    for name, value in (("at_s", c.at_s), ("llr", c.llr), ("accept_llr", state.accept_llr)):
        if not isinstance(value, int | float) or not math.isfinite(value) or (name == "at_s" and value < 0):
            return f"{name} is {value!r}"
    if state.requests < 0 or state.errors < 0 or state.errors > state.requests:
        return f"{state.errors} errors of {state.requests} requests"
    if state.last_traffic_s is not None and not (0 <= state.last_traffic_s <= c.at_s):
        return f"last traffic at {state.last_traffic_s!r}s outside the window [0, {c.at_s:g}]s"
    if state.requests and state.last_traffic_s is None:
        return f"{state.requests} requests but no time of traffic"
    if state.requests and state.rho is None:
        return "requests counted but no dispersion chosen"
    return ""


@criterion(needs="requests within max_gap_s, the window's rate within the limit and the window accepting "
                 "'healthy' under every allowed dispersion (robust Wald bound), with no alarm of the "
                 "dispersion-robust window CUSUM")
def lone_error_rate(
    state: LoneState,
    *,
    criterion: str = "error rate",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The error-rate trigger of a release with nothing beside it, judged afresh every poll."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid lone error-rate state: {problem}", evidence=tuple(evidence), **kw)
    p, plan = state.plan.params, state.plan
    kw["evidence"] = (*evidence, Evidence(
        "lone window test", f"dispersion-robust CUSUM p0={p.p0:g} p1={p.p1:g} alpha={p.alpha:g} over "
        f"{plan.horizon_s:g}s", round(state.at_s, 3), state.requests, state.to_dict()))
    how = f"lone release, {state.dispersion}" if state.dispersion else "lone release"
    window = f"{state.errors} errors in {state.requests} requests over {state.at_s:g}s, {state.polls} polls ({how})"
    if state.alarm is not None:
        a = state.alarm
        n, k = a.counts
        return Verdict.failed(
            criterion, k / n, p.limit,
            f"error rate {_pct(k / n)} ({k} errors in {n} requests from {a.start_s:g}s to {a.at_s:g}s) is above "
            f"the limit {_pct(p.limit)}: rise statistic {a.llr:.3f} reached its threshold {a.threshold:.3f} "
            f"(false-rollback bound {p.alpha:g} over the {plan.horizon_s:g}s window for any dispersion up to the "
            f"allowed); window: {window}", **kw)
    if state.requests == 0 or state.last_traffic_s is None:
        return Verdict.inconclusive(criterion, f"no requests yet in the window ({state.at_s:g}s): nothing to "
                                               "decide on", threshold=p.limit, **kw)
    quiet = state.at_s - state.last_traffic_s
    if quiet > plan.max_gap_s:
        return Verdict.inconclusive(
            criterion, f"no requests since {state.last_traffic_s:g}s of the window ({quiet:g}s, longer than "
                       f"max_gap_s {plan.max_gap_s:g}s): the present is not measured; {window}",
            observed=state.error_rate, threshold=p.limit, **kw)
    rate = state.error_rate
    assert rate is not None
    truncated = p.max_requests is not None and state.requests >= p.max_requests
    if (state.accept_llr <= p.lower or truncated) and rate <= p.limit:
        how = (f"robust window LLR {state.accept_llr:.3f} at or below Wald's acceptance {p.lower:.3f}"
               if state.accept_llr <= p.lower else f"truncated at max_requests {p.max_requests}")
        return Verdict.passed(
            criterion, rate, p.limit,
            f"error rate {_pct(rate)} within the limit {_pct(p.limit)}: {how}; no rise detected (false-rollback bound {p.alpha:g} over "
            f"the {plan.horizon_s:g}s window); {window}", **kw)
    return Verdict.inconclusive(
        criterion, f"error rate {_pct(rate)} vs limit {_pct(p.limit)}: not enough evidence yet; robust window LLR "
                   f"{state.accept_llr:.3f}, healthy accepted at {p.lower:.3f}; {window}",
        observed=rate, threshold=p.limit, **kw)
