"""Metric source: the pods' own ``/metrics`` pages, read directly.

No Prometheus needed (the default for ``--env=local``): the source scrapes every selected
pod two or more times across the window and turns counter deltas into rates, the way
Prometheus' ``increase()`` would, with three differences that matter for a short canary:

* A counter that drops between two scrapes means the pod restarted (counter reset): the
  new value is the increase since the restart, counted from 0. A changed
  ``process_start_time_seconds`` is treated as a reset too, even if the counter already
  climbed past its old value.
* A series that first appears during the window (the first 500 of a route creates its
  ``code="500"`` series) is counted from 0: all of it happened inside the window.
  Prometheus' ``increase()`` skips that first value, so it undercounts rare errors.
* A pod that appears during the window is counted from 0 when its process started inside
  the window, from its first scrape otherwise; a pod that disappears keeps what it served
  until its last scrape.

Quantiles come from histogram bucket deltas; see
:func:`goldgate.probes.metrics.promtext.histogram_quantile` for the bucket-resolution limit.

Examples::

    src = ScrapeSource(StaticTargets(["http://127.0.0.1:4101", "http://127.0.0.1:4102"]))
    src.request_counts(10, Selector())             # blocks ~10 s, scrapes twice
    obs = src.observe(10, Selector({"version": "2"}))   # one window, several answers
    obs.request_counts(); obs.latency_quantile(0.95)
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from goldgate.probes.metrics.base import DEFAULT_API_ROUTES, Measurement, RequestCounts, Selector
from goldgate.probes.metrics.promtext import LabelSet, histogram_quantile_interval, parse_metrics

__all__ = [
    "KubernetesTargets",
    "Observation",
    "ScrapeResult",
    "ScrapeSource",
    "ScrapeWindow",
    "StaticTargets",
    "Target",
    "TargetDiscovery",
    "counter_increase",
]

REQUESTS = "http_requests_total"
DURATION_BUCKET = "http_request_duration_seconds_bucket"
DURATION_COUNT = "http_request_duration_seconds_count"
START_TIME = "process_start_time_seconds"
#: The series a window's snapshot keeps: what request counts and latency are computed from.
_WINDOW_SERIES = frozenset({REQUESTS, DURATION_BUCKET, DURATION_COUNT})


@dataclass(frozen=True)
class Target:
    """One pod's metrics endpoint. ``key`` identifies the pod across scrapes."""

    url: str
    labels: Mapping[str, str] = field(default_factory=dict)
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.labels.get("pod") or self.url)


class TargetDiscovery(Protocol):
    """Finds the metrics endpoints of the pods a selector names."""

    def targets(self, selector: Selector) -> list[Target]: ...

    def describe(self) -> str: ...


class StaticTargets:
    """A fixed list of endpoints, each with labels the selector is matched against.

    Accepts base URLs (``/metrics`` is appended) or full metrics URLs.
    """

    def __init__(self, targets: Iterable[str | Target]) -> None:
        self._targets = [t if isinstance(t, Target) else Target(_metrics_url(t)) for t in targets]

    def targets(self, selector: Selector) -> list[Target]:
        return [t for t in self._targets if selector.matches(t.labels)]

    def describe(self) -> str:
        return "static:" + ",".join(t.url for t in self._targets)


def _metrics_url(url: str) -> str:
    return url if url.rstrip("/").endswith("/metrics") else url.rstrip("/") + "/metrics"


