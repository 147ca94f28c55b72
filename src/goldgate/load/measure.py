"""From a finished locust run to the numbers the load criteria decide on.

The probe side of the load gate: :func:`measurement` reads a :class:`LoadResult`
(never decides), and :func:`abort_check` wires the pure :func:`breach_certain` rule into
the runner's live poll so a certain breach stops the run early.
"""

from __future__ import annotations

from goldgate.criteria.load import LoadMeasurement, breach_certain
from goldgate.load.runner import AbortCheck, LiveCounts, LoadResult
from goldgate.verdict import Evidence


def evidence_of(result: LoadResult) -> Evidence:
    stats = result.stats
    plan = result.plan
    what = f"{plan.rate_rps:g} req/s open model" if plan.model == "open" else f"{plan.users} users closed model"
    return Evidence(
        source="locust",
        query=f"{what} against {plan.target_url} for {plan.duration_s:g} s",
        window=round(result.elapsed_s, 2),
        samples=stats.requests,
        details={**result.evidence_details(), "stats": stats.table(),
                 "failures_by_cause": [list(row) for row in stats.failures_by_cause[:20]]},
    )


def measurement(result: LoadResult) -> LoadMeasurement:
    stats = result.stats
    return LoadMeasurement(
        label=result.plan.label,
        model=result.plan.model,
        requests=stats.requests,
        errors=stats.failures,
        p95_ms=stats.p95_ms,
        planned=result.plan.planned_requests,
        dropped=result.dropped,
        generator_cpu=result.generator_cpu(),
        send_lag_p95_ms=stats.send_lag_p95_ms,
        aborted=result.aborted,
        capped=result.stop_reason.startswith("request cap"),
        evidence=(evidence_of(result),),
    )


def abort_check(error_limit: float | None, p95_limit_ms: float | None) -> AbortCheck:
    """Early abort on a certain breach of the error rate or the p95 latency limit."""

    def check(counts: LiveCounts) -> str | None:
        return breach_certain(requests=counts.requests, errors=counts.errors, slow=counts.slow,
                              planned=counts.planned, error_limit=error_limit, p95_limit_ms=p95_limit_ms)

    return check
