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

The baseline ratio compares like with like (:func:`p95_within_baseline`): the server's own
timings of both runs where both targets expose them, else the client's p95s each minus
the client's overhead floor of its own run, named in the verdict; a client p95 without a
floor is INCONCLUSIVE, because the client's overhead compresses the ratio towards 1.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from goldgate.criteria import latency, threshold
from goldgate.criteria.latency import LatencyReading
from goldgate.criteria.registry import criterion as registered
from goldgate.probes.server_timings import ServerTimings
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
class ClientTimings:
    """The load client's own clock, on the routes the server's timings count.

    ``routes`` is the same expression the server side filters by (``metrics.routes``), so
    ``p95_ms`` and ``requests`` hold the requests the server's histogram holds. ``min_ms``
    is the smallest latency of a successful request on those routes; ``cheapest_route``
    and ``cheapest_min_ms`` the route of the whole run whose fastest successful answer was
    the fastest, and that answer (the overhead floor when no server minimum is known).
    ``spreads`` holds, for every route of the run, its successful answers, their p95 and
    the fastest: how far a route's p95 lies above its fastest answer contains the queueing
    the client and the hosts add at the p95 (:func:`queueing_ms`).
    """

    routes: str
    p95_ms: float | None
    requests: int
    min_ms: float | None = None
    cheapest_route: str = ""
    cheapest_min_ms: float | None = None
    spreads: tuple[RouteSpread, ...] = ()


@dataclass(frozen=True)
class RouteSpread:
    """One route's successful answers of a run: how many, their p95 and the fastest (ms)."""

    route: str
    answers: int
    p95_ms: float
    fastest_ms: float


@dataclass(frozen=True)
class LoadMeasurement:
    """The numbers of one load run that the criteria decide on.

    ``client`` and ``server`` are the timings the baseline ratio compares like with like
    (None when not measured, e.g. a stored baseline from before they were recorded).
    """

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
    client: ClientTimings | None = None
    server: ServerTimings | None = None

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


def overhead_floor_ms(client: ClientTimings, server: ServerTimings | None) -> tuple[float | None, str]:
    """The client's overhead floor of one run (ms) and how it was obtained ("" reason when none).

    With the server's smallest time known exactly (a request log): the smallest client
    latency on the compared routes minus it. That lies between the smallest overhead of
    the run and the overhead the server's fastest request really paid: a measured overhead,
    not an estimate above what any request paid.

    Else the smallest client latency on the cheapest route of the run (a health poll
    where the plan sends one): one real request's overhead plus that route's own fastest
    server time (well under a millisecond for a health answer in the reference bot).

    Why subtracting it is on the safe side: it removes about the fixed part of the
    overhead, which every request pays, from both p95s; the queueing part of the client's
    overhead at the p95 is larger and stays in both, so the corrected p95s stay above the
    server's and their ratio is still pulled a little towards 1 -- far less than the raw
    client p95s' (bench/latency_ratio.py measures both against the server's truth). The
    only overshoot, the cheapest route's own server time, moves the ratio away from 1,
    towards a FAIL. A histogram knows the smallest server time only to within a bucket
    (5 to 50 ms wide), so its minimum is not used.
    """
    if server is not None and isinstance(server, ServerTimings) and server.min_s is not None \
            and client.min_ms is not None:
        return client.min_ms - server.min_s * 1000, (
            f"smallest client latency {client.min_ms:.1f} ms minus smallest server latency "
            f"{server.min_s * 1000:.1f} ms")
    if client.cheapest_min_ms is not None:
        return client.cheapest_min_ms, (f"smallest client latency on the cheapest route "
                                        f"({client.cheapest_route or 'unnamed'})")
    return None, "no successful request to take a floor from"


SERVED_SHARE_MIN = 0.5  # server timings counting fewer of the load's requests are of other servers
QUEUEING_MIN_ANSWERS = 10  # answers on a route before its p95 says anything about queueing


def queueing_ms(client: ClientTimings) -> tuple[float | None, str]:
    """The queueing the client and hosts add at the p95 (ms) and the route it was read on.

    Every answer waits on the way (the load generator's scheduling, a busy node,
    connection queues), so every route's p95 above its fastest answer contains that wait;
    a route adds its own variation on top, so the least spread of the routes with at least
    ``QUEUEING_MIN_ANSWERS`` answers is the closest reading of the queueing alone (a health
    poll's, where the plan sends enough of them). None when no route has enough answers.
    """
    best: tuple[float, str] | None = None
    for s in client.spreads if isinstance(client.spreads, tuple) else ():
        if not isinstance(s, RouteSpread) or s.answers < QUEUEING_MIN_ANSWERS:
            continue
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in (s.p95_ms, s.fastest_ms)):
            continue
        spread = max(0.0, s.p95_ms - s.fastest_ms)
        if best is None or spread < best[0]:
            best = (spread, s.route)
    return (None, "") if best is None else best


