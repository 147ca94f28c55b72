"""Load-gate criteria: p95 latency, error rate and the baseline ratio under load.

Pure decisions over a :class:`LoadMeasurement` (built from a locust run by
``goldgate.load.measure``), no I/O. Three rules keep a load verdict honest:

* A starved generator measures itself, not the server. When the generating process's
  CPU was pegged, arrivals were dropped, the open-model timetable fell behind, or far
  fewer requests went out than planned, every criterion is INCONCLUSIVE with that
  reason — never a PASS (nor a FAIL) measured on a generator that could not keep up.
* Too few requests is INCONCLUSIVE (``min_requests`` from the environment).
* A run stopped early because a breach was already certain (:func:`breach_certain`,
  like k6's ``abortOnFail``) FAILs the criterion that stopped it, whatever the sample
  count: the arithmetic says no completion of the run could have passed.

The generator limits (:class:`GeneratorLimits`) describe the measuring instrument, not the
release, so they are not thresholds of the guide; they are arguments like every limit
(the environment's load section supplies them, see :func:`goldgate.load.limits.generator_limits`),
and a limit that is not a finite number in range makes every criterion ERROR.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from goldgate.criteria import latency, threshold
from goldgate.criteria.registry import criterion as registered
from goldgate.verdict import Evidence, Verdict

ERROR_RATE = "error rate"
P95_LATENCY = "p95 latency"


@dataclass(frozen=True)
class GeneratorLimits:
    """When the load generator, not the server, is the bottleneck.

    ``max_cpu_percent``: median CPU of the busiest generating process, in percent of one
    core (a gevent process uses one core). ``min_completion``: share of the planned
    open-model arrivals that must have been sent ("achieved rate below 90 % of the
    target"). ``max_send_lag_ms``: p95 of how late the open-model timetable sent.
    """

    max_cpu_percent: float
    min_completion: float
    max_send_lag_ms: float

    def problem(self) -> str:
        """Why these limits cannot judge a generator (not finite, out of range), or ''."""
        bad = []
        for name, value, low, high in (("max_cpu_percent", self.max_cpu_percent, 0.0, math.inf),
                                       ("min_completion", self.min_completion, 0.0, 1.0),
                                       ("max_send_lag_ms", self.max_send_lag_ms, 0.0, math.inf)):
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or not low < value <= high:
                bad.append(f"generator limit {name} {value!r} is not a number in ({low:g}, {high:g}]")
        return "; ".join(bad)


@dataclass(frozen=True)
class LoadMeasurement:
    """The numbers of one load run that the criteria decide on."""

    label: str
    model: str
    requests: int
    errors: int
    p95_ms: float | None
    planned: int | None = None
    dropped: int = 0
    generator_cpu: float | None = None
    send_lag_p95_ms: float | None = None
    aborted: str | None = None
    capped: bool = False
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def aborted_by(self, criterion: str) -> bool:
        return bool(self.aborted and self.aborted.startswith(criterion))


def saturation(m: LoadMeasurement, limits: GeneratorLimits) -> str | None:
    """Why this run's generator could not be trusted, or None when it kept up."""
    if m.generator_cpu is not None and m.generator_cpu >= limits.max_cpu_percent:
        return (f"load generator saturated: its CPU was at {m.generator_cpu:.0f} % of a core "
                f"(limit {limits.max_cpu_percent:g} %)")
    if m.dropped:
        return f"load generator saturated: {m.dropped} scheduled arrivals were dropped (in-flight limit reached)"
    if m.model == "open":
        if m.send_lag_p95_ms is not None and m.send_lag_p95_ms > limits.max_send_lag_ms:
            return (f"load generator saturated: it sent {m.send_lag_p95_ms:.0f} ms late at p95 "
                    f"(limit {limits.max_send_lag_ms:g} ms)")
        if m.planned and not m.aborted and not m.capped:
            done = m.requests / m.planned
            if done < limits.min_completion:
                return (f"load generator saturated: achieved {m.requests} of {m.planned} planned requests "
                        f"({done:.0%}, need {limits.min_completion:.0%} of the target rate)")
    return None


def _gate(criterion: str, m: LoadMeasurement, observed: float | None, threshold: float, unit: str,
          min_requests: int, limits: GeneratorLimits) -> Verdict | None:
    """The INCONCLUSIVE cases shared by every load criterion; None when the data is usable."""
    kw = {"unit": unit, "evidence": m.evidence, "rollback": True}
    unusable = limits.problem()
    if unusable:
        return Verdict.error(criterion, f"{m.label}: {unusable}", threshold=threshold, **kw)
    starved = saturation(m, limits)
    if starved:
        return Verdict.inconclusive(criterion, f"{m.label}: {starved}", observed=observed, threshold=threshold, **kw)
    if m.requests < min_requests:
        return Verdict.inconclusive(
            criterion, f"{m.label}: only {m.requests} requests, need at least {min_requests}",
            observed=observed, threshold=threshold, **kw)
    if observed is None or math.isnan(observed):
        return Verdict.inconclusive(criterion, f"{m.label}: no measurement", threshold=threshold, **kw)
    return None


@registered(needs="min_requests requests from a generator within its limits (or a run stopped on a certain breach)")
def p95_latency_below(m: LoadMeasurement, limit_ms: float, *, min_requests: int,
                      limits: GeneratorLimits) -> Verdict:
    """PASS when the p95 latency under load is within ``limit_ms`` (guide §8.1: alert above 500 ms).

    The decision itself is :func:`goldgate.criteria.latency.p95_above_budget`, the same
    rule the monitoring gates use; this adds the load-specific INCONCLUSIVE and abort cases.
    """
    criterion = f"{P95_LATENCY} under load ({m.label}) below {limit_ms:g} ms"
    if m.aborted_by(P95_LATENCY) and m.p95_ms is not None and not limits.problem() and not saturation(m, limits):
        return Verdict.failed(criterion, m.p95_ms, limit_ms,
                              f"p95 {m.p95_ms:.1f} ms after {m.requests} requests; run stopped early: {m.aborted}",
                              unit="ms", evidence=m.evidence)
    early = _gate(criterion, m, m.p95_ms, limit_ms, "ms", min_requests, limits)
    if early:
        return dataclasses.replace(early, rollback=False)
    assert m.p95_ms is not None
    verdict = latency.p95_above_budget(
        m.p95_ms / 1000, budget_s=limit_ms / 1000, min_samples=min_requests, samples=m.requests,
        window_s=None, criterion=criterion, evidence=m.evidence)
    return _in_ms(verdict, f"{m.model} model")


def _in_ms(verdict: Verdict, note: str) -> Verdict:
    """The shared latency rule works in seconds; a load report reads in milliseconds."""
    def ms(v: object) -> object:
        return round(v * 1000, 3) if isinstance(v, int | float) else v

    return dataclasses.replace(verdict, observed=ms(verdict.observed), threshold=ms(verdict.threshold),
                               unit="ms", reason=f"{verdict.reason}; {note}")


@registered(needs="min_requests requests from a generator within its limits (or a run stopped on a certain breach)")
def error_rate_below(m: LoadMeasurement, limit: float, *, min_requests: int,
                     limits: GeneratorLimits) -> Verdict:
    """PASS when the share of failed requests is below ``limit`` (guide §6.1: rollback above 1 %)."""
    criterion = f"{ERROR_RATE} under load ({m.label}) below {limit:.2%}"
    rate = m.error_rate
    counts = f"{m.errors} errors in {m.requests} requests"
    if m.aborted_by(ERROR_RATE) and rate is not None and not limits.problem() and not saturation(m, limits):
        return Verdict.failed(criterion, rate, limit, f"{counts} ({rate:.2%}); run stopped early: {m.aborted}",
                              evidence=m.evidence, rollback=True)
    early = _gate(criterion, m, rate, limit, "", min_requests, limits)
    if early:
        return early
    verdict = threshold.at_most(criterion, rate, limit, samples=m.requests, min_samples=min_requests,
                                evidence=m.evidence, rollback=True, inclusive=False)
    return dataclasses.replace(verdict, reason=f"{counts} = {rate:.2%}; {verdict.reason}")


@registered(needs="min_requests requests on both the release and the baseline, each from a generator within "
                  "its limits")
def p95_within_baseline(release: LoadMeasurement, baseline: LoadMeasurement, factor: float, *,
                        min_requests: int, limits: GeneratorLimits) -> Verdict:
    """PASS when the release's p95 is at most ``factor`` x the baseline's (guide §6.1: 2x).

    Both sides must be trustworthy measurements under the same load: a starved generator
    on either side is INCONCLUSIVE. The comparison is
    :func:`goldgate.criteria.latency.p95_vs_baseline`, the rollout gates' rule.
    """
    criterion = f"{P95_LATENCY} under load at most {factor:g}x the baseline"
    evidence = (*release.evidence, *baseline.evidence)
    unusable = limits.problem()
    if unusable:
        return Verdict.error(criterion, unusable, threshold=factor, evidence=evidence, rollback=True)
    for side in (baseline, release):
        starved = saturation(side, limits)
        if starved:
            return Verdict.inconclusive(criterion, f"{side.label}: {starved}", threshold=factor,
                                        evidence=evidence, rollback=True)
    verdict = latency.p95_vs_baseline(
        None if release.p95_ms is None else release.p95_ms / 1000,
        None if baseline.p95_ms is None else baseline.p95_ms / 1000,
        factor=factor, min_samples=min_requests, samples=release.requests,
        baseline_samples=baseline.requests, window_s=None, criterion=criterion, evidence=evidence)
    return _in_ms(verdict, f"{release.label} vs {baseline.label}, same load")


@registered(needs="nothing to measure: the run did not happen, so it never passes")
def run_not_possible(what: str, cause: str) -> Verdict:
    """ERROR for a load run that could not be authorized, started or completed (``cause`` says why)."""
    return Verdict.error(what, cause or "no cause given")


@registered(needs="a stored or measured baseline; without one the comparison is undecided")
def baseline_missing(cause: str) -> Verdict:
    """INCONCLUSIVE: the p95 comparison has no baseline to compare with (``cause`` says why)."""
    return Verdict.inconclusive("baseline for the p95 comparison", cause or "no baseline")


def breach_certain(*, requests: int, errors: int, slow: int, planned: int,
                   error_limit: float | None, p95_limit_ms: float | None) -> str | None:
    """Reason to stop the run now because no completion of it could pass, else None.

    ``planned`` is the most requests the run can still reach (the open model's
    timetable, or the hard cap). With ``e`` errors already, the final error rate is at
    least ``e / planned``; with ``s`` requests at or above the latency limit, the final
    nearest-rank p95 is at or above it once ``s > planned - ceil(0.95 planned)``.
    """
    if planned <= 0:
        return None
    if error_limit is not None and errors >= error_limit * planned and errors > 0:
        return (f"{ERROR_RATE}: {errors} errors already; even if all {planned} planned requests were sent "
                f"the rate would be at least {errors / planned:.2%}, not below {error_limit:.2%}")
    if p95_limit_ms is not None:
        allowed = planned - math.ceil(0.95 * planned)
        if slow > allowed:
            return (f"{P95_LATENCY}: {slow} requests already took {p95_limit_ms:g} ms or more; with "
                    f"{planned} planned requests at most {allowed} may, so the p95 cannot end below it")
    return None
