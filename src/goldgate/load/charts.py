"""Charts of a load run as PNG: latency over time, and the latency percentile curve.

Rendered with matplotlib's Agg backend (no display, no GUI toolkit), so they work in CI
and inside pytest. Several runs can share one chart (the release beside its baseline,
the open model beside the closed one), which is where the differences show.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no display here
import matplotlib.pyplot as plt

from goldgate.load.records import RequestRecord
from goldgate.load.stats import percentile

_PERCENTILES = (0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 100)


def render(runs: Sequence[tuple[str, Sequence[RequestRecord], float]], path: Path,
           *, limit_ms: float | None = None, title: str = "Latency under load") -> Path:
    """Write a two-panel PNG for ``runs`` = [(label, records, started_epoch), ...]."""
    fig, (over_time, pct) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, records, started in runs:
        if not records:
            continue
        xs = [r.t - started for r in records]
        ok = [r.ms if r.ok else None for r in records]
        over_time.scatter(xs, [v if v is not None else float("nan") for v in ok], s=4, alpha=0.35,
                          label=f"{label} (each request)")
        bad = [(x, r.ms) for x, r in zip(xs, records, strict=True) if not r.ok]
        if bad:
            over_time.scatter(*zip(*bad, strict=True), s=10, marker="x", color="red", label=f"{label} failures")
        seconds: dict[int, list[float]] = {}
        for x, r in zip(xs, records, strict=True):
            seconds.setdefault(int(x), []).append(r.ms)
        sec = sorted(seconds)
        over_time.plot(sec, [percentile(sorted(seconds[s]), 95) for s in sec], linewidth=1.5,
                       label=f"{label} p95 per second")
        times = sorted(r.ms for r in records)
        pct.plot(list(range(len(_PERCENTILES))), [percentile(times, q) for q in _PERCENTILES], marker="o",
                 label=f"{label} (n={len(times)})")
    if limit_ms is not None:
        for ax in (over_time, pct):
            ax.axhline(limit_ms, color="grey", linestyle="--", linewidth=1, label=f"limit {limit_ms:g} ms")
    over_time.set(title=f"{title}: latency over time", xlabel="seconds since start", ylabel="latency (ms)")
    pct.set(title="latency percentiles", xlabel="percentile", ylabel="latency (ms)")
    pct.set_xticks(list(range(len(_PERCENTILES))), [f"p{q:g}" for q in _PERCENTILES], rotation=45)
    for ax in (over_time, pct):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