class KubernetesTargets:
    """Pods from the Kubernetes API (official client), listed by the selector's labels.

    The metrics port is the pod annotation ``port_annotation`` (``prometheus.io/port`` by
    default), else the container port named ``port_name``, else ``default_port``, else
    the first container port; path and scheme likewise from ``prometheus.io/path`` /
    ``prometheus.io/scheme``. Only Running pods with an IP are scraped.

    ``port_map_annotation`` names a pod annotation holding a JSON map from container port
    to reachable port, for clusters whose pods share one address (the embedded sandbox
    publishes ``sandbox.goldgate.io/ports`` = ``{"8080": 41234}`` with podIP 127.0.0.1).
    """

    def __init__(
        self,
        core_api: Any = None,
        *,
        namespace: str = "default",
        port_annotation: str = "prometheus.io/port",
        path_annotation: str = "prometheus.io/path",
        scheme_annotation: str = "prometheus.io/scheme",
        port_name: str = "metrics",
        default_port: int | None = None,
        port_map_annotation: str | None = None,
        timeout_s: tuple[float, float] = (2.0, 10.0),
    ) -> None:
        if core_api is None:
            from kubernetes import client, config

            config.load_kube_config()
            core_api = client.CoreV1Api()
        self.api = core_api
        self.namespace = namespace
        self.port_annotation = port_annotation
        self.path_annotation = path_annotation
        self.scheme_annotation = scheme_annotation
        self.port_name = port_name
        self.default_port = default_port
        self.port_map_annotation = port_map_annotation
        self.timeout_s = timeout_s

    def describe(self) -> str:
        return f"kubernetes:namespace={self.namespace}"

    def targets(self, selector: Selector) -> list[Target]:
        namespace = selector.namespace or self.namespace
        pods = self.api.list_namespaced_pod(
            namespace, label_selector=selector.label_selector(), _request_timeout=self.timeout_s
        )
        out = []
        for pod in pods.items:
            status = pod.status
            if status is None or status.phase != "Running" or not status.pod_ip:
                continue
            port = self._port(pod)
            if port is None:
                continue
            notes = pod.metadata.annotations or {}
            scheme = notes.get(self.scheme_annotation, "http")
            path = notes.get(self.path_annotation, "/metrics")
            host = f"[{status.pod_ip}]" if ":" in status.pod_ip else status.pod_ip
            labels = {**(pod.metadata.labels or {}), "pod": pod.metadata.name,
                      "namespace": namespace}
            out.append(Target(f"{scheme}://{host}:{port}{path}", labels, pod.metadata.name))
        return out

    def _port(self, pod: Any) -> int | None:
        notes = pod.metadata.annotations or {}
        port = self._container_port(pod, notes)
        if port is None or not self.port_map_annotation:
            return port
        try:
            mapping = {int(k): int(v) for k, v in json.loads(notes.get(self.port_map_annotation) or "{}").items()}
        except (ValueError, AttributeError):
            return None
        return mapping.get(port)

    def _container_port(self, pod: Any, notes: Mapping[str, str]) -> int | None:
        if notes.get(self.port_annotation, "").isdigit():
            return int(notes[self.port_annotation])
        ports = [p for c in (pod.spec.containers or []) for p in (c.ports or [])]
        for p in ports:
            if p.name == self.port_name:
                return int(p.container_port)
        if self.default_port is not None:
            return self.default_port
        return int(ports[0].container_port) if ports else None


# ------------------------------------------------------------------------- scraping


@dataclass(frozen=True)
class ScrapeResult:
    """One read of one target; ``samples`` empty and ``error`` set when it failed."""

    target: Target
    at: float
    samples: Mapping[tuple[str, LabelSet], float] = field(default_factory=dict)
    error: str = ""

    @property
    def start_time(self) -> float | None:
        return self.samples.get((START_TIME, ()))


def counter_increase(values: Sequence[float], restarted: Sequence[bool] | None = None) -> float:
    """Increase of a counter over successive reads, counting a drop as a reset from 0.

    ``restarted[i]`` forces read ``i`` to count as a reset (the process restarted between
    read ``i-1`` and ``i``, known from its start time) even if the value did not drop.
    """
    total = 0.0
    for i in range(1, len(values)):
        prev, cur = values[i - 1], values[i]
        reset = cur < prev or (restarted is not None and restarted[i])
        total += cur if reset else cur - prev
    return total


