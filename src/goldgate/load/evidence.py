"""What a load run leaves in the Allure report: stats table, failures by cause, charts,
and locust's own HTML report.

Attached to the current Allure step (the "When the load runs" step), so a QA reader
opening the scenario sees the numbers beside the sentence that produced them. Attaching
is best effort: reporting never changes a verdict.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence
from pathlib import Path

from goldgate.load.charts import render
from goldgate.load.runner import LoadResult

_COLUMNS = ("name", "requests", "failures", "error_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "rps")


def stats_table_html(result: LoadResult) -> str:
    """The per-route and aggregated statistics, with how the run was driven and how it ended."""
    rows = result.stats.table()
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if row[c] is None else str(row[c]))}</td>" for c in _COLUMNS) + "</tr>"
        for row in rows
    )
    details = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in result.evidence_details().items()
    )
    return (f"<html><body><h3>{html.escape(result.plan.label)}: locust load run</h3><ul>{details}</ul>"
            f"<table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"
            "<p>Percentiles are nearest-rank over every recorded request (no buckets).</p></body></html>")


def failures_text(result: LoadResult) -> str:
    rows = result.stats.failures_by_cause
    if not rows:
        return "no failed requests"
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(f"{n:6d}  {name:<{width}}  {cause}" for name, cause, n in rows)


def chart(results: Sequence[LoadResult], path: Path, *, limit_ms: float | None = None) -> Path:
    runs = [(f"{r.plan.label} ({r.plan.model})", r.records, r.records[0].t if r.records else r.started)
            for r in results]
    return render(runs, path, limit_ms=limit_ms)


def attach(results: Sequence[LoadResult], *, limit_ms: float | None = None) -> None:
    """Attach every run's evidence to the current Allure step (no-op without Allure)."""
    try:
        import allure
    except ImportError:
        return
    for result in results:
        label = result.plan.label
        with contextlib.suppress(Exception):
            allure.attach(stats_table_html(result), name=f"{label}: stats table", attachment_type=allure.attachment_type.HTML)
            allure.attach(failures_text(result), name=f"{label}: failures by cause", attachment_type=allure.attachment_type.TEXT)
            if result.html_report is not None:
                allure.attach.file(str(result.html_report), name=f"{label}: locust report",
                                   attachment_type=allure.attachment_type.HTML)
    with contextlib.suppress(Exception):
        png = chart(results, results[0].results_dir / "latency.png", limit_ms=limit_ms)
        allure.attach.file(str(png), name="latency over time and percentiles", attachment_type=allure.attachment_type.PNG)
