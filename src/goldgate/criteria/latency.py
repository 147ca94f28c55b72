"""p95 latency criteria of guide §6.1 and §8.

* Rollback: p95 above ``factor`` x the baseline, where the baseline is the stable
  version's p95 over the same window or a stored value.
* Alert:    p95 above an absolute budget (guide: 500 ms); a FAIL with ``rollback=False``.

Both need ``min_samples`` requests behind every p95 they compare (the canary's and, for
the relative rule, the baseline's): a quantile of a handful of requests is noise, so it
is INCONCLUSIVE rather than a PASS or a rollback.

No lost trigger: without a baseline the relative rule is INCONCLUSIVE (the release is
not promoted on it); a baseline that is NaN, infinite, zero or negative is a measurement
defect and ERROR (an infinite baseline would pass any canary). Only an explicit waiver
of the environment (``strategy.baseline: none``, :func:`p95_baseline_waived`) takes the
rule out, and the waiver is itself a verdict the reports show.

Like with like (:func:`p95_vs_baseline_like_with_like`): a p95 measured by a load client
includes the client's own overhead (connection set-up, scheduling, parsing), which adds
about the same to both sides and so compresses the ratio towards 1 - a 2.2x slower build
can read under 2x. Both sides are therefore compared as server-side numbers: the
server's own timings where the target exposes them, else the client's p95 minus the
client's measured overhead floor, with the subtraction reported in the verdict. The
queueing above the floor (a busy load generator or node) stays in both and still
compresses; a PASS on client readings must hold even after it (:func:`queueing_doubt`).

Histogram quantiles are intervals (goldgate.probes.metrics.promtext): a p95 read from
buckets is known only to lie in its bucket ``(low, high]``; the interpolated value inside
is an assumption (observations spread evenly). Given the ``interval``, both rules decide
only when the whole interval lies on one side of the limit: above it is a breach, at or
below it a PASS, and a limit inside the bucket is INCONCLUSIVE, with the interval shown
("finer buckets around the limit would decide"). For the relative rule the limit is itself
an interval, ``factor`` x the baseline's bucket. A p95 without an interval (a request
log, a load client's own timings) is an exact value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from goldgate.criteria.registry import criterion as registered
from goldgate.verdict import Evidence, Status, Verdict

__all__ = [
    "LatencyReading",
    "interval_text",
    "p95_above_budget",
    "p95_baseline_waived",
    "p95_vs_baseline",
    "p95_vs_baseline_like_with_like",
    "queueing_doubt",
    "server_equivalent_p95",
]


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.1f} ms"


def _missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


def _too_thin(criterion: str, q: str, p95_s: float | None, samples: int | None, min_samples: int,
              window: str, threshold: float | None, kw: dict[str, Any]) -> Verdict | None:
    """INCONCLUSIVE when there is no p95 or it rests on fewer than ``min_samples`` requests.

    Both latency rules share this: a quantile of a handful of requests is noise, never a
    PASS nor a breach. ``None`` means the p95 is solid enough to be compared.
    """
    if _missing(p95_s):
        return Verdict.inconclusive(criterion, f"no {q} measured{window}", threshold=threshold, **kw)
    if samples is None or samples < min_samples:
        return Verdict.inconclusive(
            criterion, f"{q} {_ms(p95_s)} rests on {samples} requests{window}, need at least "
                       f"{min_samples}", observed=p95_s, threshold=threshold, **kw)
    return None


Interval = tuple[float, float]


def _bad_interval(interval: Any, value: float | None) -> str:
    """Why ``interval`` cannot be a p95's bucket bounds ("" when it can)."""
    if interval is None:
        return ""
    try:
        low, high = (float(x) for x in interval)
    except (TypeError, ValueError):
        return f"bucket interval {interval!r} is not a (low, high) pair"
    if math.isnan(low) or math.isnan(high) or not math.isfinite(low) or low < 0 or high < low:
        return f"bucket interval ({low!r}, {high!r}) is not a bucket of a latency histogram"
    if value is not None and not math.isnan(value) and not low <= value <= high:
        return f"the p95 {value!r} s lies outside its bucket ({low!r}, {high!r})"
    return ""


