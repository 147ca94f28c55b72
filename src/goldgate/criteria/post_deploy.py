"""Post-deployment decisions: guide §5.3 "error rate should be < 0.1 %" and §3.2 "monitor
for 1+ hour" after a migration.

§5.3 at 0.1 % is a statement about rare events, and rare events need many trials. A
release that served 400 requests without an error has an observed rate of 0 %, yet it has
not shown that its rate is below 0.1 %: a release with a true 0.5 % error rate produces
400 clean requests 13 % of the time. The decision therefore rests on the exact binomial
(Clopper-Pearson) confidence bounds of the error rate ``p`` after ``k`` errors in ``n``
requests, at confidence ``c`` (``alpha = 1 - c``), each bound one-sided:

* upper bound ``U``: the ``p`` with ``P(X <= k | n, p) = alpha``; for ``k = 0`` it is
  ``U = 1 - alpha ** (1 / n)``;
* lower bound ``L``: the ``p`` with ``P(X >= k | n, p) = alpha``; ``L = 0`` for ``k = 0``.

PASS when ``U < limit`` (the rate is below the limit with confidence ``c``), FAIL when
``L > limit`` (it is above, with the same confidence), INCONCLUSIVE otherwise, saying how
many requests would be needed: with ``k`` errors so far, the smallest ``n'`` whose bound
``U(k, n')`` falls under the limit if no further error occurs. With zero errors that is
``n' = ceil(ln(alpha) / ln(1 - limit))``: 2,995 requests for a 95 % bound under 0.1 %.

§7.3 connection draining is judged on requests sent while a pod terminated: any failure
(refused, reset, 5xx) is a request the drain lost.

§3.2's window is a duration: a watch that covered less than the configured
``strategy.migration_monitor_s`` has not monitored "1+ hour", whatever its triggers said; and a
watch after a migration counts only when the whole window lies after the migration committed
(read from the database the release runs on), which its verdict states.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Protocol

from goldgate.criteria.migrations import applied_evidence
from goldgate.criteria.registry import criterion
from goldgate.criteria.timing import duration_evidence, with_duration
from goldgate.verdict import Evidence, Status, Verdict

__all__ = [
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "drained_while_terminating",
    "migration_monitoring_window",
    "post_deploy_error_rate",
    "post_deploy_error_rate_from",
    "requests_needed",
    "shows_status",
]


def _pct(x: float) -> str:
    return f"{x * 100:.3g} %"


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz evaluation)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    """``I_x(a, b)``, the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(n, p)`` = ``I_{1-p}(n - k, k + 1)``."""
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    return _regularized_beta(n - k, k + 1, 1.0 - p)


def _solve_decreasing(f: object, target: float) -> float:
    """The ``p`` in [0, 1] where the decreasing function ``f`` crosses ``target`` (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if f(mid) > target:  # type: ignore[operator]
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson_upper(errors: int, requests: int, confidence: float) -> float:
    """One-sided exact upper bound of the error rate (see the module docstring)."""
    if errors >= requests:
        return 1.0
    alpha = 1.0 - confidence
    if errors == 0:
        return -math.expm1(math.log(alpha) / requests)
    return _solve_decreasing(lambda p: _binomial_cdf(errors, requests, p), alpha)


def clopper_pearson_lower(errors: int, requests: int, confidence: float) -> float:
    """One-sided exact lower bound of the error rate: ``P(X >= k | n, L) = alpha``."""
    if errors <= 0:
        return 0.0
    alpha = 1.0 - confidence
    # P(X >= k) = 1 - P(X <= k-1) rises with p; solve 1 - that = 1 - alpha on the CDF.
    return _solve_decreasing(lambda p: _binomial_cdf(errors - 1, requests, p), 1.0 - alpha)


def requests_needed(errors: int, limit: float, confidence: float) -> int:
    """Fewest requests with ``errors`` errors whose upper bound is below ``limit``."""
    alpha = 1.0 - confidence
    if errors == 0:
        n = math.ceil(math.log(alpha) / math.log1p(-limit))
        return n + 1 if clopper_pearson_upper(0, n, confidence) >= limit else n
    lo = max(errors + 1, 1)
    hi = lo
    while clopper_pearson_upper(errors, hi, confidence) >= limit:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if clopper_pearson_upper(errors, mid, confidence) < limit:
            hi = mid
        else:
            lo = mid + 1
    return hi


def _count(value: object) -> int | None:
    """A whole, finite, non-negative count, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        return None
    return int(value) if value >= 0 else None


@criterion(needs="request and error counts over the post-deploy window, enough requests for the exact "
                 "binomial upper bound at the given confidence to fall below the limit (about 3,000 at 0.1 %, "
                 "95 %, no errors)")
def post_deploy_error_rate(
    requests: int | None,
    errors: int | None,
    *,
    limit: float,
    confidence: float = 0.95,
    window_s: float | None = None,
    criterion: str = "post-deploy error rate",
    evidence: Iterable[Evidence] = (),
) -> Verdict:
    """§5.3: PASS only when the exact upper bound of the error rate is below ``limit``."""
    ev = (*evidence, Evidence("post-deploy", "", window_s, _count(requests),
                              {"requests": requests, "errors": errors, "confidence": confidence}))
    kw = {"evidence": ev}
    if not (isinstance(limit, int | float) and math.isfinite(limit) and 0 < limit < 1):
        return Verdict.error(criterion, f"the limit {limit!r} is not a rate between 0 and 1", threshold=limit, **kw)
    if not (isinstance(confidence, int | float) and math.isfinite(confidence) and 0.5 <= confidence < 1):
        return Verdict.error(criterion, f"the confidence {confidence!r} is not between 0.5 and 1",
                             threshold=limit, **kw)
    n, k = _count(requests), _count(errors)
    if n is None or k is None:
        return Verdict.inconclusive(criterion, f"no usable request counts (requests={requests!r}, "
                                               f"errors={errors!r})", threshold=limit, **kw)
    if k > n:
        return Verdict.error(criterion, f"{k} errors in {n} requests: the counts are inconsistent",
                             threshold=limit, **kw)
    if n == 0:
        needed = requests_needed(0, limit, confidence)
        return Verdict.inconclusive(criterion, f"no requests in the window: at least {needed} requests without "
                                               f"an error are needed for a {_pct(confidence)} bound under "
                                               f"{_pct(limit)}", threshold=limit, **kw)
    rate = k / n
    upper = clopper_pearson_upper(k, n, confidence)
    lower = clopper_pearson_lower(k, n, confidence)
    text = (f"{k} errors in {n} requests = {_pct(rate)}; {_pct(confidence)} exact bounds "
            f"[{lower * 100:.4g} %, {upper * 100:.4g} %] vs limit {_pct(limit)}")
    if upper < limit:
        return Verdict.passed(criterion, rate, limit, f"below the limit with {_pct(confidence)} confidence: {text}",
                              **kw)
    if lower > limit:
        return Verdict.failed(criterion, rate, limit, f"above the limit with {_pct(confidence)} confidence: {text}",
                              **kw)
    needed = requests_needed(k, limit, confidence)
    more = f"{needed} requests in all ({max(0, needed - n)} more) without a further error"
    return Verdict.inconclusive(criterion, f"too few requests to decide: {text}; need {more}",
                                observed=rate, threshold=limit, **kw)


@criterion(needs="a watch that covered at least the configured window, with a PASS from every trigger it "
                 "evaluated (at least one)")
def migration_monitoring_window(
    covered_s: float | None,
    required_s: float,
    triggers: Sequence[Verdict],
    *,
    criterion: str = "post-migration monitoring window",
    evidence: Iterable[Evidence] = (),
    scaled: str = "",
    migration: MigrationLike | None = None,
    watch_started_at: float | None = None,
) -> Verdict:
    """§3.2: the triggers held over a window at least as long as the configured one.

    A breach inside the window is a FAIL whatever the window's length (it was measured);
    anything else short of every trigger passing over the whole window is INCONCLUSIVE.
    ``scaled`` names the window used against the guide's hour (goldgate.durations).

    With ``migration`` (the live database's migration, read at the end of the watch) the
    window must lie wholly after the migration committed: a watch that began
    (``watch_started_at``, epoch seconds) before it watched the old schema for part of the
    window, which is INCONCLUSIVE. When the server keeps no commit time, the first read that
    already saw the revision bounds it; the verdict says the time was unknown.
    """
    ev = (*evidence, *duration_evidence(scaled), Evidence("watch", "", covered_s if isinstance(covered_s, int | float) else None,
                              len(triggers), {"triggers": [v.message() for v in triggers],
                                              "watch_started_at": _iso(watch_started_at)}))
    if migration is not None:
        ev = (*ev, applied_evidence(migration))
    kw = {"evidence": ev, "unit": "s"}
    if not (isinstance(required_s, int | float) and math.isfinite(required_s) and required_s > 0):
        return Verdict.error(criterion, f"the required window {required_s!r} is not a positive duration",
                             threshold=required_s, **kw)
    breached = [v for v in triggers if v.status is Status.FAIL]
    if breached:
        return Verdict.failed(criterion, covered_s, required_s,
                              "breached inside the window: " + "; ".join(v.message() for v in breached), **kw)
    if not isinstance(covered_s, int | float) or not math.isfinite(covered_s) or covered_s < 0:
        return Verdict.inconclusive(criterion, f"the window covered is unknown ({covered_s!r})",
                                    threshold=required_s, **kw)
    if covered_s < required_s:
        return Verdict.inconclusive(criterion, with_duration(f"watched {covered_s:g} s of the required "
                                                             f"{required_s:g} s", scaled),
                                    observed=covered_s, threshold=required_s, **kw)
    if not triggers:
        return Verdict.inconclusive(criterion, "no trigger was evaluated over the window",
                                    observed=covered_s, threshold=required_s, **kw)
    undecided = [v for v in triggers if v.status is not Status.PASS]
    if undecided:
        return Verdict.inconclusive(criterion, "not every trigger passed: " + "; ".join(v.message() for v in undecided),
                                    observed=covered_s, threshold=required_s, **kw)
    after = ""
    if migration is not None:
        after, unmet = _after_migration(migration, watch_started_at)
        if unmet:
            return Verdict.inconclusive(criterion, unmet, observed=covered_s, threshold=required_s, **kw)
    names = ", ".join(v.criterion.split(" (")[0] for v in triggers)
    return Verdict.passed(criterion, covered_s, required_s,
                          with_duration(f"watched {covered_s:g} s (required {required_s:g} s){after}; {names} "
                                        "passed", scaled), **kw)


class MigrationLike(Protocol):
    """The live database's migration as :mod:`goldgate.probes.applied_migration` reads it."""

    source: str
    committed_at: dt.datetime | None
    commit_note: str
    read_locally_at: float
    seen_since: float | None

    @property
    def revision(self) -> str | None: ...

    def committed_locally_at(self) -> float | None: ...


def _iso(epoch: object) -> object:
    """An epoch time as ISO 8601 (UTC) for the evidence; anything else as it came."""
    if not _finite(epoch):
        return epoch
    try:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")  # type: ignore[arg-type]
    except (OverflowError, OSError, ValueError):
        return epoch


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _after_migration(m: MigrationLike, started: float | None) -> tuple[str, str]:
    """(the PASS message's clause, the reason it does not count) of a watch after ``m``."""
    revision = getattr(m, "revision", None)
    if not revision:
        return "", "no migration is recorded in the database the release runs on: nothing was watched after one"
    if not _finite(started):
        return "", f"the watch's start is unknown ({started!r}): it cannot be placed after migration {revision}"
    committed = m.committed_locally_at() if callable(getattr(m, "committed_locally_at", None)) else None
    if _finite(committed):
        when = m.committed_at.isoformat(timespec="seconds") if isinstance(m.committed_at, dt.datetime) else "?"
        if committed > started:  # type: ignore[operator]
            return "", (f"the watch began {committed - started:.1f} s before migration {revision} committed "  # type: ignore[operator]
                        f"({when}): part of the window watched the schema before it, so it does not count")
        return (f", wholly after migration {revision} committed at {when} ({started - committed:.1f} s before the "  # type: ignore[operator]
                "watch began)"), ""
    seen = getattr(m, "seen_since", None)
    seen = seen if _finite(seen) else getattr(m, "read_locally_at", None)
    note = getattr(m, "commit_note", "") or "not read"
    if not _finite(seen) or seen > started:  # type: ignore[operator]
        return "", (f"migration {revision}'s commit time is unknown ({note}) and it was not seen applied before the "
                    "watch began: the window cannot be placed after it")
    return (f", after migration {revision} (commit time unknown: {note}; already applied when read "
            f"{started - seen:.1f} s before the watch began)"), ""  # type: ignore[operator]


class _CountsLike(Protocol):
    def rounded(self) -> tuple[int, int]: ...


class MeasurementLike(Protocol):
    counts: _CountsLike | None
    window_s: float | None
    error: str
    reason: str

    def evidence(self) -> Evidence: ...


@criterion(needs="a metric source's request counts over the post-deploy window (see post_deploy_error_rate)")
def post_deploy_error_rate_from(measurement: MeasurementLike, *, limit: float, confidence: float = 0.95,
                                criterion: str = "post-deploy error rate") -> Verdict:
    """§5.3 on a metric source's answer: ERROR if it could not measure, INCONCLUSIVE without counts."""
    ev = measurement.evidence()
    if measurement.error:
        return Verdict.error(criterion, f"could not measure: {measurement.error}", threshold=limit, evidence=ev)
    if measurement.counts is None:
        return Verdict.inconclusive(criterion, f"no request counts: {measurement.reason or 'empty result'}",
                                    threshold=limit, evidence=ev)
    requests, errors = measurement.counts.rounded()
    return post_deploy_error_rate(requests, errors, limit=limit, confidence=confidence,
                                  window_s=measurement.window_s, criterion=criterion, evidence=(ev,))


@criterion(needs="requests sent while a pod terminated (at least min_requests), with a pod actually deleted")
def drained_while_terminating(sent: int | None, failed: int | None, *, pods_deleted: int, min_requests: int,
                              criterion: str = "connection draining", evidence: Iterable[Evidence] = ()) -> Verdict:
    """§7.3: no request sent while a pod drained may fail (refused, reset, 5xx)."""
    kw = {"evidence": tuple(evidence), "unit": "failed requests"}
    n, k = _count(sent), _count(failed)
    if n is None or k is None or k > n:
        return Verdict.inconclusive(criterion, f"no usable counts (sent={sent!r}, failed={failed!r})", threshold=0,
                                    **kw)
    if not isinstance(pods_deleted, int) or pods_deleted < 1:
        return Verdict.inconclusive(criterion, "no pod terminated during the requests: nothing drained",
                                    threshold=0, **kw)
    if k > 0:
        return Verdict.failed(criterion, k, 0, f"{k} of {n} requests failed while {pods_deleted} pod(s) "
                                               "terminated", **kw)
    if n < min_requests:
        return Verdict.inconclusive(criterion, f"only {n} requests sent, need at least {min_requests}",
                                    observed=k, threshold=0, **kw)
    return Verdict.passed(criterion, 0, 0, f"all {n} requests finished while {pods_deleted} pod(s) terminated", **kw)


@criterion(needs="a verdict of the check under rehearsal and the status it is expected to end in")
def shows_status(verdict: Verdict | None, expected: Status, *, criterion: str) -> Verdict:
    """A rehearsal of goldgate itself: the check under test must end in ``expected``.

    Used where the honest answer is not PASS (a watch shorter than its window must say
    INCONCLUSIVE); the rehearsal passes only when the check said exactly that.
    """
    if not isinstance(verdict, Verdict) or not isinstance(expected, Status):
        return Verdict.inconclusive(criterion, "no verdict of the check to compare", threshold=str(expected))
    if expected is Status.PASS:
        return Verdict.error(criterion, "a rehearsal compares a non-PASS outcome; use the check itself for PASS",
                             threshold=expected.value, evidence=verdict.evidence)
    if verdict.status is expected:
        return Verdict.passed(criterion, verdict.status.value, expected.value, verdict.message(),
                              evidence=verdict.evidence)
    return Verdict.failed(criterion, verdict.status.value, expected.value, f"the check said {verdict.message()}",
                          evidence=verdict.evidence)
