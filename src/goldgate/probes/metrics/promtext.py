"""Prometheus text exposition: parsing a ``/metrics`` page and the histogram quantile.

Kept apart from the scrape source so the arithmetic can be tested without HTTP.

:func:`histogram_quantile` follows the rule Prometheus documents for its function of the
same name: find the bucket the rank ``q * count`` falls into and interpolate linearly
between that bucket's lower and upper bound, assuming observations are spread evenly
inside it. Its resolution limit is therefore the bucket width: a true p95 of 0.16 s and
one of 0.19 s both land in the (0.15, 0.2] bucket and are reported by where the rank
falls inside it, not by the real values. When the rank lands in the ``+Inf`` bucket the
answer is the highest finite bound (a lower bound of the truth); below the first bound
the lower edge is 0.

So a quantile read from buckets is an interval, not a number:
:func:`histogram_quantile_interval` returns the bucket's bounds with the interpolated
value, and the latency criteria decide only when the whole interval lies on one side of
their limit (README "Numbers read from histogram buckets are intervals").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["QuantileInterval", "Sample", "histogram_quantile", "histogram_quantile_interval", "parse_metrics"]

LabelSet = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: LabelSet
    value: float

    def label(self, key: str, default: str = "") -> str:
        return dict(self.labels).get(key, default)


def parse_metrics(text: str) -> dict[tuple[str, LabelSet], float]:
    """``{(sample name, sorted labels): value}`` of one exposition page.

    Raises ``ValueError`` on text that is not Prometheus exposition format.
    """
    out: dict[tuple[str, LabelSet], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


def _le(text: str) -> float:
    return math.inf if text in ("+Inf", "Inf", "inf") else float(text)


def histogram_quantile(q: float, buckets: Mapping[str, float] | Iterable[tuple[float, float]]
                       ) -> float | None:
    """The ``q`` quantile from cumulative bucket counts ``{le: count}``; None without data.

    ``buckets`` may use ``le`` strings as exposed (``"0.1"``, ``"+Inf"``) or float bounds.
    Returns None (not NaN) when the total count is zero or there is no ``+Inf`` bucket,
    so that "no data" can never be compared to a threshold by accident.
    """
    found = histogram_quantile_interval(q, buckets)
    return None if found is None else found.value


@dataclass(frozen=True)
class QuantileInterval:
    """A quantile read from buckets: the interpolated ``value`` and the bounds of the bucket
    the rank fell into. The true quantile lies in ``(low, high]``; ``high`` is ``inf`` when
    the rank fell into the ``+Inf`` bucket (then ``value`` is ``low``, a lower bound)."""

    value: float
    low: float
    high: float

    def as_tuple(self) -> tuple[float, float]:
        return (self.low, self.high)


def histogram_quantile_interval(q: float, buckets: Mapping[str, float] | Iterable[tuple[float, float]]
                                ) -> QuantileInterval | None:
    """:func:`histogram_quantile` with the bucket bounds around it; None without data."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be within [0, 1], got {q!r}")
    items = buckets.items() if isinstance(buckets, Mapping) else buckets
    pairs = sorted((_le(b) if isinstance(b, str) else float(b), float(c)) for b, c in items)
    if not pairs or not math.isinf(pairs[-1][0]):
        return None
    # Cumulative counts must not fall with rising bounds; scrape deltas can break that
    # slightly when buckets are read at different instants, so repair it like Prometheus.
    fixed: list[tuple[float, float]] = []
    running = 0.0
    for bound, count in pairs:
        running = max(running, count)
        fixed.append((bound, running))
    total = fixed[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for i, (bound, count) in enumerate(fixed):
        if count >= rank and count > 0:
            if math.isinf(bound):
                if i == 0:
                    return None
                return QuantileInterval(fixed[i - 1][0], fixed[i - 1][0], math.inf)
            if i == 0 and bound <= 0:
                return QuantileInterval(bound, min(bound, 0.0), bound)
            in_bucket = count - lower_count
            if in_bucket <= 0:
                return QuantileInterval(bound, lower_bound, bound)
            value = lower_bound + (bound - lower_bound) * (rank - lower_count) / in_bucket
            return QuantileInterval(value, lower_bound, bound)
        lower_bound, lower_count = bound, count
    if len(fixed) > 1:
        return QuantileInterval(fixed[-2][0], fixed[-2][0], math.inf)
    return None
