"""Metric source: PromQL through the Prometheus HTTP API.

Examples::

    src = PrometheusSource("http://127.0.0.1:9090")
    canary = Selector({"app": "trading-bot", "version": "1.4.2"})
    src.request_counts(300, canary)       # value = 5xx ratio, counts = requests/errors
    src.latency_quantile(0.95, 300, canary)

Queries are :class:`string.Template` texts (``$name`` placeholders) so that an environment
file can replace any of them without touching code. Placeholders:

``$api``       label matchers for the API requests of the selected pods, e.g.
               ``route=~"/api/.*",app="trading-bot",version="1.4.2"``
``$selector``  label matchers of the selected pods only (may be empty)
``$window``    the window as a PromQL duration (``30s``, ``1500ms``)
``$q``         the quantile (``0.95``)
``$by``        the label that tells pods apart in per-series evidence (default ``instance``)

Defaults (:data:`DEFAULT_QUERIES`), for the bot's metric names:

* ``requests``       ``sum by ($by) (increase(http_requests_total{$api}[$window]))``
* ``errors``         ``sum by ($by) (increase(http_requests_total{$api,code=~"5.."}[$window]))``
  -- errors are status codes >= 500; HTTP codes end at 599, so ``5..`` is exactly that
* ``latency``        ``histogram_quantile($q, sum by (le) (rate(http_request_duration_seconds_bucket{$api}[$window])))``
* ``latency_count``  ``sum by ($by) (increase(http_request_duration_seconds_count{$api}[$window]))``
* ``latency_buckets`` ``sum by (le) (rate(http_request_duration_seconds_bucket{$api}[$window]))``
  -- the buckets the quantile was read from, queried at the same instant: PromQL's
  ``histogram_quantile`` returns one interpolated number, and the bounds of the bucket it
  fell into (the interval the true quantile lies in) come only from the buckets themselves
* ``instant``        ``$name{$selector}`` (used when ``instant()`` gets a bare metric name)
* ``age``            ``time() - timestamp($name{$selector})`` (staleness of a gauge)

Outcomes: an empty result, NaN, or a gauge older than ``max_age_s`` gives ``value=None``
with a reason (INCONCLUSIVE for the criteria); a refused connection, timeout, HTTP error or
unparsable body gives ``error`` naming the URL and the cause (ERROR).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from string import Template
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from goldgate.probes.metrics.base import DEFAULT_API_ROUTES, Measurement, RequestCounts, Selector
from goldgate.probes.metrics.promtext import histogram_quantile_interval

__all__ = ["DEFAULT_QUERIES", "PrometheusSource", "QueryError", "promql_duration"]

DEFAULT_QUERIES: dict[str, str] = {
    "requests": "sum by ($by) (increase(http_requests_total{$api}[$window]))",
    "errors": 'sum by ($by) (increase(http_requests_total{$api,code=~"5.."}[$window]))',
    "latency": (
        "histogram_quantile($q, sum by (le) "
        "(rate(http_request_duration_seconds_bucket{$api}[$window])))"
    ),
    "latency_count": "sum by ($by) (increase(http_request_duration_seconds_count{$api}[$window]))",
    "latency_buckets": "sum by (le) (rate(http_request_duration_seconds_bucket{$api}[$window]))",
    "instant": "$name{$selector}",
    "age": "time() - timestamp($name{$selector})",
}

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class QueryError(Exception):
    """The Prometheus API could not answer; the message names the URL and the cause."""


def promql_duration(seconds: float) -> str:
    """A PromQL duration for a window in seconds (``30s``; ``1500ms`` below whole seconds)."""
    if seconds <= 0 or not math.isfinite(seconds):
        raise ValueError(f"window must be a positive number of seconds, got {seconds!r}")
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"


def _quote(value: str) -> str:
    return json.dumps(value)  # PromQL string literals accept JSON escaping


def _redact(url: str) -> str:
    """Drop user:password from a URL before it reaches a message or evidence."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def _number(text: Any) -> float:
    return float(text)  # Prometheus encodes sample values as strings: "1.5", "NaN", "+Inf"