def _s(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _server_reading(side: LoadMeasurement, server: object) -> tuple[LatencyReading | None, str]:
    """The side's server-side reading, or why it has none."""
    if server is None:
        return None, "no server timings"
    if not isinstance(server, ServerTimings):
        return None, f"server timings are {type(server).__name__}, not a reading"
    why = server.why_not()
    if why:
        return None, why
    sent = side.client.requests if isinstance(side.client, ClientTimings) else 0
    if isinstance(server.requests, int) and sent > 0 and server.requests < sent * SERVED_SHARE_MIN:
        # other traffic may add to the server's count; far fewer than the load sent means
        # these timings are of other servers than the ones the load reached
        return None, (f"the server timings count {server.requests} requests on {server.routes} where the load "
                      f"sent {sent}: not the servers the load reached")
    return LatencyReading(server.p95_s, server.requests, "server", source=server.source,
                          interval=server.interval), ""


def _client_reading(side: LoadMeasurement, server: object) -> tuple[LatencyReading, str]:
    """The side's client reading with its overhead floor (None when there is none) and how."""
    c = side.client
    if not isinstance(c, ClientTimings):
        return (LatencyReading(_s(side.p95_ms), side.requests, "client", None, f"{side.label}: load client"),
                "no per-route client timings, so no overhead floor")
    floor, how = overhead_floor_ms(c, server if isinstance(server, ServerTimings) else None)
    return LatencyReading(_s(c.p95_ms), c.requests, "client", _s(floor),
                          f"{side.label}: load client on {c.routes}", queueing_s=_s(queueing_ms(c)[0])), how


def _clients_for_reference(release: LoadMeasurement, baseline: LoadMeasurement) -> str:
    """The client p95s beside the server's, so a reader sees how much the overhead compressed."""
    def one(side: LoadMeasurement) -> str:
        c = side.client
        if isinstance(c, ClientTimings) and c.p95_ms is not None:
            return f"{side.label} {c.p95_ms:.1f} ms on {c.requests} requests"
        return f"{side.label} {'n/a' if side.p95_ms is None else f'{side.p95_ms:.1f} ms'} (all routes)"

    return f"client p95s, not compared: {one(release)}, {one(baseline)}"


def like_with_like_readings(release: LoadMeasurement, baseline: LoadMeasurement, release_server: object,
                            baseline_server: object) -> tuple[LatencyReading, LatencyReading, list[str]]:
    """Which reading each side is compared on, and notes naming the choice.

    Server timings on both sides: those. Else both client p95s minus their floors (the
    same instrument on both sides, so the overhead left over is about the same). Only when
    a side has no floor, each side's best reading: server timings, else its client p95 —
    with no floor the comparison is INCONCLUSIVE (see latency.p95_vs_baseline_like_with_like).
    """
    rs, r_why = _server_reading(release, release_server)
    bs, b_why = _server_reading(baseline, baseline_server)
    if rs is not None and bs is not None:
        return rs, bs, [_clients_for_reference(release, baseline)]
    notes = [f"{name} server timings not used: {why}" for name, why in (("release", r_why), ("baseline", b_why))
             if why]
    rc, r_how = _client_reading(release, release_server)
    bc, b_how = _client_reading(baseline, baseline_server)
    notes += [f"{name} overhead floor: {how}" for name, how in (("release", r_how), ("baseline", b_how))]
    if rc.overhead_s is not None and bc.overhead_s is not None:
        return rc, bc, notes
    return (rs if rs is not None else rc), (bs if bs is not None else bc), notes


@registered(needs="min_requests requests on both the release and the baseline, each from a generator within "
                  "its limits, compared as server timings on both sides or as client p95s minus a measured "
                  "overhead floor and their queueing, which a PASS must survive")
def p95_within_baseline(release: LoadMeasurement, baseline: LoadMeasurement, factor: float, *,
                        min_requests: int, limits: GeneratorLimits, release_server: ServerTimings | None = None,
                        baseline_server: ServerTimings | None = None) -> Verdict:
    """PASS when the release's p95 is at most ``factor`` x the baseline's (guide §6.1: 2x).

    Both sides must be trustworthy measurements under the same load: a starved generator
    on either side is INCONCLUSIVE. The numbers compared are like with like
    (:func:`like_with_like_readings`, decided by
    :func:`goldgate.criteria.latency.p95_vs_baseline_like_with_like`): the raw client p95s
    carry the client's overhead on both sides, which compresses the ratio towards 1 and
    would pass a release slightly more than 2x slower. ``release_server`` /
    ``baseline_server`` default to the measurements' own ``server`` timings.
    """
    criterion = f"{P95_LATENCY} under load at most {factor:g}x the baseline"
    rs = release_server if release_server is not None else release.server
    bs = baseline_server if baseline_server is not None else baseline.server
    evidence = (*release.evidence, *baseline.evidence,
                *(s.evidence() for s in (rs, bs) if isinstance(s, ServerTimings)))
    unusable = limits.problem()
    if unusable:
        return Verdict.error(criterion, unusable, threshold=factor, evidence=evidence, rollback=True)
    for side in (baseline, release):
        starved = saturation(side, limits)
        if starved:
            return Verdict.inconclusive(criterion, f"{side.label}: {starved}", threshold=factor,
                                        evidence=evidence, rollback=True)
    for name, timing in (("release", rs), ("baseline", bs)):
        value = timing.p95_s if isinstance(timing, ServerTimings) and not timing.error else None
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            # a server that reports this has a defect; falling back to the client would hide it
            return Verdict.error(criterion, f"{name} server p95 is {value!r} s ({timing.source}): not a measured "
                                            f"latency", threshold=factor, evidence=evidence, rollback=True)
    r, b, notes = like_with_like_readings(release, baseline, rs, bs)
    verdict = latency.p95_vs_baseline_like_with_like(
        r, b, factor=factor, min_samples=min_requests, window_s=None, criterion=criterion, evidence=evidence)
    note = "; ".join([f"{release.label} vs {baseline.label}, same load", *notes])
    return _in_ms(verdict, note)


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
