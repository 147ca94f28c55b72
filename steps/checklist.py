"""Pre-deployment checklist vocabulary (guide §1): code, infrastructure and operational
readiness over the release's real artifacts, its cluster and its manifest.

Fixtures here locate the release from the environment's paths and give every time-based
check one injectable clock: override ``gate_clock`` to pin "now".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_bdd import given, parsers, then

from goldgate.config import Environment, SecretResolutionError, resolve_secret
from goldgate.criteria import checklist as code
from goldgate.criteria import drift, infrastructure, operational
from goldgate.criteria import migrations as migration_criteria
from goldgate.criteria.health import health_checks, pod_tolerances
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes import cluster_specs, promtool, targets, tls
from goldgate.probes.artifacts import (
    ArtifactUnavailable,
    changelog,
    coverage,
    junit,
    lockfile,
    manifest,
    runbooks,
    sarif,
)
from goldgate.probes.artifacts import secrets as secret_scan
from goldgate.probes.artifacts.locations import ReleaseInputs, resolve
from goldgate.probes.host import HostUnavailable, listening_ports
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.probes.migrations import read_scripts
from goldgate.probes.workloads import pod_facts
from goldgate.rollout.base import as_pod_health
from goldgate.verdict import Evidence, Verdict, expect
from steps import records as from_records

T = TypeVar("T")
#: Guide §1.2 "all services provisioned and available" read on the pods behind them (§6.1
#: health checks: not Ready, crash-looping or restarting pods).
POD_HEALTH = "bot pods Ready, no restarts (§6.1 health checks)"
UNAVAILABLE = (ArtifactUnavailable, KubernetesUnavailable, tls.TlsUnavailable, HostUnavailable, SecretResolutionError)


def gate(criterion: str, measure: Callable[[], T], judge: Callable[[T], Verdict]) -> Verdict:
    """Measure, then judge, then turn the verdict into the step's outcome."""
    return expect(measure_and_judge(criterion, measure, judge, UNAVAILABLE))


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def gate_clock() -> Callable[[], dt.datetime]:
    """"Now" for deployment windows, backup ages and certificate expiry (override to pin)."""
    return lambda: dt.datetime.now(dt.UTC)


@pytest.fixture(scope="session")
def release_inputs(pytestconfig: pytest.Config, environment: Environment) -> ReleaseInputs:
    return resolve(environment, Path(pytestconfig.rootpath))


@pytest.fixture(scope="session")
def tls_target(environment: Environment) -> tuple[str | None, str | None]:
    """``(url, ca_bundle)`` of the TLS endpoint to check (``http.tls_url`` / ``ca_bundle``)."""
    return environment.http.tls_url, environment.http.ca_bundle


def _pod_labels(environment: Environment) -> dict[str, str]:
    return dict(part.split("=", 1) for part in environment.kubernetes.label_selector.split(",") if "=" in part)


# ----------------------------------------------------------------------------- given
@given("the release under test", target_fixture="release")
def the_release(release_inputs: ReleaseInputs) -> ReleaseInputs:
    return release_inputs


# ----------------------------------------------------------------------------- code readiness
@then("the release's JUnit report shows every test passed")
def junit_all_passed(release: ReleaseInputs, environment: Environment) -> None:
    gate("all tests passed", lambda: junit.read_junit(release.need("artifacts") / environment.release.layout.junit),
         code.all_tests_passed)


@then(parsers.parse("the release's coverage report shows line coverage above {limit:g} %"))
def coverage_above(release: ReleaseInputs, environment: Environment, limit: float) -> None:
    name = environment.release.layout.coverage
    gate(f"code coverage above {limit:g} %", lambda: coverage.read_coverage(release.need("artifacts") / name),
         lambda s: code.coverage_above(s, limit))


