"""The pytest plugin: options, the loaded environment, fixtures, and the reporting hooks.

Registered through the ``pytest11`` entry point, so ``pytest --env=NAME`` works in any
checkout with goldgate installed. Plugins talk only through hooks and fixtures: the
loaded environment and the verdict collector live in ``config.stash``, not in globals.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import goldgate
from goldgate.config import Environment, EnvironmentFileError, load_environment
from goldgate.report import allure_bdd
from goldgate.report.verdict_file import VerdictCollector, write_verdict_file
from goldgate.safety import SafetyPolicy
from goldgate.verdict import InconclusiveError, ProbeError, Verdict, VerdictNotPassed, register_sink

ENV_KEY = pytest.StashKey[Environment]()
COLLECTOR_KEY = pytest.StashKey[VerdictCollector]()
SAFETY_KEY = pytest.StashKey[SafetyPolicy]()
CURRENT_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goldgate", "release gates for the trading bot")
    group.addoption("--env", action="store", default="local", dest="goldgate_env",
                    help="environment to check: environments/NAME.yaml (default: local = embedded sandbox)")
    group.addoption("--environments-dir", action="store", default=None, dest="goldgate_env_dir",
                    help="folder of environment files (default: <rootdir>/environments)")
    group.addoption("--allow-mutations", action="store_true", default=False, dest="goldgate_allow_mutations",
                    help="permit rollbacks, traffic switches and load (read-only otherwise)")
    group.addoption("--change", action="store", default=None, dest="goldgate_change",
                    help="change ticket (e.g. CHG-123); required for mutations against production")
    group.addoption("--sandbox-fault", action="append", default=[], dest="goldgate_sandbox_faults",
                    help="start the local sandbox with this fault (repeatable; see `goldgate sandbox faults`)")
    group.addoption("--keep-sandbox", action="store_true", default=False, dest="goldgate_keep_sandbox",
                    help="leave a sandbox this run started running afterwards")
    group.addoption("--load-workers", action="store", type=int, default=0, dest="goldgate_load_workers",
                    help="run load with a locust master and N workers")
    group.addoption("--verdict-file", action="store", default="reports/verdict.json", dest="goldgate_verdict_file",
                    help="where to write the GO / NO-GO / ROLLBACK decision ('' to skip)")


def _environments_dir(config: pytest.Config) -> Path:
    opt = config.getoption("goldgate_env_dir")
    return Path(opt) if opt else Path(config.rootpath) / "environments"


def pytest_configure(config: pytest.Config) -> None:
    try:
        env = load_environment(config.getoption("goldgate_env"), _environments_dir(config))
    except EnvironmentFileError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[ENV_KEY] = env
    safety = SafetyPolicy(
        environment=env.name,
        production=env.production,
        allow_mutations=config.getoption("goldgate_allow_mutations"),
        change=config.getoption("goldgate_change"),
    )
    if safety.allow_mutations:
        problems = [p for p in safety.problems() if "--allow-mutations" not in p]
        if problems:
            raise pytest.UsageError("refusing a mutating run: " + "; ".join(problems))
    config.stash[SAFETY_KEY] = safety
    collector = VerdictCollector()
    config.stash[COLLECTOR_KEY] = collector

    def _sink(verdict: Verdict) -> None:
        _attach(verdict)
        nodeid = config.stash.get(CURRENT_KEY, "")
        if nodeid:
            collector.record(nodeid).verdicts.append(verdict)

    config.add_cleanup(register_sink(_sink))


def _attach(verdict: Verdict) -> None:
    """Evidence goes onto the current Allure step (a no-op when Allure is not recording)."""
    try:
        import json

        import allure

        allure.attach(
            json.dumps(verdict.to_dict(), indent=2, default=str),
            name=f"{verdict.status.value}: {verdict.criterion}",
            attachment_type=allure.attachment_type.JSON,
        )
    except Exception:  # noqa: S110 - reporting must never change a verdict
        pass


# ----------------------------------------------------------------------------- outcomes
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    item.config.stash[CURRENT_KEY] = item.nodeid
    item.config.stash[COLLECTOR_KEY].record(item.nodeid)
    yield
    item.config.stash[CURRENT_KEY] = ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    record = item.config.stash[COLLECTOR_KEY].record(item.nodeid)
    if report.skipped and report.when in ("setup", "call"):
        record.outcome = "skipped"
    elif report.failed:
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, InconclusiveError | ProbeError) or report.when != "call":
            record.outcome = "error"
            report.goldgate_status = "INCONCLUSIVE" if isinstance(exc, InconclusiveError) else "ERROR"
        else:
            record.outcome = "failed"
        if isinstance(exc, VerdictNotPassed):
            record.message = exc.verdict.message()
        elif call.excinfo is not None:
            record.message = f"{call.excinfo.typename}: {str(call.excinfo.value).splitlines()[0] if str(call.excinfo.value) else ''}"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """INCONCLUSIVE and ERROR verdicts show as errors, never as passes or plain failures."""
    status = getattr(report, "goldgate_status", None)
    if status and report.when == "call":
        return "error", "E", status
    return None


# ----------------------------------------------------------------------------- pytest-bdd → Allure
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    allure_bdd.before_scenario(request, feature, scenario)


def pytest_bdd_before_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any) -> None:
    allure_bdd.before_step(request, step)


def pytest_bdd_after_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any, step_func_args: Any) -> None:
    allure_bdd.after_step(request)


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any, exception: Exception) -> None:
    allure_bdd.step_error(request, exception)


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    allure_bdd.before_step(request, step)
    allure_bdd.step_error(request, exception)


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    allure_bdd.close_dangling(request)


# ----------------------------------------------------------------------------- session end
def _environment_properties(env: Environment, version: str) -> dict[str, str]:
    return {
        "environment": env.name,
        "production": str(env.production).lower(),
        "target.namespace": env.kubernetes.namespace,
        "target.deployment": env.kubernetes.deployment,
        "target.kubeconfig": "sandbox" if env.kubernetes.is_sandbox else env.kubernetes.kubeconfig,
        "target.http": env.http.base_url,
        "metrics.source": env.metrics.source,
        "version.under_test": version,
        "goldgate.version": goldgate.__version__,
        "python": platform.python_version(),
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    env = config.stash.get(ENV_KEY, None)
    collector = config.stash.get(COLLECTOR_KEY, None)
    if env is None or collector is None:
        return
    alluredir = config.getoption("allure_report_dir", None)
    if alluredir:
        _write_allure_extras(Path(alluredir), _environment_properties(env, env.release.version), config)
    target = config.getoption("goldgate_verdict_file")
    if target and collector.tests:
        path = Path(target)
        if not path.is_absolute():
            path = Path(config.rootpath) / path
        safety = config.stash[SAFETY_KEY]
        write_verdict_file(path, collector, {
            "environment": env.name,
            "production": env.production,
            "version": env.release.version,
            "change": safety.change,
            "actions": safety.actions,
            "pytest_exit_status": int(exitstatus),
        })


def _write_allure_extras(alluredir: Path, props: dict[str, str], config: pytest.Config) -> None:
    import shutil

    alluredir.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in props.items()]
    (alluredir / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    categories = Path(config.rootpath) / "reports" / "categories.json"
    if not categories.is_file():
        categories = Path(__file__).with_name("report") / "categories.json"
    if categories.is_file():
        shutil.copyfile(categories, alluredir / "categories.json")
    executor = {
        "name": os.environ.get("CI_NAME", "GitHub Actions" if os.environ.get("GITHUB_ACTIONS") else "local"),
        "type": "ci" if os.environ.get("CI") else "local",
        "buildName": os.environ.get("CI_BUILD_NAME", os.environ.get("GITHUB_RUN_ID", "")),
    }
    import json

    (alluredir / "executor.json").write_text(json.dumps(executor), encoding="utf-8")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def environment(pytestconfig: pytest.Config) -> Environment:
    """The validated environment of this run (``--env``)."""
    return pytestconfig.stash[ENV_KEY]


@pytest.fixture(scope="session")
def safety(pytestconfig: pytest.Config) -> SafetyPolicy:
    """The run's mutation policy; actions call ``safety.require(...)`` before changing anything."""
    return pytestconfig.stash[SAFETY_KEY]