def _bounds(value: float, interval: Any) -> Interval:
    return (value, value) if interval is None else (float(interval[0]), float(interval[1]))


def interval_text(value: float | None, interval: Any) -> str:
    """``147.5 ms (bucket 100.0-150.0 ms)``: the interpolation and the bucket it rests on."""
    if interval is None:
        return _ms(value)
    low, high = float(interval[0]), float(interval[1])
    top = "+Inf" if math.isinf(high) else f"{high * 1000:.1f}"
    return f"{_ms(value)} (bucket {low * 1000:.1f}-{top} ms)"


def _straddles(criterion: str, what: str, observed: float, threshold: float, kw: dict[str, Any]) -> Verdict:
    return Verdict.inconclusive(
        criterion, f"{what}: the limit lies inside the histogram bucket, so the bucket cannot say on which side "
                   "the true p95 is (finer buckets around the limit would decide)",
        observed=observed, threshold=threshold, **kw)


@registered(needs="a p95 of at least min_samples requests and a finite positive baseline p95 (measured on "
                  "at least min_samples requests unless stored)")
def p95_vs_baseline(
    p95_s: float | None,
    baseline_s: float | None,
    *,
    factor: float,
    min_samples: int,
    samples: int | None,
    baseline_samples: int | None,
    window_s: float | None,
    criterion: str = "p95 latency vs baseline",
    quantile: float = 0.95,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
    interval: Interval | None = None,
    baseline_interval: Interval | None = None,
) -> Verdict:
    """FAIL (rollback) when ``p95_s > factor * baseline_s``.

    ``baseline_samples=None`` means a stored baseline (no sample count to check). No
    baseline is INCONCLUSIVE; a NaN, infinite or non-positive baseline (or factor) is ERROR.
    ``interval`` / ``baseline_interval`` are the histogram buckets the p95s were read from:
    FAIL only when the release's bucket lies wholly above ``factor`` x the baseline's
    bucket, PASS only when wholly at or below it, INCONCLUSIVE otherwise.
    """
    window = f" over {window_s:g}s" if window_s is not None else ""
    kw = {"evidence": tuple(evidence), "rollback": rollback, "unit": "s"}
    q = f"p{quantile * 100:g}"
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 0):
        return Verdict.error(criterion, f"baseline factor is {factor!r}: need a finite positive number", **kw)
    if baseline_s is not None and not (math.isfinite(baseline_s) and baseline_s > 0):
        return Verdict.error(criterion, f"baseline {q} is {baseline_s!r} s: not a measured latency (NaN, infinite "
                                        f"or not positive); the {factor:g}x rule cannot be evaluated", **kw)
    if p95_s is not None and not math.isnan(p95_s) and not (math.isfinite(p95_s) and p95_s >= 0):
        return Verdict.error(criterion, f"{q} is {p95_s!r} s: not a measured latency", **kw)
    bad = _bad_interval(interval, p95_s) or _bad_interval(baseline_interval, baseline_s)
    if bad:
        return Verdict.error(criterion, bad, **kw)
    threshold = None if baseline_s is None else factor * baseline_s
    thin = _too_thin(criterion, q, p95_s, samples, min_samples, window, threshold, kw)
    if thin is not None:
        return thin
    if baseline_s is None or threshold is None:
        return Verdict.inconclusive(criterion, f"no baseline {q} to compare {_ms(p95_s)} with: the {factor:g}x rule "
                                               f"is not evaluated, so it cannot pass", observed=p95_s, **kw)
    if baseline_samples is not None and baseline_samples < min_samples:
        return Verdict.inconclusive(
            criterion, f"baseline {q} {_ms(baseline_s)} rests on {baseline_samples} requests{window}, "
                       f"need at least {min_samples}", observed=p95_s, threshold=threshold, **kw)
    assert p95_s is not None
    ratio = p95_s / baseline_s
    low, high = _bounds(p95_s, interval)
    b_low, b_high = _bounds(baseline_s, baseline_interval)
    limit = _ms(threshold) if baseline_interval is None else (
        f"{_ms(factor * b_low)}-{'+Inf' if math.isinf(b_high) else _ms(factor * b_high)}")
    text = (f"{q} {interval_text(p95_s, interval)} is {ratio:.2f}x the baseline "
            f"{interval_text(baseline_s, baseline_interval)} (limit {factor:g}x = {limit}; {samples} requests{window})")
    if interval is None and baseline_interval is None:
        if p95_s > threshold:
            return Verdict.failed(criterion, p95_s, threshold, text, **kw)
        return Verdict.passed(criterion, p95_s, threshold, text, **kw)
    if low >= factor * b_high:
        return Verdict.failed(criterion, p95_s, threshold, f"{text}: the whole bucket is above the limit", **kw)
    if high <= factor * b_low:
        return Verdict.passed(criterion, p95_s, threshold, f"{text}: the whole bucket is within the limit", **kw)
    return _straddles(criterion, text, p95_s, threshold, kw)


