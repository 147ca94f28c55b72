"""Database metrics vocabulary (guide §8.3): query latency and connection count of the
order database, from its own statistics views."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import database_metrics
from goldgate.criteria.measured import measure_and_judge
from goldgate.criteria.post_deploy import shows_status
from goldgate.probes import pg_activity
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.database import engine_of
from goldgate.verdict import Status, expect
from steps.checklist import gate

LATENCY = "database query latency below its limit"
CONNECTIONS = "database connections below their share of max_connections"


def _order_database(environment: Environment) -> str:
    url = resolve_secret(environment.database.url) if environment.database.url else None
    if not url or engine_of(url) != "postgresql":
        pytest.skip(f"{environment.source_file or environment.name}: database.url names no PostgreSQL order "
                    "database (in the sandbox: recovery.wal_archive: sandbox with two regions running)")
    return url


@then(parsers.parse("the order database's mean query latency over {seconds:g} seconds is below the "
                    "environment's limit"))
def query_latency(environment: Environment, seconds: float) -> None:
    url, th = _order_database(environment), environment.thresholds
    gate(LATENCY, lambda: pg_activity.read_activity(url, seconds),
         lambda s: database_metrics.db_query_latency(s, th.db_query_latency_ms, th.db_min_statements))


@then("the order database's client connections stay below the environment's share of max_connections")
def connections(environment: Environment) -> None:
    url = _order_database(environment)
    gate(CONNECTIONS, lambda: pg_activity.read_activity(url, 0),
         lambda s: database_metrics.db_connections(s, environment.thresholds.db_connections_ratio))


@then(parsers.parse("the database latency check fails against a limit of {max_ms:g} ms over {seconds:g} seconds"))
def query_latency_fails(environment: Environment, max_ms: float, seconds: float) -> None:
    url, th = _order_database(environment), environment.thresholds
    verdict = measure_and_judge(LATENCY, lambda: pg_activity.read_activity(url, seconds),
                                lambda s: database_metrics.db_query_latency(s, max_ms, th.db_min_statements),
                                (ArtifactUnavailable,))
    expect(shows_status(verdict, Status.FAIL, criterion="statements slower than the limit fail the latency check"))
