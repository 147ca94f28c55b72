"""p95 above ``factor`` x a stored baseline -> rollback, for a release with nothing beside it, latency bursty or not.

Where no stable version serves at the same time (blue-green after the switch, a rolling
update once the old ReplicaSet is gone, ``goldgate watch`` on a lone release) the §6.1
rule "p95 > 2x baseline" can only be held against a stored baseline p95. Re-reading the
window's p95 every poll and comparing it with ``factor`` x that value rolls back healthy
releases whenever latency is bursty: an early slow poll dominates a thin window, and each
poll is one more look at a noisy quantile (``bench/watch_validity.py``: up to 79.5 % of
healthy 2-hour watches rolled back when 20 % of polls are 3x slower). This test asks the
same question as a count and bounds the whole window's false-rollback chance.

The question as a count. With ``L = factor x stored baseline p95``, "the p95 is above L"
is "more than ``1 - q`` (5 %) of requests are slower than L". Each poll's histogram
buckets give ``n`` requests and the number slower than L; a bucket straddling L cannot say
on which side its requests are, so two counts are kept (:func:`exceedances`): ``above_low``
(the requests of buckets wholly above L) and ``above_high`` (those of every bucket that
reaches above L). Both go through their own dispersion-robust window test, and the verdict
decides only where both agree, as :mod:`goldgate.criteria.latency` does for a p95's bucket.

The test (that of :mod:`goldgate.criteria.lone_error_rate`, on exceedances)
----------------------------------------------------------------------------
Slow requests cluster exactly as errors do (a slow minute is slow for many of its requests),
so a poll's exceedance count is modelled as beta-binomial around the share ``s``. The
exceedance test's ``limit`` is ``1 - q``; its healthy and breached shares scale with the
error-rate test's (:func:`exceedance_params`: 2.5 % and 10 % with the guide's 0.5 % / 1 % /
2 %), and it spends the same ``false_rollback`` over the same window. Each poll's log
e-value is the smallest beta-binomial log ratio over the allowed concentrations, summed
into the window CUSUM over all starting points; by Ville's inequality::

    P(false rollback in the window) <= alpha    for a share of slow requests s <= p0,
                                                 whatever the dispersion up to the allowed

How much dispersion the alarm allows differs from the error-rate test on purpose. Latency
bursts are rare and large (one minute in a hundred 3x slower: a fifth of its requests
above L against a tenth of a percent otherwise), so an estimate from the release's own
calm polls narrows the allowance just before the first burst, which then reads as a
breach (66 % of healthy watches rolled back in the bench's 1 %-burst cell). The alarm
therefore allows every dispersion from independent requests up to the environment's
``error_rate_test.latency_dispersion`` (a variance ratio of a minute's or a poll's
counts, whichever hold fewer requests; default 300, above the ~190 of the bench's most
bursty cell, 20 % of polls 3x slower at 20 req/s), never narrowed. Acceptance (PASS) is not a sequential test on the same model: any likelihood-ratio
acceptance that allows heavy dispersion learns next to nothing from a calm poll (the
lone error-rate test's robust Wald bound under the alarm's allowance did not accept a
calm release at 20 req/s in 300 polls), and one that allows independence is poisoned for
the rest of the window by one burst. PASS rests instead on the window's share of possibly
slow requests (``above_high``) and its upper ``1 - beta`` bound: Wilson's bound on the
window's requests divided by the design effect - the spread of the polls' shares around
the window's, against the binomial's (at least 1; a ratio estimator's cluster variance) -
so bursts widen it by as much as they were measured to vary. It needs ``min_requests``
requests (``thresholds.min_requests``) over at least ``min_polls`` polls, requests within
``max_gap_s``, and neither alarm. Its error (a breached release passed) is about ``beta``
by the normal approximation over polls, not a Ville bound; PASS is judged afresh every
poll, so a later burst turns it back into INCONCLUSIVE (a hold), never into a rollback.

FAIL needs the alarm of the *certain* count (``above_low``), with the share of the
alarming stretch above ``1 - q`` - and the alarm of the generous count too; where only the
generous count alarms the bucket around L is too coarse and the verdict INCONCLUSIVE.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from goldgate.criteria.lone_error_rate import (
    DispersionSetting,
    LoneErrorRate,
    LoneState,
    lone_error_rate,
)
from goldgate.criteria.registry import criterion
from goldgate.criteria.sprt import SprtParams
from goldgate.criteria.watch_error_rate import WatchPlan
from goldgate.verdict import Evidence, Status, Verdict

__all__ = ["LoneLatency", "LoneLatencyState", "WindowShare", "exceedance_params", "exceedances", "lone_latency"]


def exceedance_params(error_params: SprtParams, quantile: float = 0.95) -> SprtParams:
    """The exceedance test's numbers: limit ``1 - quantile``, healthy and breached shares in the
    same proportion to it as the error-rate test's rates to its limit, the same error bounds."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    limit = round(1 - quantile, 12)
    scale = limit / error_params.limit
    p1 = min(error_params.p1 * scale, (1 + limit) / 2)
    return SprtParams(limit=limit, p0=error_params.p0 * scale, p1=p1, alpha=error_params.alpha,
                      beta=error_params.beta)


