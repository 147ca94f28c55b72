"""HTTP vocabulary: requests to the bot and what their answers must be."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from goldgate.config import Environment
from goldgate.criteria import http as http_criteria
from goldgate.probes.http import HttpObservation, HttpProbe
from goldgate.verdict import expect


@given("the trading bot service of the environment", target_fixture="service")
def the_service(bot_http: HttpProbe) -> HttpProbe:
    return bot_http


@when(parsers.parse('I request "{path}"'), target_fixture="answer")
def request_path(service: HttpProbe, path: str) -> HttpObservation:
    route, _, query = path.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part) if query else None
    return service.get(route, params=params)


@then(parsers.parse("the answer is {status:d} within {budget:g} ms"))
def answer_within(answer: HttpObservation, status: int, budget: float) -> None:
    expect(http_criteria.answers_with(f"{answer.method} {answer.url}", answer, expected_status=status, budget_ms=budget))


@then(parsers.parse("the answer is {status:d} within the smoke latency budget"))
def answer_within_budget(answer: HttpObservation, status: int, environment: Environment) -> None:
    expect(http_criteria.answers_with(
        f"{answer.method} {answer.url}", answer, expected_status=status,
        budget_ms=environment.thresholds.smoke_latency_ms,
    ))


@then("the reported version is the release version")
def version_is_release(answer: HttpObservation, environment: Environment) -> None:
    expect(http_criteria.json_field_equals("running version", answer, "version", environment.release.version))
