"""Post-deploy smoke checks (guide §5.2 step 4, §5.3): fast, read-only, one question each.

`pytest --env=production -m smoke` right after a deploy. Every check goes probe →
criterion → Verdict; budgets and the expected version come from the environment file.
"""

from __future__ import annotations

import uuid

import pytest

from goldgate.config import Environment
from goldgate.criteria import http as http_criteria
from goldgate.probes.http import HttpProbe
from goldgate.verdict import expect

pytestmark = pytest.mark.smoke

#: Series the dashboards and rollback criteria of guide §8 are built on.
REQUIRED_SERIES = (
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "trades_executed_total",
    "pnl_usd",
    "model_inference_seconds_bucket",
    "broker_connected",
)


def test_liveness_answers(bot_http: HttpProbe, environment: Environment) -> None:
    """The liveness endpoint answers 200 within the smoke budget."""
    obs = bot_http.get("/health")
    expect(http_criteria.answers_with("liveness /health", obs, budget_ms=environment.thresholds.smoke_latency_ms))


def test_readiness_answers(bot_http: HttpProbe, environment: Environment) -> None:
    """Readiness (model loaded, database reachable) answers 200 within the smoke budget."""
    obs = bot_http.get("/ready")
    expect(http_criteria.answers_with("readiness /ready", obs, budget_ms=environment.thresholds.smoke_latency_ms))


def test_metrics_exposed(bot_http: HttpProbe) -> None:
    """/metrics parses as Prometheus text and carries the series monitoring depends on."""
    expect(http_criteria.metrics_expose("metrics exposed", bot_http.get("/metrics"), REQUIRED_SERIES))


def test_running_version_is_the_release(bot_http: HttpProbe, environment: Environment) -> None:
    """The version answering is the one being released, not a stale pod."""
    obs = bot_http.get("/version")
    expect(http_criteria.json_field_equals("running version", obs, "version", environment.release.version))


def test_signal_round_trip(bot_http: HttpProbe, environment: Environment) -> None:
    """A XAUUSD trading signal comes back within the latency budget."""
    obs = bot_http.get("/api/v1/signal", params={"symbol": "XAUUSD"})
    expect(http_criteria.answers_with("signal round trip", obs, budget_ms=environment.thresholds.smoke_latency_ms))


def test_paper_order_round_trip(bot_http: HttpProbe) -> None:
    """A paper order is accepted and reads back unchanged (database path end to end)."""
    order = {"symbol": "XAUUSD", "side": "BUY", "volume": 0.01, "client_order_id": f"smoke-{uuid.uuid4().hex[:12]}"}
    created = bot_http.post("/api/v1/orders", order)
    read_back = None
    if created.answered and created.status == 201:
        try:
            order_id = created.json().get("id")
        except ValueError:
            order_id = None
        if order_id is not None:
            read_back = bot_http.get(f"/api/v1/orders/{order_id}")
    expect(http_criteria.order_round_trip("paper order round trip", created, read_back))