@registered(needs="a p95 of at least min_samples requests and a finite budget")
def p95_above_budget(
    p95_s: float | None,
    *,
    budget_s: float,
    min_samples: int,
    samples: int | None,
    window_s: float | None,
    criterion: str = "p95 latency budget",
    quantile: float = 0.95,
    evidence: Iterable[Evidence] = (),
    rollback: bool = False,
    interval: Interval | None = None,
) -> Verdict:
    """FAIL when ``p95_s > budget_s``; an alert by default (``rollback=False``).

    With the histogram bucket ``interval``: FAIL only when the whole bucket is above the
    budget, PASS only when it is wholly at or below, INCONCLUSIVE when the budget is inside.
    """
    window = f" over {window_s:g}s" if window_s is not None else ""
    kw = {"evidence": tuple(evidence), "rollback": rollback, "unit": "s"}
    q = f"p{quantile * 100:g}"
    if not (isinstance(budget_s, int | float) and math.isfinite(budget_s) and budget_s > 0):
        return Verdict.error(criterion, f"{q} budget is {budget_s!r} s: need a finite positive number", **kw)
    if p95_s is not None and not math.isnan(p95_s) and not (math.isfinite(p95_s) and p95_s >= 0):
        return Verdict.error(criterion, f"{q} is {p95_s!r} s: not a measured latency", **kw)
    bad = _bad_interval(interval, p95_s)
    if bad:
        return Verdict.error(criterion, bad, **kw)
    thin = _too_thin(criterion, q, p95_s, samples, min_samples, window, budget_s, kw)
    if thin is not None:
        return thin
    assert p95_s is not None
    text = f"{q} {interval_text(p95_s, interval)} vs budget {_ms(budget_s)} ({samples} requests{window})"
    if interval is None:
        if p95_s > budget_s:
            return Verdict.failed(criterion, p95_s, budget_s, f"above budget: {text}", **kw)
        return Verdict.passed(criterion, p95_s, budget_s, text, **kw)
    low, high = _bounds(p95_s, interval)
    if low >= budget_s:
        return Verdict.failed(criterion, p95_s, budget_s, f"above budget: {text}: the whole bucket is above it", **kw)
    if high <= budget_s:
        return Verdict.passed(criterion, p95_s, budget_s, f"{text}: the whole bucket is within it", **kw)
    return _straddles(criterion, text, p95_s, budget_s, kw)