@dataclass(frozen=True)
class Observation:
    """Scrapes of the selected pods across one window; computes the source's answers."""

    source: str
    selector: Selector
    rounds: tuple[tuple[ScrapeResult, ...], ...]
    window_s: float
    routes: str = DEFAULT_API_ROUTES
    discovery: str = ""

    @property
    def start(self) -> float:
        return min((r.at for rnd in self.rounds for r in rnd), default=time.time())

    @property
    def end(self) -> float:
        return max((r.at for rnd in self.rounds for r in rnd), default=time.time())

    def _where(self, what: str) -> str:
        urls = sorted({r.target.url for rnd in self.rounds for r in rnd})
        return f"scrape {what} from {', '.join(urls) or '<no targets>'} ({self.discovery}, selector {self.selector})"

    def _by_target(self) -> dict[str, list[ScrapeResult]]:
        out: dict[str, list[ScrapeResult]] = {}
        for rnd in self.rounds:
            for r in rnd:
                if not r.error:
                    out.setdefault(r.target.key, []).append(r)
        return out

    def _failure(self, what: str) -> Measurement | None:
        """ERROR when no read succeeded; INCONCLUSIVE when nothing was selected or too few rounds."""
        where = self._where(what)
        results = [r for rnd in self.rounds for r in rnd]
        if not results:
            return Measurement(self.source, where, window_s=self.window_s,
                               reason=f"no pods match {self.selector}")
        if all(r.error for r in results):
            errors = sorted({r.error for r in results})
            return Measurement(self.source, where, window_s=self.window_s,
                               error="; ".join(errors))
        return None

    def increases(self, keep: Callable[[str, dict[str, str]], bool]) -> dict[str, dict[tuple[str, LabelSet], float]]:
        """Per target, the increase of every kept counter series across the window."""
        window_start = self.start
        out: dict[str, dict[tuple[str, LabelSet], float]] = {}
        for key, reads in self._by_target().items():
            # A pod first seen after the window opened whose process started inside the
            # window served everything it counted inside the window: start it from 0.
            born_inside = (
                reads[0].at > window_start and reads[0].start_time is not None
                and reads[0].start_time >= window_start
            )
            restarted = [False] + [
                a.start_time is not None and b.start_time is not None and b.start_time > a.start_time
                for a, b in itertools.pairwise(reads)
            ]
            series_keys = {k for r in reads for k in r.samples if keep(k[0], dict(k[1]))}
            per: dict[tuple[str, LabelSet], float] = {}
            for sk in series_keys:
                # Absent from a successful read of a live pod = not created yet (or the
                # process restarted and has not recreated it): it stood at 0.
                values = [r.samples.get(sk, 0.0) for r in reads]
                flags = list(restarted)
                if born_inside:
                    values.insert(0, 0.0)
                    flags.insert(0, False)
                per[sk] = counter_increase(values, flags)
            out[key] = per
        return out

    def _api(self, labels: Mapping[str, str]) -> bool:
        return re.fullmatch(self.routes, labels.get("route", "")) is not None

    def request_counts(self) -> Measurement:
        failure = self._failure("http_requests_total")
        if failure:
            return failure
        incs = self.increases(lambda n, lab: n == REQUESTS and self._api(lab))
        series = []
        total = errors = 0.0
        for key, per in sorted(incs.items()):
            t = sum(per.values())
            e = sum(v for (_, lab), v in per.items() if _is_error(dict(lab).get("code", "")))
            total += t
            errors += e
            series.append({"pod": key, "total": t, "errors": e})
        counts = RequestCounts(total, errors)
        n, _ = counts.rounded()
        reason = "" if counts.ratio is not None else (
            f"no requests to {self.routes} in the window ({self._rounds_text()})")
        if len(self._successful_rounds()) < 2:
            return Measurement(self.source, self._where("http_requests_total"), None, 0,
                               self.window_s, self.end, (*series, *self._read_errors()),
                               reason="fewer than two successful scrapes: no counter delta")
        return Measurement(self.source, self._where("http_requests_total"), counts.ratio, n,
                           self.window_s, self.end, (*series, *self._read_errors()), counts,
                           reason)

    def error_ratio(self) -> Measurement:
        return self.request_counts()

    def latency_quantile(self, q: float) -> Measurement:
        what = f"{DURATION_BUCKET} q={q:g}"
        failure = self._failure(what)
        if failure:
            return failure
        incs = self.increases(lambda n, lab: n in (DURATION_BUCKET, DURATION_COUNT) and self._api(lab))
        buckets: dict[str, float] = {}
        series = []
        count = 0.0
        for key, per in sorted(incs.items()):
            pod_count = 0.0
            for (name, labels), v in per.items():
                if name == DURATION_BUCKET:
                    le = dict(labels)["le"]
                    buckets[le] = buckets.get(le, 0.0) + v
                else:
                    pod_count += v
            count += pod_count
            series.append({"pod": key, "requests": pod_count})
        where = self._where(what)
        if len(self._successful_rounds()) < 2:
            return Measurement(self.source, where, None, round(count), self.window_s, self.end,
                               tuple(series), reason="fewer than two successful scrapes")
        found = histogram_quantile_interval(q, buckets) if buckets else None
        value = None if found is None else found.value
        reason = "" if value is not None else f"no requests to {self.routes} in the window"
        return Measurement(self.source, where, value, round(count), self.window_s, self.end,
                           (*series, *self._read_errors()), reason=reason,
                           interval=None if found is None else found.as_tuple(),
                           buckets=_cumulative(buckets))

    def _successful_rounds(self) -> list[int]:
        return [i for i, rnd in enumerate(self.rounds) if any(not r.error for r in rnd)]

    def _rounds_text(self) -> str:
        return f"{len(self.rounds)} scrape rounds over {self.window_s:g}s"

    def _read_errors(self) -> list[dict[str, Any]]:
        # A pod that could not be read in some round is not an ERROR of the whole
        # measurement (pods come and go); it is listed in the evidence instead.
        return [{"pod": r.target.key, "scrape_error": r.error}
                for rnd in self.rounds for r in rnd if r.error]


