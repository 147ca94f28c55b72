"""Bridge from a metric source's Measurement to a criterion's Verdict.

Kept separate so the criteria stay pure functions of numbers: this module only maps the
three states of a measurement (could not measure / measured nothing / measured a value)
onto ERROR / INCONCLUSIVE / the criterion's own decision. It relies on the
Measurement's attributes only (duck typing), not on any probe module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from goldgate.criteria.resources import DiskReading
from goldgate.criteria.sprt import SequentialErrorRate, SprtParams, error_rate_sprt
from goldgate.verdict import Evidence, Verdict

__all__ = ["MeasurementLike", "decide", "disk_readings", "error_rate_from", "feed_sequential", "measure_and_judge"]

T = TypeVar("T")


class MeasurementLike(Protocol):
    value: float | None
    samples: int
    window_s: float | None
    counts: Any
    error: str
    reason: str

    def evidence(self) -> Evidence: ...


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