def exceedances(buckets: Mapping[float, float] | Iterable[tuple[float, float]], limit_s: float) -> tuple[int, int, int]:
    """``(requests, above_low, above_high)`` of one poll from its cumulative histogram
    (upper bound ``le`` -> requests at or below it, ``+Inf`` the total).

    ``above_low`` counts the requests certainly slower than ``limit_s`` (above the smallest
    bound at or above it), ``above_high`` those possibly slower (above the largest bound at or
    below it); they are equal when ``limit_s`` is a bucket bound. Raises ValueError on a
    histogram that is not one (no ``+Inf``, negative or decreasing counts, NaN).
    """
    pairs = sorted((float(le), float(c)) for le, c in (buckets.items() if isinstance(buckets, Mapping) else buckets))
    if not pairs or not math.isinf(pairs[-1][0]):
        raise ValueError("a latency histogram needs its +Inf bucket (the total)")
    if not (math.isfinite(limit_s) and limit_s > 0):
        raise ValueError(f"latency limit is {limit_s!r} s: need a finite positive number")
    last = 0.0
    for le, count in pairs:
        if math.isnan(le) or not math.isfinite(count) or count < last - 1e-9:
            raise ValueError(f"bucket le={le!r} count {count!r} is not a cumulative histogram")
        last = count
    total = round(pairs[-1][1])
    at_or_below = max((c for le, c in pairs if le <= limit_s), default=0.0)
    bound_above = min((c for le, c in pairs if le >= limit_s), default=float(total))
    high = total - min(total, round(at_or_below))
    low = total - min(total, round(bound_above))
    return total, min(low, high), high


@dataclass(frozen=True)
class WindowShare:
    """Sums over the window's polls for the share of slow requests and its between-poll spread."""

    polls: int = 0
    requests: int = 0
    above_low: int = 0
    above_high: int = 0
    sum_n2: float = 0.0
    sum_k2: float = 0.0
    sum_nk: float = 0.0

    def add(self, n: int, low: int, high: int) -> WindowShare:
        if n <= 0:
            return self
        return WindowShare(self.polls + 1, self.requests + n, self.above_low + low, self.above_high + high,
                           self.sum_n2 + n * n, self.sum_k2 + high * high, self.sum_nk + n * high)

    def upper_bound(self, z: float) -> float:
        """Upper confidence bound on the window's share of possibly slow requests: Wilson's bound
        on ``requests / deff`` requests, ``deff`` the design effect measured between polls (the
        ratio of the polls' spread to the binomial's; at least 1, so bursts widen it)."""
        n, k = self.requests, self.above_high
        if n <= 0:
            return 1.0
        s = k / n
        binom = s * (1 - s) / n
        deff = 1.0
        if self.polls >= 2 and binom > 0:
            spread = (self.sum_k2 - 2 * s * self.sum_nk + s * s * self.sum_n2) / (n * n)
            deff = max(1.0, spread * self.polls / (self.polls - 1) / binom)
        m = n / deff
        centre = s + z * z / (2 * m)
        half = z * math.sqrt(s * (1 - s) / m + z * z / (4 * m * m))
        return min(1.0, (centre + half) / (1 + z * z / m))


@dataclass(frozen=True)
class LoneLatencyState:
    """The alarm tests of the certain (``low``) and possible (``high``) counts, the window's
    share for acceptance, and the limit they count against."""

    low: LoneState
    high: LoneState
    window: WindowShare
    limit_s: float
    baseline_p95_s: float
    factor: float
    quantile: float = 0.95
    min_requests: int = 200
    min_polls: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"test": "lone latency exceedances", "limit_s": self.limit_s, "baseline_p95_s": self.baseline_p95_s,
                "factor": self.factor, "quantile": self.quantile, "alarm_certain": self.low.to_dict(),
                "alarm_possible": self.high.to_dict(), "window": vars(self.window),
                "min_requests": self.min_requests, "min_polls": self.min_polls}