@registered(needs="an explicit waiver text from the environment (strategy.baseline: none); never a PASS")
def p95_baseline_waived(
    waiver: str,
    *,
    factor: float,
    criterion: str = "p95 latency vs baseline",
    evidence: Iterable[Evidence] = (),
) -> Verdict:
    """The relative rule taken out by the environment: shown as INCONCLUSIVE, not a trigger.

    The environment declares that no previous version exists to compare with; the verdict
    keeps that declaration visible in verdict.json and Allure (``rollback=False``, so it
    neither holds nor rolls back). Without a waiver text it stays a rollback trigger.
    """
    text = waiver.strip() if isinstance(waiver, str) else ""
    if not text:
        return Verdict.inconclusive(criterion, f"no baseline and no waiver: the {factor!r}x rule is not evaluated",
                                    evidence=tuple(evidence), rollback=True, unit="s")
    return Verdict.inconclusive(criterion, f"WAIVED by the environment ({text}): no baseline exists, the "
                                           f"{factor:g}x rule is not evaluated", evidence=tuple(evidence),
                                rollback=False, unit="s")


@dataclass(frozen=True)
class LatencyReading:
    """A p95 and where it was taken: ``server`` (the target's own timings: its duration
    histogram or request log) or ``client`` (a load runner's clock, which includes its
    overhead; ``overhead_s`` is the client's measured overhead floor)."""

    p95_s: float | None
    samples: int | None
    side: Literal["server", "client"] = "server"
    overhead_s: float | None = None
    source: str = ""
    interval: Interval | None = None  # histogram bucket bounds of a server p95 read from buckets
    queueing_s: float | None = None  # a client reading's queueing at the p95 (see queueing_doubt)


def server_equivalent_p95(reading: LatencyReading) -> tuple[float | None, str]:
    """The reading as a server-side p95, and why it could not be made one ("" when it could).

    A server reading is returned as is; a client reading has its overhead floor subtracted.
    The floor estimates the fixed part of the overhead that every request pays (how it is
    taken, and its bounds, are in :func:`goldgate.criteria.load.overhead_floor_ms`); the
    queueing part of the client's overhead at the p95 stays in, so the corrected p95 is
    still slightly high and the ratio only mildly compressed, far less than the raw one.
    """
    p95 = reading.p95_s
    if p95 is None or not isinstance(p95, int | float) or not math.isfinite(p95) or p95 < 0:
        return None, f"p95 is {p95!r}"
    if reading.side == "server":
        return float(p95), ""
    if reading.side != "client":
        return None, f"unknown side {reading.side!r} (need 'server' or 'client')"
    o = reading.overhead_s
    if o is None:
        return None, "client-side p95 without a measured overhead floor: cannot compare like with like"
    if not (isinstance(o, int | float) and math.isfinite(o) and o >= 0):
        return None, f"client overhead floor is {o!r} s: not a measured overhead"
    if o >= p95:
        return None, f"client overhead floor {_ms(o)} is not below the client p95 {_ms(p95)}"
    return float(p95 - o), ""


@registered(needs="both p95s on at least min_samples requests, each a server-side timing or a client p95 "
                  "with a measured overhead floor below it and its queueing measured")
