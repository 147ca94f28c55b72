"""The one small interface every metric source implements.

Modelled on Argo Rollouts' metric providers: a source answers a handful of questions
(error ratio, request counts, latency quantile, instant value) over a window for a
selection of pods, and every answer is a :class:`Measurement` that keeps the number
together with how it was obtained. A source never decides pass/fail; the criteria in
:mod:`goldgate.criteria` do, from the measurement alone.

A measurement is in exactly one of three states, and the criteria map them one to one:

* ``value`` is a number               -> the criterion decides (PASS / FAIL)
* ``value`` is None, ``error`` empty  -> measured nothing usable (empty result, NaN,
                                         stale series, no requests) -> INCONCLUSIVE;
                                         ``reason`` says why
* ``error`` is set                    -> could not measure (timeout, refused, HTTP
                                         error, unparsable answer) -> ERROR; the error
                                         names the URL and the cause
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from goldgate.verdict import Evidence

__all__ = [
    "DEFAULT_API_ROUTES",
    "Measurement",
    "MetricSource",
    "RequestCounts",
    "Selector",
]

DEFAULT_API_ROUTES = "/api/.*"
"""Routes that count for error rate and latency: the bot's API, not health or metrics polls.

A regular expression matched against the whole ``route`` label (PromQL ``=~`` semantics).
Liveness, readiness and scrape requests are cheap and frequent; counting them would dilute
the error rate of the requests that matter.
"""


@dataclass(frozen=True)
class Selector:
    """Which pods a question is about: the stable version, the canary, or all of them.

    ``labels`` are Kubernetes-style pod labels (``app=trading-bot``,
    ``pod-template-hash=5d4f...``, ``version=1.4.2``). The Kubernetes discovery passes them
    as a label selector; Prometheus sees them as target labels, with every character that
    is not allowed in a Prometheus label name turned into ``_`` (see :meth:`prometheus_labels`),
    which is what the usual ``labelmap`` relabelling and the sandbox's file-SD targets do.
    ``namespace`` narrows the pods further where the source knows namespaces.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str | None = None

    @classmethod
    def parse(cls, text: str, namespace: str | None = None) -> Selector:
        """``"app=trading-bot,version=1.4.2"`` -> Selector; empty text selects everything."""
        labels: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"selector term {part!r} is not key=value")
            labels[key.strip()] = value.strip()
        return cls(labels, namespace)

    def label_selector(self) -> str:
        """The Kubernetes ``labelSelector`` query string."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    def prometheus_labels(self) -> dict[str, str]:
        return {_prom_label_name(k): v for k, v in sorted(self.labels.items())}

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Equality match, on raw or Prometheus-sanitised label names."""
        return all(
            labels.get(k, labels.get(_prom_label_name(k))) == v for k, v in self.labels.items()
        )

    def __str__(self) -> str:
        text = self.label_selector() or "<all pods>"
        return f"{self.namespace}/{text}" if self.namespace else text


_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def _prom_label_name(name: str) -> str:
    cleaned = _INVALID_LABEL_CHARS.sub("_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() else cleaned


@dataclass(frozen=True)
class RequestCounts:
    """Requests and 5xx errors over a window: what the sequential error-rate test consumes.

    Prometheus' ``increase()`` extrapolates to the window edges and may return fractions;
    :meth:`rounded` gives the whole numbers a Bernoulli test needs.
    """

    total: float
    errors: float

    @property
    def ratio(self) -> float | None:
        return self.errors / self.total if self.total > 0 else None

    def rounded(self) -> tuple[int, int]:
        total = max(0, round(self.total))
        return total, min(total, max(0, round(self.errors)))


@dataclass(frozen=True)
class Measurement:
    """One answer of a metric source, with everything needed to re-run it by hand.

    ``interval`` is set for a quantile read from histogram buckets (see promtext).
    ``samples`` is what the value rests on: requests for an error ratio or a quantile,
    series for an instant value. ``series`` holds the per-pod (per-series) detail as
    plain dicts, e.g. ``{"instance": "127.0.0.1:4101", "total": 812, "errors": 21}``.
    """

    source: str
    query: str
    value: float | None = None
    samples: int = 0
    window_s: float | None = None
    timestamp: float = field(default_factory=time.time)
    series: tuple[Mapping[str, Any], ...] = ()
    counts: RequestCounts | None = None
    reason: str = ""
    error: str = ""
    # A quantile read from histogram buckets: the (low, high] bounds of the bucket it fell
    # into. The true quantile lies there; ``value`` is only the interpolation inside it.
    interval: tuple[float, float] | None = None
    # A quantile read from histogram buckets: the window's cumulative counts, (le, requests at
    # or below it) with +Inf last, for rules that count requests above a limit.
    buckets: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        # NaN is "no data", never a number a criterion could compare.
        if self.value is not None and isinstance(self.value, float) and math.isnan(self.value):
            object.__setattr__(self, "value", None)
            if not self.reason:
                object.__setattr__(self, "reason", "the query returned NaN")
        if not isinstance(self.series, tuple):
            object.__setattr__(self, "series", tuple(self.series))

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.error

    @property
    def failed(self) -> bool:
        """True when the probe could not measure at all (maps to ERROR)."""
        return bool(self.error)

    def evidence(self) -> Evidence:
        details: dict[str, Any] = {"timestamp": self.timestamp}
        if self.counts is not None:
            details["requests"] = self.counts.total
            details["errors"] = self.counts.errors
        if self.series:
            details["series"] = [dict(s) for s in self.series]
        if self.reason:
            details["reason"] = self.reason
        if self.error:
            details["error"] = self.error
        if self.interval is not None:
            details["bucket_interval_s"] = list(self.interval)
        return Evidence(self.source, self.query, self.window_s, self.samples, details)

    def describe(self) -> str:
        """Why there is no value: the error, or the reason, for verdict messages."""
        return self.error or self.reason or "no value"


@runtime_checkable
class MetricSource(Protocol):
    """What the rollback criteria ask of a metric source.

    Errors are responses with status code >= 500 on the API routes (``routes``, default
    :data:`DEFAULT_API_ROUTES`). Every method returns a :class:`Measurement`; none raises
    for a measurement problem.
    """

    name: str

    def request_counts(self, window_s: float, selector: Selector) -> Measurement:
        """Requests and errors over the last ``window_s``; value = error ratio, ``counts`` set."""
        ...

    def error_ratio(self, window_s: float, selector: Selector) -> Measurement:
        """Errors / requests over the last ``window_s`` (0..1)."""
        ...

    def latency_quantile(self, q: float, window_s: float, selector: Selector) -> Measurement:
        """The ``q`` quantile (0..1) of request duration in seconds over ``window_s``."""
        ...

    def instant(self, name_or_query: str, selector: Selector) -> Measurement:
        """The current value of a gauge or query, summed over the selected series."""
        ...