class LoneLatency:
    """Feeds one lone release's per-poll exceedance counts into the window tests.

    ``alarm_dispersion``: the variance ratio (per minute or per poll, whichever holds fewer
    requests) the alarm allows, fixed, never narrowed by calm polls. ``min_requests`` and
    ``min_polls``: the least a PASS rests on.
    """

    def __init__(self, plan: WatchPlan, baseline_p95_s: float, factor: float,
                 setting: DispersionSetting | None = None, quantile: float = 0.95,
                 alarm_dispersion: float = 300.0, min_requests: int = 200, min_polls: int = 3) -> None:
        if not (math.isfinite(baseline_p95_s) and baseline_p95_s > 0 and math.isfinite(factor) and factor > 0):
            raise ValueError(f"need a finite positive baseline and factor, got {baseline_p95_s!r} and {factor!r}")
        ex = WatchPlan(exceedance_params(plan.params, quantile), horizon_s=plan.horizon_s, max_gap_s=plan.max_gap_s,
                       resolution_s=plan.resolution_s)
        setting = setting or DispersionSetting()
        fixed = DispersionSetting(configured=alarm_dispersion, default=setting.default, min_polls=setting.min_polls,
                                  lower_from_estimate=False)
        self.tests = (LoneErrorRate(ex, fixed), LoneErrorRate(ex, fixed))
        self.limit_s = factor * baseline_p95_s
        self._fixed = (baseline_p95_s, factor, quantile, max(1, min_requests), max(2, min_polls))
        self.state = LoneLatencyState(self.tests[0].state, self.tests[1].state, WindowShare(), self.limit_s,
                                      *self._fixed)

    def observe(self, requests: int, above_low: int, above_high: int, duration_s: float) -> LoneLatencyState:
        if not 0 <= above_low <= above_high <= requests:
            raise ValueError(f"need 0 <= above_low <= above_high <= requests, got {above_low}, {above_high}, "
                             f"{requests}")
        low = self.tests[0].observe(requests, above_low, duration_s)
        high = self.tests[1].observe(requests, above_high, duration_s)
        self.state = LoneLatencyState(low, high, self.state.window.add(requests, above_low, above_high),
                                      self.limit_s, *self._fixed)
        return self.state

    def observe_buckets(self, buckets: Mapping[float, float] | Iterable[tuple[float, float]],
                        duration_s: float) -> LoneLatencyState:
        """One poll given as its own cumulative histogram (the window's buckets now minus before)."""
        return self.observe(*exceedances(buckets, self.limit_s), duration_s)

    # ------------------------------------------------------------------ resume
    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data, to continue the same window after a restart."""
        return {"test": "lone latency", "limit_s": self.limit_s, "low": self.tests[0].snapshot(),
                "high": self.tests[1].snapshot(), "window": vars(self.state.window)}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Continue from :meth:`snapshot` of the same limit; anything unreadable starts afresh."""
        try:
            if data.get("test") != "lone latency" or float(data["limit_s"]) != self.limit_s:
                return
            window = WindowShare(**{k: type(getattr(WindowShare(), k))(v) for k, v in data["window"].items()})
            plan = self.tests[0].plan
            low, high = (LoneErrorRate(plan, t.state.setting) for t in self.tests)
            low.restore(data["low"])
            high.restore(data["high"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        state = LoneLatencyState(low.state, high.state, window, self.limit_s, *self._fixed)
        if not _invalid(state) and low.state.polls and high.state.polls:
            self.tests, self.state = (low, high), state


def _pct(x: float) -> str:
    return f"{x * 100:.3g} %"


def _ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def _invalid(state: Any) -> str:
    if not isinstance(state, LoneLatencyState):
        return f"not a lone latency state: {type(state).__name__}"
    for name in ("limit_s", "baseline_p95_s", "factor"):
        value = getattr(state, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            return f"{name} is {value!r}"
    if not 0 < state.quantile < 1:
        return f"quantile is {state.quantile!r}"
    if not (isinstance(state.low, LoneState) and isinstance(state.high, LoneState)
            and isinstance(state.window, WindowShare)):
        return "the exceedance tests are missing"
    w = state.window
    if not 0 <= w.above_low <= w.above_high <= w.requests or w.polls < 0:
        return f"the window's counts ({w.above_low}-{w.above_high} slow of {w.requests}) do not fit"
    if state.low.alarm is None and state.high.alarm is None and (
            state.low.requests != w.requests or state.high.requests != w.requests):
        return f"the tests counted {state.low.requests} and {state.high.requests} requests, the window {w.requests}"
    return ""


@criterion(needs="no alarm of either exceedance test (requests certainly and possibly slower than factor x the "
                 "stored baseline p95), requests within max_gap_s, at least min_requests requests over min_polls "
                 "polls and the window's share of possibly slow requests within 1 - q at its upper confidence "
                 "bound (design effect measured between polls)")
def lone_latency(
    state: LoneLatencyState,
    *,
    criterion: str = "p95 latency vs baseline",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The p95-vs-stored-baseline trigger of a lone release, judged afresh every poll."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"invalid lone latency state: {problem}", evidence=tuple(evidence), **kw)
    low = lone_error_rate(state.low, criterion=criterion)
    high = lone_error_rate(state.high, criterion=criterion)
    p = state.low.plan.params
    share = p.limit
    kw["evidence"] = (*evidence, Evidence(
        "lone latency test", f"requests slower than {_ms(state.limit_s)} ({state.factor:g}x the stored baseline "
        f"p{state.quantile * 100:g} {_ms(state.baseline_p95_s)}): dispersion-robust CUSUM p0={p.p0:g} p1={p.p1:g} "
        f"alpha={p.alpha:g}", round(state.low.at_s, 3), state.window.requests, state.to_dict()))
    for v in (low, high):
        if v.status is Status.ERROR:
            return Verdict.error(criterion, f"lone latency test: {v.reason}", **kw)
    w = state.window
    n = w.requests
    lo_share = w.above_low / n if n else math.nan
    hi_share = w.above_high / n if n else math.nan
    q = f"p{state.quantile * 100:g}"
    limit = f"L = {state.factor:g}x the stored baseline {q} {_ms(state.baseline_p95_s)} = {_ms(state.limit_s)}"
    window = (f"{w.above_low}-{w.above_high} of {n} requests slower than {_ms(state.limit_s)} over "
              f"{state.high.at_s:g}s, {w.polls} polls with traffic (alarm under "
              f"{state.low.dispersion or 'no dispersion yet'})")
    if low.status is Status.FAIL and high.status is Status.FAIL and state.low.alarm is not None:
        a = state.low.alarm
        an, ak = a.counts
        return Verdict.failed(
            criterion, ak / an, share,
            f"{q} above {limit}: {_pct(ak / an)} of requests ({ak} of {an} from {a.start_s:g}s to {a.at_s:g}s, "
            f"counting only buckets wholly above L; {_pct(lo_share)}-{_pct(hi_share)} over the window) are slower "
            f"than L, more than the {_pct(share)} a {q} within L allows: rise statistic {a.llr:.3f} reached its "
            f"threshold {a.threshold:.3f} (false-rollback bound {p.alpha:g} over the {state.low.plan.horizon_s:g}s "
            f"window for any dispersion up to the allowed); window: {window}", **kw)
    if n == 0 or state.high.last_traffic_s is None:
        return Verdict.inconclusive(criterion, f"no requests yet in the window ({state.high.at_s:g}s): nothing "
                                               f"to decide on ({limit})", threshold=share, **kw)
    if Status.FAIL in (low.status, high.status):
        why = ("the histogram bucket around L cannot say whether its requests are slower: the requests certainly "
               "slower do not breach, those possibly slower do (finer buckets around L would decide)")
        return Verdict.inconclusive(criterion, f"{_pct(lo_share)}-{_pct(hi_share)} of requests slower than {limit}, "
                                               f"{_pct(share)} allowed: {why}; {window}",
                                    observed=hi_share, threshold=share, **kw)
    quiet = state.high.at_s - state.high.last_traffic_s
    z = NormalDist().inv_cdf(1 - p.beta)
    bound = w.upper_bound(z)
    if quiet > state.high.plan.max_gap_s:
        why = (f"no requests since {state.high.last_traffic_s:g}s of the window ({quiet:g}s, longer than max_gap_s "
               f"{state.high.plan.max_gap_s:g}s): the present is not measured")
    elif n < state.min_requests or w.polls < state.min_polls:
        why = (f"{n} requests over {w.polls} polls, need at least {state.min_requests} over {state.min_polls} "
               "(a share of a handful of requests is noise)")
    elif bound <= share:
        return Verdict.passed(
            criterion, hi_share, share,
            f"{q} within {limit}: {_pct(lo_share)}-{_pct(hi_share)} of requests slower than L, upper "
            f"{(1 - p.beta) * 100:g} % bound {_pct(bound)} (spread between polls included) within the {_pct(share)} "
            f"allowed; no rise detected (false-rollback bound {p.alpha:g} over the "
            f"{state.low.plan.horizon_s:g}s window); {window}", **kw)
    else:
        why = (f"upper {(1 - p.beta) * 100:g} % bound {_pct(bound)} of the share (spread between polls included) "
               "is not yet within it")
    return Verdict.inconclusive(criterion, f"{_pct(lo_share)}-{_pct(hi_share)} of requests slower than {limit}, "
                                           f"{_pct(share)} allowed: {why}; {window}",
                                observed=hi_share, threshold=share, **kw)
