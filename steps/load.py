"""Load vocabulary: traffic at a rate for a while, then latency and error-rate thresholds.

Steps only parse words; the runner (``goldgate.load``) measures in locust's own
processes and the criteria (``goldgate.criteria.load``) decide. The numbers in the
sentences are the thresholds; the environment file supplies the rest of the load
profile (traffic weights, request cap, think times) and the run's safety limits.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import load as load_criteria
from goldgate.load import baseline as baselines
from goldgate.load import evidence, guard
from goldgate.load.measure import abort_check, measurement
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult, LoadRunError, LoadRunner, run_together
from goldgate.safety import MutationRefused, SafetyPolicy
from goldgate.verdict import Verdict, expect


def _plan(environment: Environment, bot_url: str, pytestconfig: pytest.Config, **overrides: Any) -> LoadPlan:
    return LoadPlan.from_profile(
        environment.load, bot_url, workers=int(pytestconfig.getoption("goldgate_load_workers") or 0),
        timeout_s=environment.timeouts.read_s, **overrides,
    )


@given(parsers.re(r"(?P<rate>\d+(?:\.\d+)?) requests per second for (?P<seconds>\d+(?:\.\d+)?) seconds?"),
       target_fixture="load_plan")
def arrival_rate(rate: str, seconds: str, environment: Environment, bot_url: str,
                 pytestconfig: pytest.Config) -> LoadPlan:
    return _plan(environment, bot_url, pytestconfig, model="open", rate_rps=float(rate), duration_s=float(seconds))


@given("the load profile of the environment", target_fixture="load_plan")
def environment_profile(environment: Environment, bot_url: str, pytestconfig: pytest.Config) -> LoadPlan:
    return _plan(environment, bot_url, pytestconfig, model="open")


@given(parsers.re(r"(?P<users>\d+) users with think time for (?P<seconds>\d+(?:\.\d+)?) seconds?"),
       target_fixture="load_plan")
def closed_users(users: str, seconds: str, environment: Environment, bot_url: str,
                 pytestconfig: pytest.Config) -> LoadPlan:
    return _plan(environment, bot_url, pytestconfig, model="closed", users=int(users), duration_s=float(seconds))


def _run(plans: list[LoadPlan], environment: Environment, safety: SafetyPolicy,
         tmp_path_factory: pytest.TempPathFactory, rootpath: Path) -> dict[str, LoadResult]:
    """Authorize, then run the plans side by side; early abort uses the environment's
    thresholds (the guide's numbers), the Then steps judge with the sentence's."""
    try:
        for plan in plans:
            guard.authorize(plan, environment, safety)
    except MutationRefused as exc:
        expect(Verdict.error("load run allowed", str(exc)))
    t = environment.thresholds
    locustfile = rootpath / "load" / "locustfile.py"
    headers = {name: resolve_secret(ref) for name, ref in environment.http.headers.items()}
    runners = [LoadRunner(p, results_dir=tmp_path_factory.mktemp(f"load-{p.label}"), slow_ms=t.p95_latency_ms,
                          abort_check=abort_check(t.error_rate, t.p95_latency_ms), locustfile=locustfile,
                          headers=headers)
               for p in plans]
    try:
        results = run_together(runners)
    except LoadRunError as exc:
        expect(Verdict.error("load run", str(exc)))
    evidence.attach(results, limit_ms=environment.thresholds.p95_latency_ms)
    return {r.plan.label: r for r in results}


@when("the load runs against the release", target_fixture="load_runs")
def load_release(load_plan: LoadPlan, environment: Environment, safety: SafetyPolicy,
                 tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> dict[str, Any]:
    return _run([load_plan], environment, safety, tmp_path_factory, Path(pytestconfig.rootpath))


@when("the same load runs against the release and the stable version", target_fixture="load_runs")
def load_release_and_stable(load_plan: LoadPlan, environment: Environment, safety: SafetyPolicy,
                            tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> dict[str, Any]:
    root = Path(pytestconfig.rootpath)
    stored = root / "load" / "baselines" / f"{environment.name}.json"
    with contextlib.ExitStack() as stack:
        stable_url = environment.http.standby_url
        if stable_url is None and environment.kubernetes.is_sandbox and not stored.is_file():
            version = environment.release.previous_version
            if version:
                try:
                    stable_url = stack.enter_context(baselines.stable_sandbox_bot(version))
                except baselines.BaselineError as exc:
                    expect(Verdict.error("stable version for the baseline", str(exc)))
        if stable_url is None:
            runs: dict[str, Any] = _run([load_plan], environment, safety, tmp_path_factory, root)
            try:
                runs["baseline"] = baselines.load(stored, load_plan)
            except baselines.BaselineError as exc:
                expect(Verdict.inconclusive(
                    "baseline for the p95 comparison",
                    f"no stable version to measure (http.standby_url is not set) and {exc}"))
            return runs
        stable = load_plan.with_(target_url=stable_url, label="baseline")
        return _run([load_plan, stable], environment, safety, tmp_path_factory, root)


def _release(load_runs: dict[str, Any]) -> load_criteria.LoadMeasurement:
    return measurement(load_runs["release"])


@then(parsers.parse("the p95 latency is below {limit:g} ms"))
def p95_below(load_runs: dict[str, Any], limit: float, environment: Environment) -> None:
    expect(load_criteria.p95_latency_below(_release(load_runs), limit,
                                           min_requests=environment.thresholds.min_requests))


@then(parsers.parse("the error rate is below {percent:g} %"))
def error_rate_below(load_runs: dict[str, Any], percent: float, environment: Environment) -> None:
    expect(load_criteria.error_rate_below(_release(load_runs), percent / 100,
                                          min_requests=environment.thresholds.min_requests))


@then(parsers.parse("the p95 latency is at most {factor:g} times the baseline"))
def p95_vs_baseline(load_runs: dict[str, Any], factor: float, environment: Environment) -> None:
    base = load_runs["baseline"]
    base_m = base if isinstance(base, load_criteria.LoadMeasurement) else measurement(base)
    expect(load_criteria.p95_within_baseline(_release(load_runs), base_m, factor,
                                             min_requests=environment.thresholds.min_requests))