def p95_vs_baseline_like_with_like(
    candidate: LatencyReading,
    baseline: LatencyReading,
    *,
    factor: float,
    min_samples: int,
    window_s: float | None,
    criterion: str = "p95 latency vs baseline",
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """:func:`p95_vs_baseline` on server-side numbers: both sides carry the same overhead (none).

    For the load runner (``criteria/load.py``): pass the server's own p95 where the target
    exposes it (``side="server"``), else the client's p95 with ``overhead_s``, the floor of
    the client's overhead measured on the same run; the verdict names what was subtracted.
    """
    details: dict[str, Any] = {}
    notes = []
    values = []
    for name, r in (("release", candidate), ("baseline", baseline)):
        if not isinstance(r, LatencyReading):
            return Verdict.error(criterion, f"{name} latency is {type(r).__name__}, not a reading",
                                 evidence=tuple(evidence), rollback=rollback, unit="s")
        value, why = server_equivalent_p95(r)
        if r.p95_s is None or (isinstance(r.p95_s, float) and math.isnan(r.p95_s)):
            return Verdict.inconclusive(criterion, f"no {name} p95 measured", evidence=tuple(evidence),
                                        rollback=rollback, unit="s")
        if value is None:
            kind = Verdict.inconclusive if "without a measured overhead" in why else Verdict.error
            return kind(criterion, f"{name} p95: {why}", evidence=tuple(evidence), rollback=rollback, unit="s")
        details[name] = {"side": r.side, "p95_s": r.p95_s, "overhead_floor_s": r.overhead_s,
                         "server_equivalent_p95_s": value, "samples": r.samples, "source": r.source}
        if r.side == "client":
            notes.append(f"{name} p95 {_ms(r.p95_s)} from the client minus its overhead floor {_ms(r.overhead_s)}")
        else:
            notes.append(f"{name} p95 from server timings{f' ({r.source})' if r.source else ''}")
        values.append(value)
    ev = (*evidence, Evidence("like with like", "server-side p95s", window_s, None, details))
    intervals = [r.interval if r.side == "server" else None for r in (candidate, baseline)]
    verdict = p95_vs_baseline(values[0], values[1], factor=factor, min_samples=min_samples,
                              samples=candidate.samples, baseline_samples=baseline.samples, window_s=window_s,
                              criterion=criterion, evidence=ev, rollback=rollback,
                              interval=intervals[0], baseline_interval=intervals[1])
    if verdict.status is Status.PASS:
        doubt = queueing_doubt(candidate, baseline, values[0], values[1], factor)
        if doubt:
            verdict = Verdict.inconclusive(criterion, doubt, observed=verdict.observed, threshold=verdict.threshold,
                                           evidence=ev, rollback=rollback, unit="s")
    return replace(verdict, reason=f"{verdict.reason} [server-side: {'; '.join(notes)}]")


def queueing_doubt(candidate: LatencyReading, baseline: LatencyReading, release_s: float, baseline_s: float,
                   factor: float) -> str:
    """Why a PASS on client readings cannot be trusted, or "" when it can.

    The floor takes out the overhead every request pays; the queueing the client and the
    hosts add on top (a starved load generator, a busy node) stays in both p95s, about the
    same ``q`` on each side, since both runs go side by side. It compresses the ratio: a
    baseline whose server p95 is ``b - q`` and a release ``factor`` times slower read as
    ``b`` and ``factor * (b - q) + q``. So a PASS holds only at or below that reading; above
    it a slowdown beyond ``factor`` could hide in the queueing, and the rule says so instead
    of passing. ``q`` is the larger of the two sides' queueing (the least spread of a
    route's p95 above its fastest answer, see goldgate.criteria.load.queueing_ms). Server readings carry no
    client queueing and are not questioned here. Measured (bench/latency_contention.py): a
    release about 2.8x slower read 1.7x with sixteen busy loops beside the run, and this
    check turned that PASS into INCONCLUSIVE.
    """
    clients = [r for r in (candidate, baseline) if r.side == "client"]
    if not clients:
        return ""
    known = [r.queueing_s for r in clients if isinstance(r.queueing_s, int | float) and math.isfinite(r.queueing_s)
             and r.queueing_s >= 0]
    if len(known) < len(clients):
        return (f"p95 {_ms(release_s)} is within {factor:g}x the baseline {_ms(baseline_s)} on the load client's "
                f"clock, but the client's queueing at the p95 was not measured (no route with enough answers to "
                f"take it from), so a slowdown beyond {factor:g}x compressed by it cannot be ruled out")
    q = max(known)
    slowest_pass = factor * (baseline_s - q) + q
    if release_s <= slowest_pass:
        return ""
    return (f"p95 {_ms(release_s)} is within {factor:g}x the baseline {_ms(baseline_s)} on the load client's clock, "
            f"but the client and hosts queued {_ms(q)} at the p95: a release {factor:g}x slower than the baseline "
            f"would read as low as {_ms(slowest_pass)}, so a slowdown beyond {factor:g}x may hide in the queueing "
            f"(compare server timings on both sides, or load from a quieter generator)")