@pytest.fixture(scope="session")
def sandbox(pytestconfig: pytest.Config, environment: Environment) -> Iterator[Any]:
    """For ``kubeconfig: sandbox``: a running sandbox (reused, or started and later stopped)."""
    if not environment.kubernetes.is_sandbox:
        yield None
        return
    from goldgate.sandbox import lifecycle

    state_dir = Path(os.environ.get("GOLDGATE_SANDBOX_DIR") or Path(pytestconfig.rootpath) / ".goldgate" / "sandbox")
    faults = list(pytestconfig.getoption("goldgate_sandbox_faults"))
    try:
        info, started = lifecycle.ensure_running(state_dir, faults)
    except lifecycle.SandboxError as exc:
        pytest.exit(f"sandbox could not start: {exc}", returncode=3)
    yield info
    if started and not pytestconfig.getoption("goldgate_keep_sandbox"):
        lifecycle.stop(state_dir)


@pytest.fixture(scope="session")
def kube(environment: Environment, sandbox: Any) -> Iterator[Any]:
    """Kubernetes clients for the target (the sandbox's kubeconfig for ``--env=local``)."""
    from goldgate.probes.kubernetes import KubernetesUnavailable, connect

    kubeconfig = str(sandbox.kubeconfig) if sandbox is not None else None
    try:
        clients = connect(environment.kubernetes, kubeconfig)
    except KubernetesUnavailable as exc:
        pytest.fail(f"ERROR: cannot reach Kubernetes: {exc}", pytrace=False)
    yield clients
    clients.close()


@pytest.fixture(scope="session")
def bot_url(environment: Environment, request: pytest.FixtureRequest) -> str:
    """The bot's HTTP base URL: from the environment, or the Service's load balancer."""
    if environment.http.base_url != "service":
        return environment.http.base_url
    from goldgate.probes.kubernetes import KubernetesUnavailable, service_url

    kube = request.getfixturevalue("kube")
    try:
        return service_url(kube, environment.kubernetes.namespace, environment.kubernetes.service)
    except KubernetesUnavailable as exc:
        pytest.fail(f"ERROR: cannot resolve the bot's URL: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def bot_http(environment: Environment, bot_url: str) -> Iterator[Any]:
    """An HttpProbe against the bot with the environment's timeouts and secret headers."""
    from goldgate.config import resolve_secret
    from goldgate.probes.http import HttpProbe

    headers = {name: resolve_secret(ref) for name, ref in environment.http.headers.items()}
    probe = HttpProbe(bot_url, environment.timeouts, headers=headers, verify_tls=environment.http.verify_tls)
    yield probe
    probe.close()
