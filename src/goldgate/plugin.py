"""The pytest plugin: options, the loaded environment, fixtures, and the reporting hooks.

Registered through the ``pytest11`` entry point, so ``pytest --env=NAME`` works in any
checkout with goldgate installed. Plugins talk only through hooks and fixtures: the
loaded environment and the verdict collector live in ``config.stash``, not in globals.

Installed in a team's own venv, the plugin is inert: it loads no environment, writes no
file, changes no option and starts nothing unless the run selects goldgate — ``--env``,
``--goldgate``, or ``goldgate = true`` in the rootdir's pytest configuration (as
goldgate's own pyproject.toml has). Every hook below returns at once otherwise.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import goldgate
from goldgate.config import Environment, EnvironmentFileError, load_environment
from goldgate.report import allure_bdd, redact
from goldgate.report import session as report_session
from goldgate.report.change import change_problems, required_approvals, resolve_manifest_path
from goldgate.report.verdict_file import VerdictCollector
from goldgate.safety import SafetyPolicy
from goldgate.verdict import (
    InconclusiveError,
    ProbeError,
    Verdict,
    VerdictNotPassed,
    register_policy,
    register_sink,
)

ENV_KEY = pytest.StashKey[Environment]()
COLLECTOR_KEY = pytest.StashKey[VerdictCollector]()
SAFETY_KEY = pytest.StashKey[SafetyPolicy]()
CURRENT_KEY = pytest.StashKey[str]()
NAMES_KEY = pytest.StashKey[list[str]]()  # the running check's names, for policy.require_measured
RUN_KEY = pytest.StashKey[report_session.RunContext]()
ACTIVE_KEY = pytest.StashKey[bool]()
RESOLVED_KEY = pytest.StashKey[bool]()
DEFAULT_ENV = "local"

#: Marker of scenarios that plant faults to rehearse goldgate's own rollbacks.
REHEARSAL = "rehearsal"
#: Feature tags of the strategy scenarios, by ``strategy.kind``.
STRATEGY_MARKERS = {"rolling": "rolling_update", "canary": "canary", "blue-green": "blue_green"}
#: Marker (feature tag) of checks that read this run's audit trail: they run last.
AFTER_ROLLBACKS = "after_rollbacks"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goldgate", "release gates for the trading bot")
    group.addoption("--env", action="store", default=None, dest="goldgate_env",
                    help="environment to check: environments/NAME.yaml (default: local = embedded sandbox); "
                         "selects goldgate for this run")
    group.addoption("--goldgate", action="store_true", default=False, dest="goldgate_enable",
                    help="run as goldgate release checks with the default environment (local)")
    parser.addini("goldgate", type="bool", default=False,
                  help="this project's test runs are goldgate release checks (no --env needed)")
    group.addoption("--environments-dir", action="store", default=None, dest="goldgate_env_dir",
                    help="folder of environment files (default: <rootdir>/environments)")
    group.addoption("--allow-mutations", action="store_true", default=False, dest="goldgate_allow_mutations",
                    help="permit rollbacks, traffic switches and load (read-only otherwise)")
    group.addoption("--change", action="store", default=None, dest="goldgate_change",
                    help="change ticket (e.g. CHG-123); required for mutations against production")
    group.addoption("--load-workers", action="store", type=int, default=0, dest="goldgate_load_workers",
                    help="run load with a locust master and N workers")
    group.addoption("--verdict-file", action="store", default="reports/verdict.json", dest="goldgate_verdict_file",
                    help="where to write the GO / NO-GO / ROLLBACK decision ('' to skip)")
    group.addoption("--audit-log", action="store", default=os.environ.get("GOLDGATE_AUDIT_LOG", report_session.DEFAULT_AUDIT_LOG),
                    dest="goldgate_audit_log",
                    help="hash-chained audit trail, one record per run ('' to skip; default $GOLDGATE_AUDIT_LOG "
                         "or reports/audit.jsonl; see `goldgate audit verify`)")
    group.addoption("--audit-postgres", action="store", default=None, dest="goldgate_audit_postgres",
                    help="also copy the audit record to PostgreSQL: a reference like env:AUDIT_DATABASE_URL "
                         "(default: $GOLDGATE_AUDIT_POSTGRES)")
    group.addoption("--reason", action="store", default=None, dest="goldgate_reason",
                    help="why this run happens, for the audit trail (default: $GOLDGATE_REASON)")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Hooks other plugins implement (:mod:`goldgate.hookspecs`)."""
    from goldgate import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def selected(config: pytest.Config) -> bool:
    """Whether this pytest run is a goldgate run (see the module docstring)."""
    if ACTIVE_KEY not in config.stash:
        try:
            by_ini = bool(config.getini("goldgate"))
        except (ValueError, KeyError):
            by_ini = False
        config.stash[ACTIVE_KEY] = bool(
            config.getoption("goldgate_env", None) or config.getoption("goldgate_enable", False) or by_ini)
    return config.stash[ACTIVE_KEY]


