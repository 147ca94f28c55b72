"""The smoke checks a blue-green rollout runs against green before any user reaches it.

The same questions as the post-deploy smoke suite (guide §5.2 step 4): alive, ready,
a XAUUSD signal within the smoke latency budget, and the version green reports — here
asked of one URL (green's preview Service) so blue is never touched.
"""

from __future__ import annotations

from collections.abc import Callable

from goldgate.config import Environment
from goldgate.criteria import http as http_criteria
from goldgate.probes.http import HttpProbe
from goldgate.verdict import Verdict

__all__ = ["smoke_checks"]


def smoke_checks(env: Environment, expected_version: str | None = None) -> Callable[[str], list[Verdict]]:
    """A smoke function for :func:`goldgate.rollout.bluegreen.blue_green`."""
    budget = env.thresholds.smoke_latency_ms

    def run(url: str) -> list[Verdict]:
        probe = HttpProbe(url, env.timeouts, verify_tls=env.http.verify_tls)
        try:
            out = [
                http_criteria.answers_with("green liveness /health", probe.get("/health"), budget_ms=budget),
                http_criteria.answers_with("green readiness /ready", probe.get("/ready"), budget_ms=budget),
                http_criteria.answers_with("green XAUUSD signal", probe.get("/api/v1/signal",
                                                                           params={"symbol": "XAUUSD"}),
                                           budget_ms=budget),
            ]
            if expected_version is not None:
                out.append(http_criteria.json_field_equals("green version", probe.get("/version"), "version",
                                                           expected_version))
            return out
        finally:
            probe.close()

    return run
