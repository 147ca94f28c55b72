"""Load vocabulary: traffic at a rate for a while, then latency and error-rate thresholds.

Steps only parse words; the runner (``goldgate.load``) measures in locust's own
processes and the criteria (``goldgate.criteria.load``) decide. The numbers in the
sentences are the thresholds; the environment file supplies the rest of the load
profile (traffic weights, request cap, think times), the load generator's limits and the
run's safety limits.

The baseline ratio compares like with like: around the two runs the server's own timings
are read (``goldgate.probes.server_timings``: the release's pods through the environment's
metric source, the stable version's single process through its ``/metrics``), and the
client's timings on the same routes (``metrics.routes``) travel with each run for the
fallback the criterion names in its verdict.

A run stops early only on a breach of a limit its own scenario states: before the run,
the scenario's Then sentences are read with the same parsers the Then steps use, so
"the error rate is below 1 %" both stops a run that can no longer stay below 1 % and
judges the result; a scenario that states no error-rate limit is never stopped on one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.config import Environment, resolve_secret
from goldgate.criteria import load as load_criteria
from goldgate.criteria import post_deploy
from goldgate.load import baseline as baselines
from goldgate.load import evidence, guard
from goldgate.load.client_timings import client_timings
from goldgate.load.limits import generator_limits
from goldgate.load.measure import abort_check, measurement
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult, LoadRunError, LoadRunner, run_together
from goldgate.probes.server_timings import ProcessWindow, release_window
from goldgate.safety import MutationRefused, SafetyPolicy
from goldgate.verdict import Status, Verdict, expect

#: The Then sentences, shared by the Then steps and the early abort that reads them ahead.
P95_BELOW = parsers.parse("the p95 latency is below {limit:g} ms")
ERROR_RATE_BELOW = parsers.parse("the error rate is below {percent:g} %")
_SCENARIO = pytest.StashKey[Any]()


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """Keep the running scenario, so the When step can read the limits its Then steps state."""
    request.node.stash[_SCENARIO] = scenario


def sentence_limits(step_names: Sequence[str]) -> tuple[float | None, float | None]:
    """The strictest error-rate limit (a fraction) and p95 limit (ms) the sentences state."""
    rates = [ERROR_RATE_BELOW.parse_arguments(n)["percent"] / 100 for n in step_names
             if ERROR_RATE_BELOW.is_matching(n)]
    p95s = [P95_BELOW.parse_arguments(n)["limit"] for n in step_names if P95_BELOW.is_matching(n)]
    return (min(rates) if rates else None), (min(p95s) if p95s else None)


def _then_steps(request: pytest.FixtureRequest) -> list[str]:
    scenario = request.node.stash.get(_SCENARIO, None)
    return [step.name for step in getattr(scenario, "steps", ()) if getattr(step, "type", "") == "then"]


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
         tmp_path_factory: pytest.TempPathFactory, rootpath: Path,
         then_steps: Sequence[str] = ()) -> dict[str, LoadResult]:
    """Authorize, then run the plans side by side; the early abort holds the run to the
    limits the scenario's own sentences state, the same the Then steps judge with."""
    try:
        for plan in plans:
            guard.authorize(plan, environment, safety)
    except MutationRefused as exc:
        expect(load_criteria.run_not_possible("load run allowed", str(exc)))
    error_limit, p95_limit_ms = sentence_limits(then_steps)
    slow_ms = p95_limit_ms if p95_limit_ms is not None else environment.thresholds.p95_latency_ms
    locustfile = rootpath / "load" / "locustfile.py"
    headers = {name: resolve_secret(ref) for name, ref in environment.http.headers.items()}
    runners = [LoadRunner(p, results_dir=tmp_path_factory.mktemp(f"load-{p.label}"), slow_ms=slow_ms,
                          abort_check=abort_check(error_limit, p95_limit_ms), locustfile=locustfile,
                          headers=headers)
               for p in plans]
    try:
        results = run_together(runners)
    except LoadRunError as exc:
        expect(load_criteria.run_not_possible("load run", str(exc)))
    evidence.attach(results, limit_ms=slow_ms)
    return {r.plan.label: r for r in results}


@when("the load runs against the release", target_fixture="load_runs")
def load_release(load_plan: LoadPlan, environment: Environment, safety: SafetyPolicy,
                 tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config,
                 request: pytest.FixtureRequest) -> dict[str, Any]:
    return _run([load_plan], environment, safety, tmp_path_factory, Path(pytestconfig.rootpath),
                _then_steps(request))


def _stable_window(environment: Environment, url: str) -> ProcessWindow:
    t = environment.timeouts
    return ProcessWindow(url, routes=environment.metrics.routes, connect_timeout_s=t.connect_s,
                         read_timeout_s=t.read_s, retries=t.retries)