def environment_name(config: pytest.Config) -> str:
    return str(config.getoption("goldgate_env", None) or DEFAULT_ENV)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Every goldgate run writes reports/junit.xml unless --junitxml names another file."""
    from goldgate.report.junit import DEFAULT_PATH

    if not selected(config):
        return
    if not getattr(config.option, "xmlpath", None) and not config.pluginmanager.is_blocked("junitxml"):
        config.option.xmlpath = str(Path(config.rootpath) / DEFAULT_PATH)


def _environments_dir(config: pytest.Config) -> Path:
    opt = config.getoption("goldgate_env_dir")
    return Path(opt) if opt else Path(config.rootpath) / "environments"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{REHEARSAL}: plants a fault to rehearse goldgate's own rollback; "
                            "deselected unless the environment sets rehearsals: true")
    for marker in STRATEGY_MARKERS.values():
        config.addinivalue_line("markers", f"{marker}: a scenario of that deployment strategy (guide §2)")
    config.addinivalue_line("markers", f"{AFTER_ROLLBACKS}: reads what this run's rollbacks recorded; "
                            "runs after every other selected check")
    if not selected(config):
        return
    run = report_session.begin(config)
    config.stash[RUN_KEY] = run
    config.add_cleanup(lambda: report_session.close(run))
    try:
        env = load_environment(environment_name(config), _environments_dir(config))
    except EnvironmentFileError as exc:
        report_session.refuse(config, run, str(exc))
        raise pytest.UsageError(str(exc)) from None
    from goldgate.secrets import configure_run

    config.add_cleanup(configure_run(env))  # the run's secret resolver: env.secrets, timeouts, kubernetes
    report_session.register_environment_secrets(env)
    config.stash[ENV_KEY] = env
    safety = SafetyPolicy(
        environment=env.name,
        production=env.production,
        allow_mutations=config.getoption("goldgate_allow_mutations"),
        change=config.getoption("goldgate_change"),
    )
    if safety.allow_mutations:
        problems = [p for p in safety.problems() if "--allow-mutations" not in p]
        if env.production:
            # Guide §11.2: a production change needs its ticket and the manifest's approvals.
            manifest = resolve_manifest_path(env.release.manifest, Path(config.rootpath), env.release.project)
            more, read = change_problems(manifest, version=env.release.version, change=safety.change,
                                         min_approvals=required_approvals(env.release))
            problems += more
            run.approvals = read.summary() if read else None
        if problems:
            reason = "refusing a mutating run: " + "; ".join(problems)
            report_session.refuse(config, run, reason, env)
            raise pytest.UsageError(reason)
    config.stash[SAFETY_KEY] = safety
    collector = VerdictCollector()
    config.stash[COLLECTOR_KEY] = collector

    def _sink(verdict: Verdict) -> None:
        _attach(verdict)
        nodeid = config.stash.get(CURRENT_KEY, "")
        if nodeid:
            collector.record(nodeid).verdicts.append(verdict)

    config.add_cleanup(register_sink(_sink))
    required = list(env.policy.require_measured)
    if required:  # decided by a criterion, before the verdict is reported or raised
        from goldgate.criteria.provenance import require_measured

        config.add_cleanup(register_policy(
            lambda v: require_measured(v, config.stash.get(NAMES_KEY, []), required)))


# ----------------------------------------------------------------------------- selection
def _check_names(item: pytest.Item) -> list[str]:
    """The names a waiver may use for this check: node id, test name, scenario name."""
    names = [item.nodeid, item.nodeid.rsplit("::", 1)[-1], item.name]
    func = getattr(item, "obj", None)
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry

        template = scenario_wrapper_template_registry.get(func)  # type: ignore[arg-type]
    except (ImportError, TypeError):
        template = None
    if template is not None and getattr(template, "name", None):
        names.append(str(template.name))
    return names


def _not_applicable(item: pytest.Item, env: Environment) -> str | None:
    if item.get_closest_marker(REHEARSAL) is not None and not env.rehearsals:
        return "rehearsal"
    if item.get_closest_marker("flags") is not None and env.flags is None:
        return "flags"  # no flag server named: the flags-file checks of §4 still run
    kinds = [k for k, marker in STRATEGY_MARKERS.items() if item.get_closest_marker(marker) is not None]
    if kinds and not set(kinds) & set(env.strategy.strategies):
        return "strategy"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what does not apply here, bind waivers to checks, refuse waivers naming nothing.

    Rehearsals (planted faults) and other strategies' scenarios are deselected — not
    skipped — so they are neither run nor counted as not run. A check the environment
    declares not applicable (``not_applicable:``) is skipped with "not applicable: <reason>"
    so that JUnit, Allure, verdict.json and the audit record all show it, and does not hold
    back GO. A waiver or not_applicable entry that names no collected check is a typo that
    would silently excuse nothing: exit 4 naming it.
    """
    if not selected(config) or ENV_KEY not in config.stash:
        return
    env = config.stash[ENV_KEY]
    collector = config.stash[COLLECTOR_KEY]
    used = [False] * len(env.waivers)
    used_na = [False] * len(env.not_applicable)
    keep, drop = [], []
    for item in items:
        names = _check_names(item)
        for i, entry in enumerate(env.not_applicable):
            if entry.matches(names):
                used_na[i] = True
                if item.nodeid not in collector.not_applicable:
                    collector.not_applicable[item.nodeid] = entry.to_dict()
                    item.add_marker(pytest.mark.skip(reason=f"not applicable: {entry.reason}"))
        for i, waiver in enumerate(env.waivers):
            if waiver.matches(names):
                used[i] = True
                collector.waivers[item.nodeid] = {
                    "check": waiver.check, "reason": waiver.reason, "approver": waiver.approver,
                    "expiry": waiver.expiry.isoformat()}
        (drop if _not_applicable(item, env) else keep).append(item)
    unknown = [f"waivers.{i} ({w.check!r})" for i, w in enumerate(env.waivers) if not used[i]]
    unknown += [f"not_applicable.{i} ({e.check!r})" for i, e in enumerate(env.not_applicable) if not used_na[i]]
    # Only a run over the whole suite (its testpaths) can tell that a check does not exist.
    if unknown and config.args_source is not pytest.Config.ArgsSource.ARGS:
        reason = f"{env.source_file}: {', '.join(unknown)}: names no check of this suite"
        report_session.refuse(config, config.stash[RUN_KEY], reason, env)
        raise pytest.UsageError(reason)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # Checks that read this run's audit trail (a rollback rehearsal) come after the checks that roll back.
    items.sort(key=lambda item: item.get_closest_marker(AFTER_ROLLBACKS) is not None)


