"""The server's own p95 over one load window: what the p95-vs-baseline rule compares.

A load client's clock adds its own overhead (connection set-up, scheduling, parsing) to
both sides of the §6.1 "p95 at most 2x the baseline" rule, which compresses the ratio
towards 1 (see :mod:`goldgate.criteria.latency`). The server's duration histogram has no
such overhead, so this probe reads it over exactly the window of one load run:

* :class:`PodWindow`: the release's pods through the environment's metric source
  (``metrics.source``: Prometheus, or the pods' ``/metrics`` found through Kubernetes),
  the same reading the rollout monitor takes. Open it before the run, :meth:`close` it
  after.
* :class:`ProcessWindow`: one process's ``<url>/metrics`` scraped before and after the
  run (the stable bot a plugin starts for the baseline, a standby URL). The bucket deltas
  are one process's histogram only when both scrapes read the same process: a Service in
  front of several pods answers each scrape from a different pod, and a restart resets
  the counters. So the probe refuses (an error string, never a number) when
  ``process_start_time_seconds`` differs or is missing, or any counter went down.

Both count the same routes: ``metrics.routes`` of the environment (default ``/api/.*``,
the trading API), the routes the metric source already counts for error rate and
latency. The load client's fallback (:mod:`goldgate.load.client_timings`) filters its
records by the same expression, so all sides of the comparison hold the same requests.

Every HTTP read has a connect and a read timeout and bounded retries; nothing here
raises out of :meth:`close`: a failed measurement is a :class:`ServerTimings` whose
``error`` says why. A histogram p95 is interpolated inside its bucket (see
:func:`goldgate.probes.metrics.promtext.histogram_quantile`).

Example::

    window = ProcessWindow("http://127.0.0.1:8080", routes="/api/.*")
    ...  # the load run
    timings = window.close()   # ServerTimings(p95_s=0.061, requests=412, ...)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from goldgate.probes.metrics import Selector
from goldgate.probes.metrics.base import DEFAULT_API_ROUTES
from goldgate.probes.metrics.promtext import LabelSet, histogram_quantile_interval
from goldgate.probes.metrics.scrape import ScrapeSource, StaticTargets, Target
from goldgate.probes.sources import GrowingWindow, metric_source
from goldgate.verdict import Evidence

__all__ = ["FailedWindow", "PodWindow", "ProcessWindow", "ServerTimings", "histogram_delta", "release_window"]

DURATION_BUCKET = "http_request_duration_seconds_bucket"
DURATION_COUNT = "http_request_duration_seconds_count"
START_TIME = "process_start_time_seconds"

Samples = Mapping[tuple[str, LabelSet], float]


@dataclass(frozen=True)
class ServerTimings:
    """The server-side p95 (seconds) and request count of one window, or why there is none.

    ``error`` set: the probe could not measure (unreachable, refused, process changed).
    ``p95_s`` None without an error: measured, but no request on ``routes`` (``reason``).
    ``min_s`` is the smallest server time when the source knows it exactly (a request
    log); a histogram knows it only to within a bucket, so it leaves it None.
    """

    p95_s: float | None
    requests: int
    source: str
    routes: str = DEFAULT_API_ROUTES
    window_s: float | None = None
    min_s: float | None = None
    error: str = ""
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    interval: tuple[float, float] | None = None  # the histogram bucket the p95 fell into

    @property
    def usable(self) -> bool:
        return not self.error and self.p95_s is not None

    def why_not(self) -> str:
        """Why this reading cannot be compared ("" when it can)."""
        if self.error:
            return self.error
        if self.p95_s is None:
            return self.reason or "no server p95"
        return ""

    def evidence(self) -> Evidence:
        return Evidence("server timings", self.source, self.window_s, self.requests,
                        {"routes": self.routes, "p95_s": self.p95_s, "error": self.error,
                         "reason": self.reason, **dict(self.details),
                         **({"bucket_interval_s": list(self.interval)} if self.interval else {})})


def _le(text: str) -> float:
    return math.inf if text in ("+Inf", "Inf", "inf") else float(text)


def histogram_delta(before: Samples, after: Samples, routes: str) -> tuple[dict[float, float], float, str]:
    """Bucket deltas ``{le: count}`` and the request count of ``routes``, or why not ("" when fine).

    Refuses when any bucket or count of the duration histogram went down: the second
    read is not the same process's later state (a restart, or another pod).
    """
    buckets: dict[float, float] = {}
    count = 0.0
    for key, value in after.items():
        name, labels = key
        if name not in (DURATION_BUCKET, DURATION_COUNT):
            continue
        lab = dict(labels)
        if re.fullmatch(routes, lab.get("route", "")) is None:
            continue
        prev = before.get(key, 0.0)
        if value < prev:
            return {}, 0.0, (f"{name}{{{', '.join(f'{k}={v!r}' for k, v in labels)}}} went down from {prev:g} "
                             f"to {value:g} between the scrapes: not one process's histogram")
        if name == DURATION_COUNT:
            count += value - prev
        else:
            le = _le(lab.get("le", "+Inf"))
            buckets[le] = buckets.get(le, 0.0) + value - prev
    for key in before:
        if key[0] in (DURATION_BUCKET, DURATION_COUNT) and key not in after \
                and re.fullmatch(routes, dict(key[1]).get("route", "")) is not None:
            return {}, 0.0, f"series {key[0]} of route {dict(key[1]).get('route')!r} vanished between the scrapes"
    return buckets, count, ""


class ProcessWindow:
    """One process's duration histogram between :meth:`__init__` (first scrape) and :meth:`close`."""

    def __init__(self, url: str, *, routes: str = DEFAULT_API_ROUTES, connect_timeout_s: float = 2.0,
                 read_timeout_s: float = 5.0, retries: int = 1,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url.rstrip("/") + "/metrics"
        self.routes = routes
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.retries = max(0, int(retries))
        self._reader = ScrapeSource(StaticTargets([]), connect_timeout_s=connect_timeout_s,
                                    read_timeout_s=read_timeout_s, retries=self.retries, session=session,
                                    sleep=sleep, clock=clock)
        self._clock = clock
        self._opened = clock()
        self._before, self._before_error = self._scrape()

    def _scrape(self) -> tuple[Samples, str]:
        """One read with the scrape source's timeouts and bounded retries; (samples, "") or ({}, why)."""
        result = self._reader.scrape(Target(self.url))
        return (dict(result.samples), "") if not result.error else ({}, result.error)

    def close(self) -> ServerTimings:
        """Second scrape and the window's p95; never raises."""
        source = f"histogram {DURATION_BUCKET} of {self.url} (deltas of two scrapes)"
        window = round(self._clock() - self._opened, 2)
        if self._before_error:
            return ServerTimings(None, 0, source, self.routes, window, error=f"first scrape: {self._before_error}")
        after, error = self._scrape()
        if error:
            return ServerTimings(None, 0, source, self.routes, window, error=f"second scrape: {error}")
        started = (self._before.get((START_TIME, ())), after.get((START_TIME, ())))
        if None in started:
            return ServerTimings(None, 0, source, self.routes, window,
                                 error=f"{self.url} exports no {START_TIME}: cannot tell that both scrapes "
                                       f"read the same process")
        if started[0] != started[1]:
            return ServerTimings(None, 0, source, self.routes, window,
                                 error=f"the process changed between the scrapes ({START_TIME} {started[0]:g} then "
                                       f"{started[1]:g}): a restart, or a Service answering from another pod")
        buckets, count, error = histogram_delta(self._before, after, self.routes)
        if error:
            return ServerTimings(None, 0, source, self.routes, window, error=error)
        found = histogram_quantile_interval(0.95, buckets.items()) if buckets else None
        p95 = None if found is None else found.value
        n = round(count)
        reason = "" if p95 is not None else f"no requests to {self.routes} between the scrapes"
        return ServerTimings(p95, n, source, self.routes, window, reason=reason,
                             details={"process_start_time_seconds": started[0]},
                             interval=None if found is None else found.as_tuple())


class PodWindow:
    """The selected pods' latency through a metric source's growing window (monitor's reading).

    ``window`` is a :class:`goldgate.probes.sources.GrowingWindow` (opened when this is
    built); ``settle_s`` waits before the last reading so a Prometheus server has scraped
    the end of the run.
    """

    def __init__(self, window: Any, *, routes: str, settle_s: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.window = window
        self.routes = routes
        self.settle_s = settle_s
        self._sleep = sleep
        self.error = ""
        try:
            window.advance()
        except Exception as exc:  # a source must not raise, but a step must not die of one that does
            self.error = f"opening the window failed: {type(exc).__name__}: {exc}"

    def close(self) -> ServerTimings:
        """The window's p95 over the pods; never raises."""
        where = f"{getattr(self.window.source, 'name', 'metrics')} {self.window.selector}"
        if self.error:
            return ServerTimings(None, 0, where, self.routes, error=self.error)
        try:
            if self.settle_s > 0:
                self._sleep(self.settle_s)
            self.window.advance()
            m = self.window.latency_quantile(0.95)
        except Exception as exc:
            return ServerTimings(None, 0, where, self.routes, error=f"reading failed: {type(exc).__name__}: {exc}")
        source = f"{m.source}: {m.query}"
        series = {"series": [dict(s) for s in m.series][:20]}
        if m.error:
            return ServerTimings(None, m.samples, source, self.routes, m.window_s, error=m.error, details=series)
        return ServerTimings(m.value, int(m.samples), source, self.routes, m.window_s,
                             reason="" if m.value is not None else m.describe(), details=series,
                             interval=m.interval)


def release_window(environment: Any, kube: Any) -> PodWindow | FailedWindow:
    """A :class:`PodWindow` over the environment's release pods (``kubernetes.label_selector``)."""
    k, m = environment.kubernetes, environment.metrics
    try:
        selector = Selector.parse(k.label_selector, k.namespace)
        window = GrowingWindow(metric_source(environment, kube), selector)
    except Exception as exc:
        return FailedWindow(f"{type(exc).__name__}: {exc}", m.routes)
    settle = float(m.scrape_interval_s) if m.source == "prometheus" else 0.0
    return PodWindow(window, routes=m.routes, settle_s=settle)


class FailedWindow:
    """A window that could not be opened; closing it reports why."""

    def __init__(self, error: str, routes: str) -> None:
        self._error, self._routes = error, routes

    def close(self) -> ServerTimings:
        return ServerTimings(None, 0, "release pods", self._routes, error=f"no metric source: {self._error}")