@when("the same load runs against the release and the stable version", target_fixture="load_runs")
def load_release_and_stable(load_plan: LoadPlan, environment: Environment, safety: SafetyPolicy,
                            tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config,
                            request: pytest.FixtureRequest) -> dict[str, Any]:
    """Both runs side by side, each with the server's own timings over it (``*_server``)."""
    root = Path(pytestconfig.rootpath)
    then_steps = _then_steps(request)
    stored = root / "load" / "baselines" / f"{environment.name}.json"
    kube = request.getfixturevalue("kube") if environment.metrics.source == "scrape" else None
    with contextlib.ExitStack() as stack:
        stable_url = environment.load.baseline_url
        start_stable = request.getfixturevalue("stable_release") if stable_url is None else None
        if start_stable is not None and not stored.is_file():
            version = _baseline_build(request) or environment.release.previous_version
            if version:
                try:
                    stable_url = stack.enter_context(start_stable(version))
                except baselines.BaselineError as exc:
                    expect(load_criteria.run_not_possible("stable version for the baseline", str(exc)))
        if stable_url is None:
            window = release_window(environment, kube)
            runs: dict[str, Any] = _run([load_plan], environment, safety, tmp_path_factory, root, then_steps)
            runs["release_server"] = window.close()
            try:
                runs["baseline"] = baselines.load(stored, load_plan)
            except baselines.BaselineError as exc:
                expect(load_criteria.baseline_missing(
                    f"no stable version to measure (load.baseline_url is not set) and {exc}"))
            return runs
        stable = load_plan.with_(target_url=stable_url, label="baseline")
        windows = release_window(environment, kube), _stable_window(environment, stable_url)
        runs = _run([load_plan, stable], environment, safety, tmp_path_factory, root, then_steps)
        runs["release_server"], runs["baseline_server"] = (w.close() for w in windows)
        return runs


def _measured(run: LoadResult | load_criteria.LoadMeasurement,
              environment: Environment) -> load_criteria.LoadMeasurement:
    """A run's measurement with the client's timings on the routes the server side counts."""
    if isinstance(run, load_criteria.LoadMeasurement):
        return run  # a stored baseline carries what it recorded
    return dataclasses.replace(measurement(run), client=client_timings(run, environment.metrics.routes))


def _release(load_runs: dict[str, Any]) -> load_criteria.LoadMeasurement:
    return measurement(load_runs["release"])


@then(P95_BELOW)
def p95_below(load_runs: dict[str, Any], limit: float, environment: Environment) -> None:
    expect(load_criteria.p95_latency_below(_release(load_runs), limit, min_requests=environment.thresholds.min_requests,
                                           limits=generator_limits(environment.load)))


@then(ERROR_RATE_BELOW)
def error_rate_below(load_runs: dict[str, Any], percent: float, environment: Environment) -> None:
    expect(load_criteria.error_rate_below(_release(load_runs), percent / 100,
                                          min_requests=environment.thresholds.min_requests,
                                          limits=generator_limits(environment.load)))


def _baseline_verdict(load_runs: dict[str, Any], factor: float, environment: Environment) -> Verdict:
    return load_criteria.p95_within_baseline(
        _measured(load_runs["release"], environment), _measured(load_runs["baseline"], environment), factor,
        min_requests=environment.thresholds.min_requests, limits=generator_limits(environment.load),
        release_server=load_runs.get("release_server"), baseline_server=load_runs.get("baseline_server"))


@then(parsers.parse("the p95 latency is at most {factor:g} times the baseline"))
def p95_vs_baseline(load_runs: dict[str, Any], factor: float, environment: Environment) -> None:
    expect(_baseline_verdict(load_runs, factor, environment))


def _baseline_build(request: pytest.FixtureRequest) -> str | None:
    """The stable build a rehearsal chose (``baseline_build``), else None: the previous release."""
    try:
        return request.getfixturevalue("baseline_build")
    except pytest.FixtureLookupError:
        return None


@given(parsers.parse('the stable version is the faster build "{build}" of the previous release'),
       target_fixture="baseline_build")
def faster_baseline_build(build: str, environment: Environment) -> str:
    """A rehearsal: the baseline is a build of the previous release much faster than the release."""
    if not environment.rehearsals:
        pytest.skip(f"{environment.source_file}: rehearsals is not true — faster builds are run only where "
                    "goldgate may plant them")
    if not environment.release.previous_version:
        pytest.skip(f"{environment.source_file}: release.previous_version is not set — no stable build to vary")
    return f"{environment.release.previous_version}-{build}"


@then(parsers.parse("the p95 latency check at most {factor:g} times the baseline fails"))
def p95_vs_baseline_fails(load_runs: dict[str, Any], factor: float, environment: Environment) -> None:
    expect(post_deploy.shows_status(_baseline_verdict(load_runs, factor, environment), Status.FAIL,
                                    criterion=f"a baseline build genuinely faster fails p95 at most {factor:g}x"))