def _attach(verdict: Verdict) -> None:
    """Evidence goes onto the current Allure step (a no-op when Allure is not recording)."""
    try:
        import json

        import allure

        allure.attach(
            redact.redact(json.dumps(verdict.to_dict(), indent=2, default=str)),
            name=f"{verdict.status.value}: {verdict.criterion}",
            attachment_type=allure.attachment_type.JSON,
        )
    except Exception:  # noqa: S110 - reporting must never change a verdict
        pass


def _scenario_key(item: pytest.Item) -> str:
    """``"<feature file under features/>: <scenario>"``, as docs/guide_coverage.yaml names it."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry

        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    except (ImportError, TypeError):
        return ""
    feature = getattr(template, "feature", None)
    if template is None or feature is None:
        return ""
    try:
        rel = Path(feature.filename).resolve().relative_to(item.config.rootpath / "features").as_posix()
    except ValueError:
        rel = Path(feature.rel_filename).as_posix().split("/", 1)[-1]
    return f"{rel}: {template.name}"


# ----------------------------------------------------------------------------- outcomes
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not selected(item.config) or COLLECTOR_KEY not in item.config.stash:
        yield
        return
    item.config.stash[CURRENT_KEY] = item.nodeid
    item.config.stash[NAMES_KEY] = _check_names(item)
    record = item.config.stash[COLLECTOR_KEY].record(item.nodeid)
    record.scenario = record.scenario or _scenario_key(item)
    if record.waiver is not None:
        _label_waiver(record.waiver)
    if record.not_applicable is not None:
        _label_not_applicable(record.not_applicable)
    yield
    item.config.stash[CURRENT_KEY] = ""
    item.config.stash[NAMES_KEY] = []


def _label_waiver(waiver: dict[str, str]) -> None:
    """Allure shows a waived check as such (tag + description), whatever its outcome."""
    try:
        import allure

        allure.dynamic.tag("waived")
        allure.dynamic.description(f"Waived if it does not run: {waiver['reason']} "
                                   f"(approved by {waiver['approver']}, expires {waiver['expiry']})")
    except Exception:  # noqa: S110 - reporting must never change a verdict
        pass


def _label_not_applicable(entry: dict[str, str]) -> None:
    """Allure shows a check declared not applicable as such (tag + description)."""
    try:
        import allure

        allure.dynamic.tag("not applicable")
        approved = f" (approved by {entry['approver']}, expires {entry['expiry']})" if entry.get("approver") else ""
        allure.dynamic.description(f"Not applicable to this service: {entry['reason']}{approved}")
    except Exception:  # noqa: S110 - reporting must never change a verdict
        pass


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "skipped")


def _records_decision(config: pytest.Config) -> bool:
    run = config.stash.get(RUN_KEY, None)
    return run is not None and (run.verdict_path is not None or run.audit_path is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    if not selected(item.config) or COLLECTOR_KEY not in item.config.stash:
        return
    report = outcome.get_result()
    record = item.config.stash[COLLECTOR_KEY].record(item.nodeid)
    if report.skipped and report.when in ("setup", "call"):
        record.outcome = "skipped"
        record.message = _skip_reason(report)
        if record.waiver is not None and isinstance(report.longrepr, tuple):
            w = record.waiver
            path, line, text = report.longrepr
            report.longrepr = (path, line, f"{text} — WAIVED by {w['approver']} until {w['expiry']}: {w['reason']}")
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
    elif report.when == "call" and not record.verdicts and _records_decision(item.config):
        # A check that "passed" without judging anything proved nothing: a suite defect.
        record.outcome = "error"
        record.message = "suite defect: the check ended without a verdict (no data is never a pass)"
        report.outcome = "failed"
        report.longrepr = f"ERROR: {record.message}"
        report.goldgate_status = "ERROR"
    _redact_report(item, report, record.verdicts if report.when == "call" else [])


def _redact_report(item: pytest.Item, report: pytest.TestReport, verdicts: list[Verdict]) -> None:
    """Mask secrets in what terminal, junit.xml and log capture show; verdicts become properties."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        cleaned = redact.redact(text)
        if cleaned != text:
            report.longrepr = redact.RedactedRepr(report.longrepr, cleaned)
    report.sections = [(title, redact.redact(content)) for title, content in report.sections]
    for verdict in verdicts:  # junitxml reads the properties off the teardown report
        item.user_properties.append((f"goldgate.{verdict.status.value}", redact.redact(verdict.message())))


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """INCONCLUSIVE and ERROR verdicts show as errors, never as passes or plain failures."""
    if not selected(config):
        return None
    status = getattr(report, "goldgate_status", None)
    if status and report.when == "call":
        return "error", "E", status
    return None