@then(parsers.parse("the release's SARIF reports have no finding of severity {severity} or worse"))
def sarif_clean(release: ReleaseInputs, environment: Environment, severity: str) -> None:
    pattern = environment.release.layout.sarif

    def measure() -> list[sarif.SarifReport]:
        folder = release.need("artifacts")
        files = sorted(folder.glob(pattern))
        if not files:
            raise ArtifactUnavailable(folder / pattern, "no SARIF report found")
        return [sarif.read_sarif(path) for path in files]

    gate(f"security scan has no {severity} or worse finding", measure,
         lambda reports: code.no_findings_at_or_above(reports, severity.lower()))


@then("detect-secrets finds no secret in the source tree beyond the release's baseline")
def no_secrets(release: ReleaseInputs, environment: Environment) -> None:
    declared = environment.release.layout.secrets_baseline

    def baseline_of(root: Path) -> Path | None:
        # A declared baseline must exist (ERROR otherwise); the conventional one is used when present.
        if declared:
            return root / declared
        conventional = root / ".secrets.baseline"
        return conventional if conventional.is_file() else None

    def measure() -> tuple[list[secret_scan.SecretFinding], int, Path, Path | None]:
        root = release.need("project")
        baseline = baseline_of(root)
        found, files = secret_scan.scan_tree(root, baseline)
        return found, files, root, baseline

    gate("no hardcoded credentials", measure,
         lambda r: code.no_hardcoded_secrets(r[0], str(r[2]), r[1], str(r[3]) if r[3] else None))


@then(parsers.parse('every requirement in "{name}" is pinned to an exact version'))
def pinned(release: ReleaseInputs, name: str) -> None:
    gate("every dependency pinned to an exact version",
         lambda: lockfile.read_lock_file(release.in_project(name)), code.dependencies_pinned)


@then("every dependency in the release's lock files is pinned to an exact version")
def lock_files_pinned(release: ReleaseInputs, environment: Environment) -> None:
    configured = getattr(environment.release, "lock_files", None)
    gate("every dependency pinned to an exact version",
         lambda: [lockfile.read_lock_file(p) for p in lockfile.lock_files(release.need("project"), configured)],
         code.dependencies_pinned)


# ----------------------------------------------------------------------------- documentation
@then("the changelog has an entry for the release version with the sections the environment requires")
def changelog_entry(release: ReleaseInputs, environment: Environment) -> None:
    policy = release.policy.changelog

    def measure() -> changelog.Changelog:
        log = changelog.read_changelog(release.in_project(release.layout.changelog))
        return changelog.categorised(log, policy.sections, policy.breaking_marker)

    gate(f"CHANGELOG entry for {environment.release.version}", measure,
         lambda log: code.changelog_entry(log, environment.release.version, policy.required))


@then("the release notes describe the release version")
def release_notes(release: ReleaseInputs, environment: Environment) -> None:
    def measure() -> tuple[str, str | None]:
        path = release.in_project(release.layout.release_notes)
        return str(path), changelog.read_release_notes(path)

    gate("release notes prepared", measure, lambda r: code.release_notes(r[0], r[1], environment.release.version))


# ----------------------------------------------------------------------------- operational
@then("the runbooks cover the guide's five subjects with the headings the environment declares")
def runbooks_complete(release: ReleaseInputs) -> None:
    policy = release.policy.runbooks
    required = {subject: policy.headings.get(subject, []) for subject in policy.subjects}

    def measure() -> tuple[dict[str, runbooks.Runbook], Path]:
        path = release.in_project(release.layout.runbooks)
        return runbooks.read_runbooks(path), path

    gate("runbooks with their required sections", measure,
         lambda r: operational.runbooks_complete(r[0], required, str(r[1]), policy.subjects, policy.min_words))


def _manifest(release: ReleaseInputs) -> manifest.ReleaseManifest:
    return manifest.read_manifest(release.need("manifest"))


@then(parsers.parse("the release manifest names a {roles} on-call"))
def on_call(release: ReleaseInputs, roles: str, environment: Environment) -> None:
    if environment.records.on_call is not None:  # the paging service's entries, measured
        expect(from_records.on_call(environment, release, "on-call team assigned"))
        return
    wanted = [r.strip() for r in roles.replace(" and a ", ",").replace(" and ", ",").split(",") if r.strip()]
    gate("on-call team assigned", lambda: _manifest(release), lambda m: operational.on_call(m, wanted))