def _cumulative(buckets: Mapping[str, float]) -> tuple[tuple[float, float], ...] | None:
    """``le`` label -> count as sorted (bound, count) pairs; None without a +Inf bucket."""
    try:
        pairs = sorted((float(le), float(c)) for le, c in buckets.items())
    except ValueError:
        return None
    return tuple(pairs) if pairs and math.isinf(pairs[-1][0]) else None


def _is_error(code: str) -> bool:
    return code.isdigit() and int(code) >= 500


class ScrapeSource:
    """:class:`~goldgate.probes.metrics.base.MetricSource` that reads ``/metrics`` directly."""

    name = "scrape"

    def __init__(
        self,
        discovery: TargetDiscovery,
        *,
        routes: str = DEFAULT_API_ROUTES,
        scrapes_per_window: int = 2,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 5.0,
        retries: int = 1,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if scrapes_per_window < 2:
            raise ValueError("a rate needs at least two scrapes per window")
        self.discovery = discovery
        self.routes = routes
        self.scrapes_per_window = scrapes_per_window
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.retries = retries
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock

    def scrape(self, target: Target) -> ScrapeResult:
        """Read one target with bounded retries; never raises."""
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(0.1 * attempt)
            at = self._clock()
            try:
                resp = self._session.get(target.url, timeout=self.timeout)
            except requests.Timeout:
                last = f"{target.url}: timed out ({self.timeout[0]:g}s connect / {self.timeout[1]:g}s read)"
                continue
            except requests.RequestException as exc:
                last = f"{target.url}: connection failed ({type(exc).__name__})"
                continue
            if resp.status_code != 200:
                last = f"{target.url}: HTTP {resp.status_code}"
                if resp.status_code >= 500:
                    continue
                break
            try:
                return ScrapeResult(target, at, parse_metrics(resp.text))
            except (ValueError, KeyError, IndexError) as exc:
                return ScrapeResult(target, at, error=f"{target.url}: unparsable metrics ({exc})")
        return ScrapeResult(target, self._clock(), error=last)

    def snapshot(self, selector: Selector) -> tuple[ScrapeResult, ...]:
        """One round: discover the selected pods and read each of them (in parallel)."""
        targets = self.discovery.targets(selector)
        if not targets:
            return ()
        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            return tuple(pool.map(self.scrape, targets))

    def observe(self, window_s: float, selector: Selector) -> Observation | Measurement:
        """Scrape ``scrapes_per_window`` rounds spread evenly over ``window_s`` (blocks).

        Returns a Measurement with ``error`` instead when target discovery itself fails.
        """
        if window_s <= 0 or not math.isfinite(window_s):
            raise ValueError(f"window must be a positive number of seconds, got {window_s!r}")
        gap = window_s / (self.scrapes_per_window - 1)
        rounds = []
        t0 = self._clock()
        for i in range(self.scrapes_per_window):
            if i:
                self._sleep(max(0.0, t0 + i * gap - self._clock()))
            try:
                rounds.append(self.snapshot(selector))
            except Exception as exc:  # discovery: Kubernetes API down, 403, timeout...
                return Measurement(self.name, f"discovery {self.discovery.describe()} {selector}",
                                   window_s=window_s,
                                   error=f"target discovery failed: {type(exc).__name__}: {_short(exc)}")
        return Observation(self.name, selector, tuple(rounds), window_s, self.routes,
                           self.discovery.describe())

    def start(self, selector: Selector) -> ScrapeWindow:
        """Open a window now (first round); call ``scrape()`` on it later to add rounds.

        For monitors that poll on their own schedule, and for tests that send traffic
        between two reads.
        """
        window = ScrapeWindow(self, selector)
        window.scrape()
        return window

    def request_counts(self, window_s: float, selector: Selector) -> Measurement:
        obs = self.observe(window_s, selector)
        return obs if isinstance(obs, Measurement) else obs.request_counts()

    def error_ratio(self, window_s: float, selector: Selector) -> Measurement:
        return self.request_counts(window_s, selector)

    def latency_quantile(self, q: float, window_s: float, selector: Selector) -> Measurement:
        obs = self.observe(window_s, selector)
        return obs if isinstance(obs, Measurement) else obs.latency_quantile(q)

    def instant(self, name_or_query: str, selector: Selector) -> Measurement:
        """Sum of the named metric's samples over the selected pods, from one round.

        ``name_or_query`` is a sample name, optionally with exact label matchers in
        braces (``node_filesystem_avail_bytes{mountpoint="/data"}``); no PromQL.
        """
        name, matchers = _parse_simple_selector(name_or_query)
        where = f"scrape {name_or_query} ({self.discovery.describe()}, selector {selector})"
        try:
            results = self.snapshot(selector)
        except Exception as exc:
            return Measurement(self.name, where,
                               error=f"target discovery failed: {type(exc).__name__}: {_short(exc)}")
        now = self._clock()
        if not results:
            return Measurement(self.name, where, timestamp=now, reason=f"no pods match {selector}")
        if all(r.error for r in results):
            return Measurement(self.name, where, timestamp=now,
                               error="; ".join(sorted({r.error for r in results})))
        series = []
        for r in results:
            for (n, labels), v in r.samples.items():
                lab = dict(labels)
                if n == name and all(lab.get(k) == val for k, val in matchers.items()):
                    series.append({"pod": r.target.key, **lab, "value": v})
        if not series:
            return Measurement(self.name, where, timestamp=now,
                               reason=f"no series {name_or_query} on the selected pods")
        values = [s["value"] for s in series]
        if any(math.isnan(v) for v in values):
            return Measurement(self.name, where, None, len(series), timestamp=now,
                               series=tuple(series), reason="a series is NaN")
        return Measurement(self.name, where, float(sum(values)), len(series), timestamp=now,
                           series=tuple(series))


class ScrapeWindow:
    """Rounds of scrapes taken when the caller says; see :meth:`ScrapeSource.start`."""

    def __init__(self, source: ScrapeSource, selector: Selector) -> None:
        self.source = source
        self.selector = selector
        self.rounds: list[tuple[ScrapeResult, ...]] = []
        self.error = ""

    def scrape(self) -> None:
        try:
            self.rounds.append(self.source.snapshot(self.selector))
        except Exception as exc:  # discovery failure: remembered, reported as ERROR
            self.error = f"target discovery failed: {type(exc).__name__}: {_short(exc)}"

    def snapshot(self) -> dict[str, Any]:
        """The window so far in two rounds of plain JSON, whatever its length.

        Per pod: its latest read and a read at the window's start holding, for every request
        and latency series, the latest value less the increase over the window (resets and
        restarts already counted). Increases computed from the two equal those of every round,
        so a monitor restarted from this continues the same window without keeping every scrape.
        """
        obs = self.observation()
        if not isinstance(obs, Observation) or not obs.rounds:
            return {"start": None, "targets": []}
        incs = obs.increases(lambda n, _lab: n in _WINDOW_SERIES)
        targets = []
        for key, reads in obs._by_target().items():
            last = reads[-1]
            series = [[name, [list(kv) for kv in labels], last.samples.get((name, labels), 0.0) - inc,
                       last.samples.get((name, labels), 0.0)]
                      for (name, labels), inc in sorted(incs.get(key, {}).items())
                      if math.isfinite(inc) and math.isfinite(last.samples.get((name, labels), 0.0))]
            targets.append({"url": last.target.url, "labels": dict(last.target.labels), "key": key,
                            "at": last.at, "start_time": last.start_time, "series": series})
        return {"start": obs.start, "targets": targets}

    def restore(self, snap: Mapping[str, Any]) -> None:
        """Put a :meth:`snapshot`'s two rounds before the reads taken so far; ValueError if malformed."""
        try:
            start = snap["start"]
            if start is None:
                return
            first: list[ScrapeResult] = []
            last: list[ScrapeResult] = []
            for t in snap["targets"]:
                target = Target(str(t["url"]), {str(k): str(v) for k, v in dict(t["labels"]).items()}, str(t["key"]))
                at0: dict[tuple[str, LabelSet], float] = {}
                at1: dict[tuple[str, LabelSet], float] = {}
                for name, labels, v0, v1 in t["series"]:
                    sk = (str(name), tuple((str(k), str(v)) for k, v in labels))
                    at0[sk], at1[sk] = float(v0), float(v1)
                if t.get("start_time") is not None:
                    at0[(START_TIME, ())] = at1[(START_TIME, ())] = float(t["start_time"])
                first.append(ScrapeResult(target, float(start), at0))
                last.append(ScrapeResult(target, float(t["at"]), at1))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed scrape window: {type(exc).__name__}: {exc}") from None
        self.rounds[:0] = [tuple(first), tuple(last)]

    def observation(self) -> Observation | Measurement:
        if self.error:
            return Measurement(self.source.name, f"discovery {self.source.discovery.describe()} "
                               f"{self.selector}", error=self.error)
        times = [r.at for rnd in self.rounds for r in rnd]
        window = (max(times) - min(times)) if times else 0.0
        return Observation(self.source.name, self.selector, tuple(self.rounds), window,
                           self.source.routes, self.source.discovery.describe())


_SIMPLE = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$')
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')


def _parse_simple_selector(text: str) -> tuple[str, dict[str, str]]:
    m = _SIMPLE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a metric name with optional {{label=\"value\"}} matchers")
    matchers: dict[str, str] = {}
    for part in filter(str.strip, (m.group(2) or "").split(",")):
        mm = _MATCHER.fullmatch(part)
        if not mm:
            raise ValueError(f"matcher {part!r} in {text!r} is not label=\"value\"")
        matchers[mm.group(1)] = mm.group(2)
    return m.group(1), matchers


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."