# ----------------------------------------------------------------------------- pytest-bdd → Allure
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    if not selected(request.config):
        return
    allure_bdd.before_scenario(request, feature, scenario)


def pytest_bdd_before_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any) -> None:
    if not selected(request.config):
        return
    allure_bdd.before_step(request, step)


def pytest_bdd_after_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any, step_func_args: Any) -> None:
    if not selected(request.config):
        return
    allure_bdd.after_step(request)


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any, exception: Exception) -> None:
    if not selected(request.config):
        return
    allure_bdd.step_error(request, exception)


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    if not selected(request.config):
        return
    allure_bdd.before_step(request, step)
    allure_bdd.step_error(request, exception)


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    if not selected(request.config):
        return
    allure_bdd.close_dangling(request)


# ----------------------------------------------------------------------------- session end
def _environment_properties(env: Environment, version: str) -> dict[str, str]:
    return {
        "environment": env.name,
        "production": str(env.production).lower(),
        "target.namespace": env.kubernetes.namespace,
        "target.deployment": env.kubernetes.deployment,
        "target.kubeconfig": env.kubernetes.kubeconfig,
        "target.http": env.http.base_url,
        "metrics.source": env.metrics.source,
        "version.under_test": version,
        "goldgate.version": goldgate.__version__,
        "python": platform.python_version(),
    }