class PrometheusSource:
    """:class:`~goldgate.probes.metrics.base.MetricSource` over the Prometheus HTTP API."""

    name = "prometheus"

    def __init__(
        self,
        url: str,
        *,
        queries: Mapping[str, str] | None = None,
        routes: str = DEFAULT_API_ROUTES,
        by: str = "instance",
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 10.0,
        retries: int = 2,
        backoff_s: float = 0.25,
        max_age_s: float = 60.0,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self.queries = {**DEFAULT_QUERIES, **(queries or {})}
        unknown = set(self.queries) - set(DEFAULT_QUERIES)
        if unknown:
            raise ValueError(f"unknown Prometheus query names: {sorted(unknown)}")
        self.routes = routes
        self.by = by
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_age_s = max_age_s
        self._headers = dict(headers or {})  # may hold a bearer token: never logged
        self._session = session or requests.Session()
        self._clock = clock

    # ------------------------------------------------------------------ HTTP layer

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        """GET an API path with bounded retries; return ``data`` or raise QueryError."""
        url = f"{self.url}{path}"
        shown = _redact(url)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * attempt)
            try:
                resp = self._session.get(url, params=params, timeout=self.timeout,
                                         headers=self._headers)
            except requests.Timeout:
                last = f"timed out after {self.timeout[0]:g}s connect / {self.timeout[1]:g}s read"
                continue
            except requests.ConnectionError as exc:
                last = f"connection failed ({type(exc).__name__}: {_short(exc)})"
                continue
            except requests.RequestException as exc:
                raise QueryError(f"{shown}: {type(exc).__name__}: {_short(exc)}") from None
            if resp.status_code >= 500 or resp.status_code == 429:
                last = f"HTTP {resp.status_code}"
                continue
            try:
                body = resp.json()
            except ValueError:
                raise QueryError(
                    f"{shown}: HTTP {resp.status_code}, body is not JSON: {resp.text[:120]!r}"
                ) from None
            if resp.status_code != 200 or body.get("status") != "success":
                raise QueryError(
                    f"{shown}: HTTP {resp.status_code}, {body.get('errorType', 'error')}: "
                    f"{body.get('error', 'no error text')}"
                )
            if "data" not in body:
                raise QueryError(f"{shown}: answer has no 'data' field")
            return body["data"]
        raise QueryError(f"{shown}: {last} ({self.retries + 1} attempts)")

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query; returns ``[{"labels": {...}, "value": float}]``. Raises QueryError."""
        params = {"query": promql, "time": f"{self._clock() if at is None else at:.3f}"}
        data = self._get("/api/v1/query", params)
        kind = data.get("resultType")
        result = data.get("result")
        try:
            if kind == "scalar":
                return [{"labels": {}, "value": _number(result[1])}]
            if kind != "vector":
                raise QueryError(f"{_redact(self.url)}/api/v1/query: unexpected resultType {kind!r}")
            return [{"labels": dict(r["metric"]), "value": _number(r["value"][1])} for r in result]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise QueryError(
                f"{_redact(self.url)}/api/v1/query: unparsable result ({exc})") from None

    def query_range(self, promql: str, start: float, end: float, step_s: float
                    ) -> list[dict[str, Any]]:
        """Range query; returns ``[{"labels": {...}, "values": [(ts, float), ...]}]``."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}",
                  "step": f"{step_s:g}"}
        data = self._get("/api/v1/query_range", params)
        try:
            return [
                {"labels": dict(r["metric"]),
                 "values": [(float(t), _number(v)) for t, v in r["values"]]}
                for r in data["result"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise QueryError(
                f"{_redact(self.url)}/api/v1/query_range: unparsable result ({exc})") from None

    # ------------------------------------------------------------------ query text

    def _matchers(self, selector: Selector, *, api: bool) -> str:
        terms = [f"route=~{_quote(self.routes)}"] if api else []
        terms += [f"{k}={_quote(v)}" for k, v in selector.prometheus_labels().items()]
        if selector.namespace:
            terms.append(f"namespace={_quote(selector.namespace)}")
        return ",".join(terms)

    def render(self, which: str, selector: Selector, window_s: float | None = None,
               /, **extra: Any) -> str:
        """The resolved PromQL of one named query (what the evidence shows)."""
        values = {
            "api": self._matchers(selector, api=True),
            "selector": self._matchers(selector, api=False),
            "by": self.by,
            **{k: str(v) for k, v in extra.items()},
        }
        if window_s is not None:
            values["window"] = promql_duration(window_s)
        return Template(self.queries[which]).substitute(values)

    def _evidence_text(self, *queries: str) -> str:
        return f"{_redact(self.url)}/api/v1/query " + " ; ".join(queries)

    # ------------------------------------------------------------------ MetricSource

    def request_counts(self, window_s: float, selector: Selector) -> Measurement:
        q_total = self.render("requests", selector, window_s)
        q_errors = self.render("errors", selector, window_s)
        where = self._evidence_text(q_total, q_errors)
        now = self._clock()
        try:
            totals = self.query(q_total, now)
            errors = self.query(q_errors, now)
        except QueryError as exc:
            return Measurement(self.name, where, window_s=window_s, timestamp=now, error=str(exc))
        per: dict[str, dict[str, Any]] = {}
        for row in totals:
            key = row["labels"].get(self.by, "")
            per.setdefault(key, {self.by: key, "total": 0.0, "errors": 0.0})["total"] += _finite(row["value"])
        for row in errors:
            key = row["labels"].get(self.by, "")
            per.setdefault(key, {self.by: key, "total": 0.0, "errors": 0.0})["errors"] += _finite(row["value"])
        if not totals:
            return Measurement(self.name, where, window_s=window_s, timestamp=now,
                               reason=f"no request series for {selector} in the last {window_s:g}s")
        counts = RequestCounts(sum(p["total"] for p in per.values()),
                               sum(p["errors"] for p in per.values()))
        total, _ = counts.rounded()
        reason = "" if counts.ratio is not None else f"no requests to {self.routes} in the window"
        return Measurement(self.name, where, counts.ratio, total, window_s, now,
                           tuple(per.values()), counts, reason)

    def error_ratio(self, window_s: float, selector: Selector) -> Measurement:
        return self.request_counts(window_s, selector)

    def latency_quantile(self, q: float, window_s: float, selector: Selector) -> Measurement:
        if not 0 < q < 1:
            raise ValueError(f"quantile must be in (0, 1), got {q!r}")
        q_lat = self.render("latency", selector, window_s, q=f"{q:g}")
        q_count = self.render("latency_count", selector, window_s)
        q_buckets = self.render("latency_buckets", selector, window_s) if "latency_buckets" in self.queries else ""
        where = self._evidence_text(*(q for q in (q_lat, q_count, q_buckets) if q))
        now = self._clock()
        try:
            lat = self.query(q_lat, now)
            counts = self.query(q_count, now)
            buckets = self.query(q_buckets, now) if q_buckets else []
        except QueryError as exc:
            return Measurement(self.name, where, window_s=window_s, timestamp=now, error=str(exc))
        samples = round(sum(_finite(r["value"]) for r in counts))
        series = tuple({self.by: r["labels"].get(self.by, ""), "requests": r["value"]}
                       for r in counts)
        if not lat:
            return Measurement(self.name, where, None, samples, window_s, now, series,
                               reason=f"empty result: no latency histogram for {selector}")
        value = lat[0]["value"]
        if math.isnan(value):
            return Measurement(self.name, where, None, samples, window_s, now, series,
                               reason=f"NaN: no requests observed in the last {window_s:g}s")
        interval = _bucket_interval(q, buckets, value)
        return Measurement(self.name, where, value, samples, window_s, now, series, interval=interval,
                           buckets=_bucket_counts(buckets, window_s),
                           reason="" if interval else "no bucket bounds (latency_buckets query empty or "
                                                      "not configured): the value is taken as exact")

    def instant(self, name_or_query: str, selector: Selector) -> Measurement:
        """Sum of the selected series; for a bare metric name also checks staleness."""
        bare = bool(_METRIC_NAME.match(name_or_query))
        promql = self.render("instant", selector, name=name_or_query) if bare else name_or_query
        queries = [promql]
        age_q = self.render("age", selector, name=name_or_query) if bare else ""
        if age_q:
            queries.append(age_q)
        where = self._evidence_text(*queries)
        now = self._clock()
        try:
            rows = self.query(promql, now)
            ages = self.query(age_q, now) if age_q else []
        except QueryError as exc:
            return Measurement(self.name, where, timestamp=now, error=str(exc))
        series = tuple({**r["labels"], "value": r["value"]} for r in rows)
        if not rows:
            return Measurement(self.name, where, None, 0, timestamp=now,
                               reason=f"empty result for {name_or_query} ({selector})")
        oldest = max((a["value"] for a in ages), default=0.0)
        if oldest > self.max_age_s:
            return Measurement(self.name, where, None, len(rows), timestamp=now, series=series,
                               reason=f"stale series: newest sample is {oldest:.0f}s old "
                                      f"(max {self.max_age_s:g}s)")
        values = [r["value"] for r in rows]
        if any(math.isnan(v) for v in values):
            return Measurement(self.name, where, None, len(rows), timestamp=now, series=series,
                               reason="the query returned NaN")
        return Measurement(self.name, where, float(sum(values)), len(rows), timestamp=now,
                           series=series)

    def series(self, promql: str, window_s: float, step_s: float) -> Measurement:
        """A query over the last ``window_s`` (``/api/v1/query_range``); value = last point."""
        now = self._clock()
        where = f"{_redact(self.url)}/api/v1/query_range {promql}"
        try:
            rows = self.query_range(promql, now - window_s, now, step_s)
        except QueryError as exc:
            return Measurement(self.name, where, window_s=window_s, timestamp=now, error=str(exc))
        points = sum(len(r["values"]) for r in rows)
        detail = tuple({**r["labels"], "values": r["values"]} for r in rows)
        if not points:
            return Measurement(self.name, where, None, 0, window_s, now,
                               reason=f"empty result over the last {window_s:g}s")
        last = sum(r["values"][-1][1] for r in rows if r["values"])
        return Measurement(self.name, where, last, points, window_s, now, detail)


def _bucket_interval(q: float, rows: list[dict[str, Any]], value: float) -> tuple[float, float] | None:
    """The bounds of the bucket PromQL's quantile fell into, from the ``le`` series at the same instant."""
    buckets: dict[str, float] = {}
    for r in rows:
        le = r["labels"].get("le")
        if le is not None and not math.isnan(r["value"]):
            buckets[le] = buckets.get(le, 0.0) + r["value"]
    try:
        found = histogram_quantile_interval(q, buckets) if buckets else None
    except ValueError:
        return None
    if found is None:
        return None
    return (min(found.low, value), max(found.high, value))


def _bucket_counts(rows: list[dict[str, Any]], window_s: float) -> tuple[tuple[float, float], ...] | None:
    """The ``le`` series (per-second rates) as cumulative counts over the window; None without +Inf."""
    per: dict[float, float] = {}
    for r in rows:
        le = r["labels"].get("le")
        try:
            bound = float(le) if le is not None else math.nan
        except ValueError:
            continue
        if not math.isnan(bound) and math.isfinite(r["value"]):
            per[bound] = per.get(bound, 0.0) + r["value"] * window_s
    pairs = tuple(sorted(per.items()))
    return pairs if pairs and math.isinf(pairs[-1][0]) else None


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."
