"""Statistics of a load run, computed from every recorded response time.

locust's own percentiles come from response times rounded into buckets (to two
significant digits above 100 ms), and its closed user model hides stalls. goldgate keeps
every request's latency and computes percentiles exactly, with the sample count next to
each number so a reader can tell a p95 of 20 requests from a p95 of 20 000.

Percentiles use the nearest-rank definition: the p-th percentile is the smallest
recorded value such that at least p % of the values are less than or equal to it. It is
always one of the measured values (no interpolation invents a latency nobody saw), and
it is what the benchmark compares against the server's own log.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from goldgate.load.records import RequestRecord

AGGREGATED = "Aggregated"


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(q / 100 * n))
    return float(sorted_values[rank - 1])


@dataclass(frozen=True)
class RouteStats:
    """One row of the stats table: a request name, or the aggregate of all of them."""

    name: str
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    rps: float

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.requests if self.requests else None

    def as_row(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 2)

        return {
            "name": self.name, "requests": self.requests, "failures": self.failures,
            "error_rate": None if self.error_rate is None else round(self.error_rate, 5),
            "p50_ms": r(self.p50_ms), "p95_ms": r(self.p95_ms), "p99_ms": r(self.p99_ms),
            "max_ms": r(self.max_ms), "mean_ms": r(self.mean_ms), "rps": round(self.rps, 2),
        }


def route_stats(name: str, records: Sequence[RequestRecord], elapsed_s: float) -> RouteStats:
    times = sorted(r.ms for r in records)
    failures = sum(1 for r in records if not r.ok)
    return RouteStats(
        name=name,
        requests=len(times),
        failures=failures,
        p50_ms=percentile(times, 50),
        p95_ms=percentile(times, 95),
        p99_ms=percentile(times, 99),
        max_ms=times[-1] if times else None,
        mean_ms=sum(times) / len(times) if times else None,
        rps=len(times) / elapsed_s if elapsed_s > 0 else 0.0,
    )


@dataclass(frozen=True)
class TimeBucket:
    """One second of the run, for the latency-over-time chart."""

    second: int
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class LoadStats:
    """Everything the criteria and the report need, derived once from the raw records."""

    rows: tuple[RouteStats, ...]
    total: RouteStats
    failures_by_cause: tuple[tuple[str, str, int], ...]
    timeline: tuple[TimeBucket, ...]
    elapsed_s: float
    send_lag_p95_ms: float | None = None
    send_lag_max_ms: float | None = None
    latencies_ms: tuple[float, ...] = field(default=(), repr=False)

    @property
    def requests(self) -> int:
        return self.total.requests

    @property
    def failures(self) -> int:
        return self.total.failures

    @property
    def p95_ms(self) -> float | None:
        return self.total.p95_ms

    @property
    def error_rate(self) -> float | None:
        return self.total.error_rate

    def table(self) -> list[dict[str, object]]:
        return [row.as_row() for row in (*self.rows, self.total)]


def cause_of(record: RequestRecord) -> str:
    """The failure's cause in words a reader groups by: status code or exception type."""
    if record.err:
        return record.err.split(":", 1)[0].strip()[:120] if record.status in (None, 0) else f"HTTP {record.status}"
    return f"HTTP {record.status}" if record.status else "unknown failure"


def summarize(records: Sequence[RequestRecord], started: float | None = None,
              elapsed_s: float | None = None) -> LoadStats:
    """Per-route and aggregated statistics, failures by cause, and a per-second timeline.

    ``started`` (epoch seconds) anchors the timeline; ``elapsed_s`` is the window the
    throughput is computed over (the run's measured span when not given).
    """
    if started is None:
        started = records[0].t if records else 0.0
    if elapsed_s is None:
        elapsed_s = (max(r.t for r in records) - started) if records else 0.0
        elapsed_s = max(elapsed_s, 1e-9)
    by_name: dict[str, list[RequestRecord]] = defaultdict(list)
    for rec in records:
        by_name[rec.name].append(rec)
    rows = tuple(route_stats(name, recs, elapsed_s) for name, recs in sorted(by_name.items()))
    total = route_stats(AGGREGATED, records, elapsed_s)

    causes = Counter((r.name, cause_of(r)) for r in records if not r.ok)
    failures_by_cause = tuple((name, cause, n) for (name, cause), n in causes.most_common())

    buckets: dict[int, list[RequestRecord]] = defaultdict(list)
    for rec in records:
        buckets[max(0, int(rec.t - started))].append(rec)
    timeline = []
    for second in range(max(buckets) + 1 if buckets else 0):
        recs = buckets.get(second, [])
        times = sorted(r.ms for r in recs)
        timeline.append(TimeBucket(second, len(recs), sum(1 for r in recs if not r.ok),
                                   percentile(times, 50), percentile(times, 95),
                                   times[-1] if times else None))
    lags = sorted(r.lag for r in records if r.lag is not None)
    return LoadStats(
        rows=rows, total=total, failures_by_cause=failures_by_cause, timeline=tuple(timeline),
        elapsed_s=elapsed_s, send_lag_p95_ms=percentile(lags, 95),
        send_lag_max_ms=lags[-1] if lags else None,
        latencies_ms=tuple(sorted(r.ms for r in records)),
    )
