"""Plain threshold criteria: a measured number held against a limit.

Pure functions, no I/O. Missing data (``None``, NaN, too few samples) is INCONCLUSIVE,
never PASS and never FAIL: a gate that cannot see must say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from goldgate.criteria.registry import criterion
from goldgate.verdict import Evidence, Verdict


def _missing(value: float | None) -> bool:
    """None, NaN and ±inf are not measurements: an infinite p95 or rate means a broken source."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _thin(samples: int | None, min_samples: int) -> bool:
    return samples is not None and samples < min_samples


def _compare(
    criterion: str,
    observed: float | None,
    limit: float,
    *,
    upper: bool,
    unit: str,
    samples: int | None,
    min_samples: int,
    evidence: Evidence | Iterable[Evidence],
    rollback: bool,
    inclusive: bool,
) -> Verdict:
    """One rule for both directions, so at_most and at_least cannot drift apart."""
    kw = {"unit": unit, "evidence": evidence, "rollback": rollback}
    if not isinstance(limit, int | float) or isinstance(limit, bool) or not math.isfinite(limit):
        return Verdict.error(criterion, f"the limit {limit!r} is not a finite number", threshold=limit, **kw)
    if _missing(observed):
        return Verdict.inconclusive(criterion, "no measurement", threshold=limit, **kw)
    if _thin(samples, min_samples):
        return Verdict.inconclusive(
            criterion, f"only {samples} samples, need at least {min_samples}",
            observed=observed, threshold=limit, **kw,
        )
    assert observed is not None
    if upper:
        ok = observed <= limit if inclusive else observed < limit
        relation, side = ("<=" if inclusive else "<"), "above"
    else:
        ok = observed >= limit if inclusive else observed > limit
        relation, side = (">=" if inclusive else ">"), "below"
    if ok:
        return Verdict.passed(criterion, observed, limit, f"{observed:g} {relation} {limit:g}", **kw)
    suffix = f" {unit}" if unit else ""
    return Verdict.failed(
        criterion, observed, limit, f"{observed:g}{suffix} is {side} the limit {limit:g}{suffix}", **kw
    )


@criterion(needs="a finite measured value and at least min_samples samples")
def at_most(
    criterion: str,
    observed: float | None,
    limit: float,
    *,
    unit: str = "",
    samples: int | None = None,
    min_samples: int = 1,
    evidence: Evidence | Iterable[Evidence] = (),
    rollback: bool = False,
    inclusive: bool = True,
) -> Verdict:
    """PASS when ``observed <= limit`` (``<`` when not inclusive), FAIL when above."""
    return _compare(criterion, observed, limit, upper=True, unit=unit, samples=samples,
                    min_samples=min_samples, evidence=evidence, rollback=rollback, inclusive=inclusive)


@criterion(needs="a finite measured value and at least min_samples samples")
def at_least(
    criterion: str,
    observed: float | None,
    limit: float,
    *,
    unit: str = "",
    samples: int | None = None,
    min_samples: int = 1,
    evidence: Evidence | Iterable[Evidence] = (),
    rollback: bool = False,
    inclusive: bool = True,
) -> Verdict:
    """PASS when ``observed >= limit`` (``>`` when not inclusive), FAIL when below."""
    return _compare(criterion, observed, limit, upper=False, unit=unit, samples=samples,
                    min_samples=min_samples, evidence=evidence, rollback=rollback, inclusive=inclusive)


@criterion(needs="an observed value (None is no measurement)")
def equals(
    criterion: str,
    observed: object,
    expected: object,
    *,
    evidence: Evidence | Iterable[Evidence] = (),
    rollback: bool = False,
) -> Verdict:
    """PASS when the observed value equals the expected one (versions, status codes)."""
    kw = {"evidence": evidence, "rollback": rollback}
    if observed is None:
        return Verdict.inconclusive(criterion, "no measurement", threshold=expected, **kw)
    if observed == expected:
        return Verdict.passed(criterion, observed, expected, "matches", **kw)
    return Verdict.failed(criterion, observed, expected, f"expected {expected!r}, got {observed!r}", **kw)
