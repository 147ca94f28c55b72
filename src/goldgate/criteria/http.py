"""Decisions over single HTTP answers: the smoke checks' criteria.

A smoke check asks one question of the live service (is it healthy, which version is it,
does a signal come back in time). No answer is an ERROR that names the URL and the cause;
an answer with the wrong status or outside its latency budget is a FAIL with both numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from goldgate.criteria.registry import criterion
from goldgate.probes.http import HttpObservation
from goldgate.verdict import Verdict


def _no_answer(criterion: str, obs: HttpObservation, threshold: object) -> Verdict:
    return Verdict.error(
        criterion,
        f"{obs.method} {obs.url}: {obs.error} after {obs.attempts} attempt(s)",
        threshold=threshold,
        evidence=obs.evidence(),
    )


@criterion(needs="an HTTP answer with a status code, and a finite elapsed time when a budget is set")
def answers_with(
    criterion: str,
    obs: HttpObservation,
    *,
    expected_status: int = 200,
    budget_ms: float | None = None,
) -> Verdict:
    """PASS when the answer has the expected status and, if a budget is set, came in time."""
    threshold = f"status {expected_status}" + (f" within {budget_ms:g} ms" if budget_ms is not None else "")
    if not obs.answered:
        return _no_answer(criterion, obs, threshold)
    if obs.elapsed_ms is None or not math.isfinite(obs.elapsed_ms) or obs.elapsed_ms < 0:
        return Verdict.error(criterion, f"{obs.method} {obs.url}: no usable elapsed time ({obs.elapsed_ms!r})",
                             threshold=threshold, evidence=obs.evidence())
    assert obs.status is not None
    if obs.status != expected_status:
        snippet = obs.body[:120].replace("\n", " ")
        return Verdict.failed(
            criterion, obs.status, expected_status,
            f"{obs.method} {obs.url} answered {obs.status}, expected {expected_status}: {snippet}",
            evidence=obs.evidence(),
        )
    if budget_ms is not None and obs.elapsed_ms > budget_ms:
        return Verdict.failed(
            criterion, round(obs.elapsed_ms, 1), budget_ms,
            f"{obs.method} {obs.url} took {obs.elapsed_ms:.1f} ms, above the budget of {budget_ms:g} ms",
            unit="ms", evidence=obs.evidence(),
        )
    observed = round(obs.elapsed_ms, 1) if budget_ms is not None else obs.status
    return Verdict.passed(
        criterion, observed, budget_ms if budget_ms is not None else expected_status,
        f"{obs.method} {obs.url} answered {obs.status} in {obs.elapsed_ms:.1f} ms",
        unit="ms" if budget_ms is not None else "", evidence=obs.evidence(),
    )


@criterion(needs="a 200 answer in Prometheus text format and at least one required series to look for")
def metrics_expose(criterion: str, obs: HttpObservation, required: Iterable[str]) -> Verdict:
    """PASS when /metrics parses as Prometheus text and carries every required series."""
    required = sorted(set(required))
    if not required:
        return Verdict.error(criterion, "no required series named: nothing to check", evidence=obs.evidence())
    if not obs.answered:
        return _no_answer(criterion, obs, required)
    if obs.status != 200:
        return Verdict.failed(criterion, obs.status, 200, f"{obs.url} answered {obs.status}", evidence=obs.evidence())
    try:
        names: set[str] = set()
        for family in text_string_to_metric_families(obs.body):
            names.add(family.name)
            if family.type == "counter":
                # The parser names counter families without _total; a counter with no
                # label values observed yet is still a declared series.
                names.add(family.name + "_total")
            names.update(sample.name for sample in family.samples)
    except (ValueError, TypeError, IndexError) as exc:
        return Verdict.error(criterion, f"{obs.url}: not Prometheus text format: {exc}", threshold=required, evidence=obs.evidence())
    missing = [name for name in required if name not in names]
    if missing:
        return Verdict.failed(
            criterion, sorted(names & set(required)), required,
            f"{obs.url} lacks required series: {', '.join(missing)}", evidence=obs.evidence(),
        )
    return Verdict.passed(criterion, required, required, f"{len(names)} series, all required present", evidence=obs.evidence())


@criterion(needs="a 200 JSON answer that carries the field")
def json_field_equals(criterion: str, obs: HttpObservation, field: str, expected: object) -> Verdict:
    """PASS when the JSON answer's ``field`` equals ``expected`` (e.g. the running version)."""
    if not obs.answered:
        return _no_answer(criterion, obs, expected)
    if obs.status != 200:
        return Verdict.failed(criterion, obs.status, 200, f"{obs.url} answered {obs.status}", evidence=obs.evidence())
    try:
        doc = obs.json()
    except ValueError as exc:
        return Verdict.error(criterion, str(exc), threshold=expected, evidence=obs.evidence())
    if not isinstance(doc, dict) or field not in doc:
        return Verdict.error(criterion, f"{obs.url}: answer has no field {field!r}", threshold=expected, evidence=obs.evidence())
    actual = doc[field]
    if actual != expected:
        return Verdict.failed(
            criterion, actual, expected, f"{obs.url} reports {field} {actual!r}, expected {expected!r}", evidence=obs.evidence()
        )
    return Verdict.passed(criterion, actual, expected, f"{field} is {actual!r}", evidence=obs.evidence())


@criterion(needs="a 201 for the order and a 200 read-back of the same order")
def order_round_trip(criterion: str, created: HttpObservation, read_back: HttpObservation | None) -> Verdict:
    """PASS when a paper order is accepted (201) and reads back with the same fields."""
    if not created.answered:
        return _no_answer(criterion, created, "201 then 200 with the same order")
    if created.status != 201:
        return Verdict.failed(
            criterion, created.status, 201,
            f"POST {created.url} answered {created.status}, expected 201: {created.body[:120]}",
            evidence=created.evidence(),
        )
    if read_back is None:
        return Verdict.error(criterion, "order accepted but it carries no id to read back", evidence=created.evidence())
    if not read_back.answered:
        return _no_answer(criterion, read_back, "200 with the same order")
    evidence = (created.evidence(), read_back.evidence())
    if read_back.status != 200:
        return Verdict.failed(
            criterion, read_back.status, 200, f"GET {read_back.url} answered {read_back.status}, expected 200", evidence=evidence
        )
    try:
        sent, got = created.json(), read_back.json()
    except ValueError as exc:
        return Verdict.error(criterion, str(exc), evidence=evidence)
    keys = ("id", "symbol", "side", "volume")
    if not isinstance(sent, dict) or not isinstance(got, dict) or sent.get("id") in (None, ""):
        return Verdict.error(criterion, "the order answers are not JSON objects carrying an id", evidence=evidence)
    differing = [k for k in keys if sent.get(k) != got.get(k)]
    if differing:
        return Verdict.failed(
            criterion, {k: got.get(k) for k in differing}, {k: sent.get(k) for k in differing},
            f"order read back differs in {', '.join(differing)}", evidence=evidence,
        )
    return Verdict.passed(criterion, got.get("id"), "same order", "order accepted and read back unchanged", evidence=evidence)