@pytest.hookimpl(trylast=True)  # after junitxml has written its file
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not selected(config):
        return
    env = config.stash.get(ENV_KEY, None)
    collector = config.stash.get(COLLECTOR_KEY, None)
    if env is None or collector is None:
        return
    alluredir = config.getoption("allure_report_dir", None)
    safety = config.stash[SAFETY_KEY]
    run = config.stash[RUN_KEY]
    report_session.finish(config, run, env, collector, safety, exitstatus, {
        "environment": env.name,
        "production": env.production,
        "version": env.release.version,
        "previous_version": env.release.previous_version,
        "kube_context": env.kubernetes.context or env.kubernetes.kubeconfig,
        "namespace": env.kubernetes.namespace,
        "change": safety.change,
        "actions": safety.actions,
        "pytest_exit_status": int(exitstatus),
    })
    if alluredir:  # after finish: the overview shows this run's decision
        _write_allure_extras(Path(alluredir), _environment_properties(env, env.release.version), config, run)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not selected(config):
        return
    run = config.stash.get(RUN_KEY, None)
    lines = report_session.summary_lines(run) if run is not None else []
    if lines:
        terminalreporter.write_sep("=", "goldgate", bold=True)
        for line in lines:
            go = run.decision == "GO"
            terminalreporter.write_line(line, red=not go, green=go)


def _write_allure_extras(alluredir: Path, props: dict[str, str], config: pytest.Config,
                         run: report_session.RunContext | None = None) -> None:
    import shutil

    from goldgate.report.allure_extras import decision_overview, properties_text, report_name

    alluredir.mkdir(parents=True, exist_ok=True)
    run_text = None
    if run is not None and run.decision is not None:
        run_text = report_session.decision_text(run)
        props = {**decision_overview(run_text, run.reasons, run.waivers, run.provenance), **props}
    text = properties_text(props)
    (alluredir / "environment.properties").write_text(text, encoding="latin-1")
    categories = Path(config.rootpath) / "reports" / "categories.json"
    if not categories.is_file():
        categories = Path(__file__).with_name("report") / "categories.json"
    if categories.is_file():
        shutil.copyfile(categories, alluredir / "categories.json")
    from goldgate.report.allure_extras import executor_info

    executor = executor_info(os.environ)
    if run_text is not None and run is not None:
        executor["reportName"] = report_name(run_text, run.provenance)
    import json

    (alluredir / "executor.json").write_text(json.dumps(executor), encoding="utf-8")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def environment(request: pytest.FixtureRequest) -> Environment:
    """The validated environment of this run (``--env``), with its symbolic values resolved.

    A plugin implementing ``pytest_goldgate_resolve_environment`` (:mod:`goldgate.hookspecs`)
    may replace values that name something it provides by the concrete kubeconfig, URLs
    and paths; that happens once, here, before any probe sees the environment, and the
    resolved environment is what the run's reports record.
    """
    config = request.config
    if RESOLVED_KEY not in config.stash:
        config.stash[RESOLVED_KEY] = True
        resolved = config.hook.pytest_goldgate_resolve_environment(request=request, environment=config.stash[ENV_KEY])
        if resolved is not None:
            config.stash[ENV_KEY] = resolved
            report_session.register_environment_secrets(resolved)
    return config.stash[ENV_KEY]


@pytest.fixture(scope="session")
def safety(pytestconfig: pytest.Config) -> SafetyPolicy:
    """The run's mutation policy; actions call ``safety.require(...)`` before changing anything."""
    return pytestconfig.stash[SAFETY_KEY]


@pytest.fixture(scope="session")
def kube(environment: Environment) -> Iterator[Any]:
    """Kubernetes clients for the target (``kubernetes.kubeconfig`` / ``context``)."""
    from goldgate.probes.kubernetes import KubernetesUnavailable, connect

    try:
        clients = connect(environment.kubernetes)
    except KubernetesUnavailable as exc:
        pytest.fail(f"ERROR: cannot reach Kubernetes ({environment.source_file or environment.name}: "
                    f"kubernetes.kubeconfig, kubernetes.context): {exc}", pytrace=False)
    yield clients
    clients.close()


@pytest.fixture(scope="session")
def region_endpoints() -> dict[str, Any]:
    """Endpoints of a two-region setup that the environment file names symbolically (none here).

    A plugin or conftest that runs the regions overrides this with ``global_url``,
    ``admin_url``, ``standby_url`` and ``health_interval_s``.
    """
    return {}


@pytest.fixture(scope="session")
def stable_release() -> Callable[[str], Any] | None:
    """How to start the stable version for the load baseline, when nothing else runs it.

    None here: the stable version is ``http.standby_url`` or a stored baseline. A plugin or
    conftest may override it with a function of the version that returns a context manager
    yielding the stable version's URL (raising ``goldgate.load.baseline.BaselineError``).
    """
    return None


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
