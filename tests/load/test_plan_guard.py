"""The load plan's bounds, and the production safety rule for load."""

from __future__ import annotations

import pytest

from goldgate.config import Environment
from goldgate.load.guard import authorize, require_loopback
from goldgate.load.plan import LoadPlan, PlanError
from goldgate.safety import MutationRefused, SafetyPolicy


def test_plan_from_profile_takes_the_feature_numbers_over_the_environment() -> None:
    env = Environment.model_validate({"name": "x", "release": {"version": "v1"},
                                      "load": {"rate_rps": 40, "duration_s": 15, "max_requests": 100}})
    plan = LoadPlan.from_profile(env.load, "http://127.0.0.1:1", rate_rps=20, duration_s=10)
    assert (plan.rate_rps, plan.duration_s, plan.max_requests) == (20, 10, 100)
    assert plan.planned_requests == 100  # the hard cap wins over rate x duration
    assert LoadPlan("http://127.0.0.1:1", rate_rps=20, duration_s=10).planned_requests == 200
    assert LoadPlan("http://127.0.0.1:1", model="closed").planned_requests is None


def test_each_process_gets_a_share_of_the_cap_that_never_sums_above_it() -> None:
    for workers in (0, 1, 2, 3, 7):
        plan = LoadPlan("http://127.0.0.1:1", max_requests=100, workers=workers)
        assert plan.request_budget_per_process * plan.processes <= 100
    assert LoadPlan("http://127.0.0.1:1", model="open", workers=3).locust_users == 3
    assert LoadPlan("http://127.0.0.1:1", model="closed", users=12, workers=3).locust_users == 12


@pytest.mark.parametrize(("kw", "words"), [
    ({"model": "spiky"}, "model"), ({"rate_rps": 0}, "rate_rps"), ({"duration_s": float("inf")}, "duration_s"),
    ({"max_requests": 0}, "max_requests"), ({"weights": {"signal": 0}}, "weights"),
    ({"weights": {"withdraw": 1}}, "unknown"), ({"target_url": "ftp://x"}, "target_url"),
])
def test_bad_plans_are_refused(kw, words) -> None:
    with pytest.raises(PlanError, match=words):
        LoadPlan(**{"target_url": "http://127.0.0.1:1", **kw})


def test_tests_only_target_loopback() -> None:
    require_loopback(LoadPlan("http://127.0.0.1:8080"))
    require_loopback(LoadPlan("http://localhost:8080"))
    with pytest.raises(MutationRefused, match="only loopback"):
        require_loopback(LoadPlan("http://trading-bot.prod.example:8080"))


def _prod(**load) -> Environment:
    return Environment.model_validate({"name": "production", "production": True,
                                       "kubernetes": {"kubeconfig": "/etc/kube/config"},
                                       "release": {"version": "v1"}, "load": load})


PLAN = LoadPlan("https://bot.example", rate_rps=20, duration_s=10)


def test_production_load_is_refused_without_allow_mutations() -> None:
    safety = SafetyPolicy("production", production=True, allow_mutations=False, change="CHG-1")
    with pytest.raises(MutationRefused, match="--allow-mutations"):
        authorize(PLAN, _prod(max_rate_rps=50), safety)
    assert safety.actions == []


def test_production_load_is_refused_without_an_explicit_rate_cap() -> None:
    safety = SafetyPolicy("production", production=True, allow_mutations=True, change="CHG-1")
    with pytest.raises(MutationRefused, match="max_rate_rps"):
        authorize(PLAN, _prod(), safety)
    with pytest.raises(MutationRefused, match=r"above load\.max_rate_rps 10"):
        authorize(PLAN, _prod(max_rate_rps=10), safety)
    with pytest.raises(MutationRefused, match="may reach"):
        authorize(PLAN.with_(model="closed", users=50, think_time_s=(0.1, 0.2)), _prod(max_rate_rps=100), safety)
    assert safety.actions == []


def test_production_load_with_both_runs_and_is_recorded() -> None:
    safety = SafetyPolicy("production", production=True, allow_mutations=True, change="CHG-1")
    authorize(PLAN, _prod(max_rate_rps=50), safety)
    assert safety.actions[0]["action"] == "load" and safety.actions[0]["change"] == "CHG-1"


def test_non_production_needs_no_flags() -> None:
    env = Environment.model_validate({"name": "staging", "release": {"version": "v1"}})
    authorize(PLAN, env, SafetyPolicy("staging", production=False))
