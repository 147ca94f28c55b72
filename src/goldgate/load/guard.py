"""May this load run start? Production safety and the loopback rule, before any request.

Load is a mutation of sorts: it costs the target capacity and, against the bot's order
route, creates paper trades. Against an environment with ``production: true`` it needs
``--allow-mutations`` (and the change ticket the safety policy asks for) *and* an explicit
``load.max_rate_rps`` that the plan stays under; goldgate's own tests only ever target
loopback.
"""

from __future__ import annotations

from goldgate.config import Environment
from goldgate.load.plan import LoadPlan
from goldgate.safety import MutationRefused, SafetyPolicy


def authorize(plan: LoadPlan, environment: Environment, safety: SafetyPolicy) -> None:
    """Raise :class:`MutationRefused` naming what is missing; return when the run may start."""
    if not environment.production:
        return
    action = f"send load ({plan.rate_rps:g} req/s, {plan.duration_s:g} s) to production environment {environment.name!r}"
    safety.require(action)
    cap = environment.load.max_rate_rps
    if cap is None:
        raise MutationRefused(f"refused to {action}: set load.max_rate_rps in {environment.source_file or environment.name}")
    rate = plan.rate_rps if plan.model == "open" else None
    if rate is not None and rate > cap:
        raise MutationRefused(f"refused to {action}: {rate:g} req/s is above load.max_rate_rps {cap:g}")
    if plan.model == "closed":
        # A closed model's rate is not fixed; bound it by users / shortest think time.
        worst = plan.users / max(plan.think_time_s[0], 1e-3)
        if worst > cap:
            raise MutationRefused(
                f"refused to {action}: {plan.users} users with {plan.think_time_s[0]:g} s think time may reach "
                f"{worst:g} req/s, above load.max_rate_rps {cap:g}")
    safety.record("load", plan.target_url, "started", rate_rps=plan.rate_rps, duration_s=plan.duration_s,
                  max_requests=plan.max_requests, model=plan.model)


def require_loopback(plan: LoadPlan) -> None:
    """For goldgate's own tests and benchmarks: traffic only to 127.0.0.1 / localhost."""
    if not plan.target_is_loopback:
        raise MutationRefused(f"refused to send test load to {plan.target_url}: only loopback targets are allowed")
