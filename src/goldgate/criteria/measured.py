"""Bridge from a metric source's Measurement to a criterion's Verdict.

Kept separate so the criteria stay pure functions of numbers: this module only maps the
three states of a measurement (could not measure / measured nothing / measured a value)
onto ERROR / INCONCLUSIVE / the criterion's own decision. It relies on the
Measurement's attributes only (duck typing), not on any probe module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from goldgate.criteria.registry import criterion as registered
from goldgate.criteria.resources import DiskReading
from goldgate.criteria.sprt import SequentialErrorRate, SprtParams, error_rate_sprt
from goldgate.verdict import Evidence, Verdict

__all__ = [
    "MeasurementLike",
    "decide",
    "disk_readings",
    "error_rate_from",
    "feed_sequential",
    "measure_and_judge",
    "probe_failed",
    "unmeasured",
]

T = TypeVar("T")


class MeasurementLike(Protocol):
    value: float | None
    samples: int
    window_s: float | None
    counts: Any
    error: str
    reason: str

    def evidence(self) -> Evidence: ...


@registered(needs="a measurement without error that carries a value; then whatever the judge needs")
def decide(
    measurement: MeasurementLike,
    criterion: str,
    threshold: Any,
    judge: Callable[[float, int, Evidence], Verdict],
    *,
    unit: str = "",
    rollback: bool = False,
) -> Verdict:
    """ERROR if the probe failed, INCONCLUSIVE without a value, else ``judge(value, samples, evidence)``."""
    ev = measurement.evidence()
    kw = {"evidence": ev, "unit": unit, "rollback": rollback}
    if measurement.error:
        return Verdict.error(criterion, f"could not measure: {measurement.error}",
                             threshold=threshold, **kw)
    if measurement.value is None:
        return Verdict.inconclusive(criterion, f"no value: {measurement.reason or 'empty result'}",
                                    threshold=threshold, **kw)
    return judge(measurement.value, measurement.samples, ev)


@registered(needs="a probe that answered; then whatever the judge needs")
def measure_and_judge(
    criterion: str,
    measure: Callable[[], T],
    judge: Callable[[T], Verdict],
    unavailable: tuple[type[Exception], ...],
) -> Verdict:
    """Measure, then judge; a probe that cannot measure is an ERROR naming what and where.

    ``unavailable`` lists the probes' "could not measure" exceptions (their messages name
    the path or URL and the cause). Any other exception is a defect and propagates.
    """
    try:
        value = measure()
    except unavailable as exc:
        return Verdict.error(criterion, str(exc))
    return judge(value)


@registered(needs="request counts of one window, enough for the sequential test to accept 'healthy'")
def error_rate_from(measurement: MeasurementLike, params: SprtParams, *,
                    criterion: str = "error rate", rollback: bool = True) -> Verdict:
    """The SPRT on a measurement's request counts (one look at one window)."""
    ev = measurement.evidence()
    if measurement.error:
        return Verdict.error(criterion, f"could not measure: {measurement.error}",
                             threshold=params.limit, evidence=ev, rollback=rollback)
    if measurement.counts is None:
        return Verdict.inconclusive(criterion, f"no request counts: {measurement.reason or 'empty result'}",
                                    threshold=params.limit, evidence=ev, rollback=rollback)
    requests, errors = measurement.counts.rounded()
    return error_rate_sprt(requests, errors, params, criterion=criterion,
                           window_s=measurement.window_s, evidence=(ev,), rollback=rollback)


@registered(needs="request counts fed until the sequential test accepts 'healthy'")
def feed_sequential(test: SequentialErrorRate, measurement: MeasurementLike) -> Verdict:
    """Add one poll interval's request counts to a running sequential test.

    A failed measurement is an ERROR verdict for this poll and adds nothing; a poll without
    counts adds nothing either. Otherwise the verdict is the test's state after the update
    (INCONCLUSIVE until it crosses a bound, then FAIL or PASS for good).
    """
    if measurement.error:
        return Verdict.error(test.criterion, f"could not measure: {measurement.error}",
                             threshold=test.params.limit, evidence=measurement.evidence(),
                             rollback=test.rollback)
    if measurement.counts is not None:
        requests, errors = measurement.counts.rounded()
        test.update(requests, errors, elapsed_s=measurement.window_s or 0.0,
                    evidence=measurement.evidence())
    return test.verdict()


@registered(needs="nothing can pass here: a probe that could not measure is always ERROR")
def probe_failed(criterion: str, cause: str, *, threshold: Any = None, evidence: Any = (),
                 rollback: bool = False) -> Verdict:
    """ERROR for a probe that raised its "unavailable" exception; ``cause`` names what and where."""
    text = str(cause).strip() or "the probe gave no cause"
    return Verdict.error(criterion, text, threshold=threshold, evidence=evidence, rollback=rollback)


@registered(needs="nothing can pass here: returns ERROR or INCONCLUSIVE for an unusable measurement, else None")
def unmeasured(measurement: MeasurementLike, criterion: str, *, need: str = "value", threshold: Any = None,
               rollback: bool = False, what: str = "", evidence: Any = None) -> Verdict | None:
    """The verdict of a measurement the criterion cannot use, or ``None`` when it can.

    ERROR when the probe could not measure (its message names the URL and cause),
    INCONCLUSIVE when it measured nothing: no value (``need="value"``) or no request counts
    (``need="counts"``). ``what`` prefixes the message (``"baseline"``).
    """
    ev = measurement.evidence() if evidence is None else evidence
    prefix = f"{what} " if what else ""
    if measurement.error:
        return Verdict.error(criterion, f"{prefix}could not measure: {measurement.error}", threshold=threshold,
                             evidence=ev, rollback=rollback)
    missing = measurement.counts is None if need == "counts" else measurement.value is None
    if missing:
        label = "request counts" if need == "counts" else "value"
        return Verdict.inconclusive(criterion, f"{prefix}no {label}: {measurement.reason or 'empty result'}",
                                    threshold=threshold, evidence=ev, rollback=rollback)
    return None


def disk_readings(avail: MeasurementLike, size: MeasurementLike) -> list[DiskReading]:
    """Pair per-pod ``node_filesystem_avail_bytes`` and ``..._size_bytes`` series.

    Series are matched on their ``pod`` (else ``instance``) and ``mountpoint`` labels, so
    the answer of either metric source works. A volume missing one of the two readings is
    kept with ``None`` (the criterion treats it as no reading).
    """
    def by_volume(m: MeasurementLike) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for s in getattr(m, "series", ()):
            key = (str(s.get("pod") or s.get("instance") or ""), str(s.get("mountpoint", "")))
            out[key] = float(s["value"])
        return out

    a, z = by_volume(avail), by_volume(size)
    return [DiskReading(pod, a.get((pod, mp)), z.get((pod, mp)), mp)
            for pod, mp in sorted(set(a) | set(z))]