@then(parsers.parse("the release manifest has at least {minimum:d} approvals by people other than the author"))
def approvals(release: ReleaseInputs, minimum: int, environment: Environment) -> None:
    if environment.records.code_review is not None:  # the forge's reviews, measured
        expect(from_records.reviews(environment, release, minimum))
        return
    gate("approvals by people other than the author", lambda: _manifest(release),
         lambda m: operational.approvals(m, minimum))


@then("the release manifest names a change ticket of the environment's form")
def ticket(release: ReleaseInputs, environment: Environment) -> None:
    if environment.records.change is not None:  # the change system's request, measured
        expect(from_records.change(environment, release))
        return
    pattern = release.policy.change_ticket.pattern
    gate("the change is tracked by a ticket", lambda: _manifest(release), lambda m: operational.change_ticket(m, pattern))


@then("the release manifest is for the version under test")
def manifest_version(release: ReleaseInputs, environment: Environment) -> None:
    gate("the release manifest is for the version under test", lambda: _manifest(release),
         lambda m: operational.manifest_for_version(m, environment.release.version))


@then("now is inside the release's deployment window")
def inside_window(release: ReleaseInputs, gate_clock: Callable[[], dt.datetime], environment: Environment) -> None:
    if environment.records.change is not None:  # the window the change system scheduled, measured
        expect(from_records.window(environment, release, gate_clock()))
        return
    gate("now is inside the deployment window", lambda: _manifest(release),
         lambda m: operational.inside_window(m, gate_clock()))


@then("no Deployment in the namespace has a rollout in progress")
def no_rollout(kube: Any, environment: Environment) -> None:
    ns = environment.kubernetes.namespace
    gate(f"no other rollout in progress in namespace {ns}", lambda: cluster_specs.rollouts(kube, ns),
         lambda states: operational.no_rollout_in_progress(states, ns, kube.server))


# ----------------------------------------------------------------------------- infrastructure
def _reference(spec: str | None, environment: Environment, source: str) -> tuple[dict[str, Any], str]:
    if not spec:
        raise ArtifactUnavailable(source, "release.reference_spec is not set: no production spec to compare with")
    name = environment.kubernetes.deployment
    if spec.startswith("kube:"):
        from goldgate.probes.kubernetes import connect

        context, _, rest = spec.removeprefix("kube:").partition("/")
        namespace, _, name = rest.partition("/")
        target = environment.kubernetes.model_copy(update={"context": context or None})
        clients = connect(target)
        try:
            return cluster_specs.read_deployment(clients, namespace, name), f"{clients.server} {namespace}/{name}"
        finally:
            clients.close()
    deployment = cluster_specs.deployment_from_manifests(Path(spec), name)
    return deployment, deployment.get("_source", spec)


@then("the bot's Deployment matches the production reference spec")
def staging_matches_production(kube: Any, environment: Environment, release: ReleaseInputs) -> None:
    k = environment.kubernetes

    def measure() -> tuple[dict[str, Any], dict[str, Any], str]:
        here = cluster_specs.read_deployment(kube, k.namespace, k.deployment)
        reference, where = _reference(release.reference_spec, environment, release.source)
        return here, reference, where

    gate("staging matches production", measure,
         lambda r: drift.specs_match(r[0], r[1], f"{kube.server} {k.namespace}/{k.deployment}", r[2]))


@then("every Service in the namespace has ready endpoints")
def services_available(kube: Any, environment: Environment) -> None:
    ns = environment.kubernetes.namespace
    gate(f"all services provisioned and available in {ns}", lambda: cluster_specs.services(kube, ns),
         lambda svcs: infrastructure.services_available(svcs, ns, kube.server))


@then("every pod of the bot is Ready, with no more restarts than the environment tolerates")
def pods_healthy(kube: Any, environment: Environment) -> None:
    k = environment.kubernetes
    tolerated = pod_tolerances(environment.thresholds)
    gate(POD_HEALTH, lambda: [p for p in pod_facts(kube, k.namespace, k.label_selector) if not p.deleting],
         lambda pods: health_checks([as_pod_health(p, {}) for p in pods], max_restarts=tolerated.max_restarts,
                                    max_probe_failures=0, max_unhealthy_pods=0, window_s=None, criterion=POD_HEALTH,
                                    evidence=(Evidence("kubernetes", f"{kube.server} pods {k.namespace} "
                                                                     f"labelSelector={k.label_selector}"),),
                                    rollback=False))


@then("a NetworkPolicy selects the bot's pods")
def network_policy(kube: Any, environment: Environment) -> None:
    ns = environment.kubernetes.namespace
    gate("a NetworkPolicy selects the bot's pods", lambda: cluster_specs.network_policies(kube, ns),
         lambda pols: infrastructure.network_policy_selects(pols, _pod_labels(environment), ns))


@then("only the allowed ports listen on every host of the environment")
def host_ports(environment: Environment) -> None:
    fw = environment.firewall
    if not fw.hosts:
        pytest.skip(f"{environment.source_file}: firewall.hosts is empty — no hosts to inspect (Kubernetes-only environment)")
    for host in fw.hosts:
        gate(f"only allowed ports listen on {host}", lambda h=host: listening_ports(h),
             lambda lp: infrastructure.only_allowed_ports(lp, fw.allowed_ports))


@then("the TLS certificate of the environment's endpoint is valid for the minimum number of days")
def tls_valid(tls_target: tuple[str | None, str | None], environment: Environment,
              gate_clock: Callable[[], dt.datetime]) -> None:
    url, ca = tls_target

    def inspect() -> tls.TlsObservation:
        if not url:
            raise ArtifactUnavailable(environment.source_file, "http.tls_url is not set: no endpoint to inspect")
        return tls.inspect(url, ca_bundle=ca, timeout_s=environment.timeouts.connect_s)

    gate("TLS certificate valid", inspect,
         lambda obs: infrastructure.tls_valid(obs, gate_clock(), environment.thresholds.certificate_days_left))


@then("the bot's Prometheus targets are up")
def monitoring_targets(environment: Environment) -> None:
    selector = {"app": _pod_labels(environment).get("app", environment.kubernetes.deployment),
                "namespace": environment.kubernetes.namespace}
    m = environment.metrics

    def measure() -> tuple[list[targets.Target], str]:
        if m.source == "prometheus" and m.prometheus_url:
            headers = {"Authorization": resolve_secret(m.prometheus_auth)} if m.prometheus_auth else None
            return targets.from_prometheus(m.prometheus_url, selector, environment.timeouts, headers), m.prometheus_url
        if m.targets_file:
            path = Path(m.targets_file).expanduser()
            return targets.from_file_sd(path, selector, environment.timeouts), str(path)
        raise ArtifactUnavailable(environment.source_file, "metrics.source is 'scrape' and metrics.targets_file is "
                                  "not set: no Prometheus to ask whether the bot is a target")

    gate("monitoring configured: the bot's Prometheus targets are up", measure,
         lambda r: infrastructure.targets_up(r[0], r[1], selector))


@then("promtool tests every alert rule of the release and they pass")
def alert_rules(release: ReleaseInputs) -> None:
    gate("alerting rules tested (promtool test rules)", lambda: promtool.run_rule_tests(release.need("alert_rules")),
         infrastructure.alert_rules_tested)


@then("the release's declared migration is the single migration head")
def migrations_prepared(release: ReleaseInputs) -> None:
    def measure() -> tuple[Any, manifest.ReleaseManifest]:
        return read_scripts(release.need("project")), _manifest(release)

    gate("database migrations prepared", measure,
         lambda r: migration_criteria.migrations_prepared(r[0], r[1].migration_head, r[1].path))
