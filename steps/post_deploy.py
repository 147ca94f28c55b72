"""After-the-deploy vocabulary: §5.3 error rate, §3.2 post-migration window, §8.3 CPU and
memory targets, §7.3 connection draining.

Steps parse words and hand over: the run's metric source (:mod:`goldgate.rollout.sources`)
and the rollback monitor measure, :mod:`goldgate.actions` deletes the pod, the criteria in
:mod:`goldgate.criteria.post_deploy` and :mod:`goldgate.criteria.resources` decide.
Windows and limits come from the environment: ``strategy.migration_monitor_s``,
``strategy.drain_timeout_s``, ``thresholds.post_deploy_error_rate``,
``thresholds.cpu_utilization`` / ``memory_utilization``; the post-deploy window is
``strategy.post_deploy_window_s`` when the schema has it, else the monitoring window.
The post-migration watch reads the migration from the database the release runs on
(``database.url``, read only) and compares it with the release's declared head.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment, resolve_secret
from goldgate.criteria import migrations as migration_criteria
from goldgate.criteria import network_io as resources_network
from goldgate.criteria import post_deploy, resources
from goldgate.criteria.measured import measure_and_judge
from goldgate.durations import scaled_note
from goldgate.probes import applied_migration as applied_probe
from goldgate.probes.applied_migration import AppliedMigration
from goldgate.probes.artifacts import manifest
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.probes.metrics import Measurement, Selector
from goldgate.probes.migrations import read_scripts
from goldgate.probes.pod_network import NetworkDeltas, NetworkWindow
from goldgate.probes.workloads import deployment_status, pod_facts, pod_usage
from goldgate.rollout.base import (
    RolloutContext,
    RolloutReport,
    monitor_phase,
    own_pods,
    wait_for_pods,
)
from goldgate.rollout.monitor import (
    ERROR_RATE,
    P95_BASELINE,
    P95_BUDGET,
    Assessment,
    Group,
    RollbackMonitor,
)
from goldgate.rollout.post_deploy import count_requests
from goldgate.rollout.sources import GrowingWindow
from goldgate.rollout.traffic import NotLoopback, TrafficStream
from goldgate.verdict import Evidence, Status, Verdict, expect
from steps.checklist import UNAVAILABLE, gate


def _pct(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def _release_group(ctx: RolloutContext) -> Group:
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    return Group(f"deployment/{ctx.deployment}", status.selector, ctx.namespace)


# ----------------------------------------------------------------------------- §5.3
@given(parsers.parse("trading traffic of {rate:g} requests per second from {clients:d} concurrent clients"))
def concurrent_traffic(rate: float, clients: int, environment: Environment, bot_url: str,
                       rollout_state: Any) -> None:
    """Enough requests for a 0.1 % bound: thousands per window need many clients at once."""
    s, t = environment.strategy, environment.timeouts
    window_s = _post_deploy_window_s(environment) + s.rollout_timeout_s
    try:
        stream = TrafficStream(bot_url, rate_rps=rate, max_duration_s=window_s, workers=clients,
                               timeout=(t.connect_s, t.read_s))
    except NotLoopback:
        return  # a real cluster is judged on its users' traffic
    rollout_state.streams.append(stream.start())


def _post_deploy_window_s(environment: Environment) -> float:
    s = environment.strategy
    return float(getattr(s, "post_deploy_window_s", None) or s.monitoring_window_s)


@when(parsers.parse("the release's requests are counted over the post-deploy window, planned for a "
                    "{confidence:g} % bound"), target_fixture="post_deploy_counts")
def count_post_deploy(confidence: float, environment: Environment, rollout_ctx: RolloutContext) -> Measurement:
    """At least the window, and at least the requests a clean window needs (planned before looking)."""
    window_s = _post_deploy_window_s(environment)
    planned = post_deploy.requests_needed(0, environment.thresholds.post_deploy_error_rate, confidence / 100)
    group = _release_group(rollout_ctx)
    window = GrowingWindow(rollout_ctx.source, Selector(dict(group.labels), group.namespace), rollout_ctx.clock)
    counted = count_requests(window, min_window_s=window_s, planned_requests=planned,
                             deadline_s=window_s + environment.strategy.rollout_timeout_s,
                             poll_s=environment.strategy.evaluation_interval_s,
                             clock=rollout_ctx.clock, sleep=rollout_ctx.sleep)
    return counted.measurement


def _post_deploy_verdict(counts: Measurement, environment: Environment, confidence: float) -> Verdict:
    limit = environment.thresholds.post_deploy_error_rate
    return post_deploy.post_deploy_error_rate_from(counts, limit=limit, confidence=confidence / 100,
                                                   criterion=f"post-deploy error rate (§5.3 below {_pct(limit)})")


@then(parsers.parse("the post-deploy error rate is below the environment's limit with {confidence:g} % confidence"))
def post_deploy_rate(post_deploy_counts: Measurement, environment: Environment, confidence: float) -> None:
    expect(_post_deploy_verdict(post_deploy_counts, environment, confidence))


@then(parsers.parse("the post-deploy error rate check at {confidence:g} % confidence fails"))
def post_deploy_rate_fails(post_deploy_counts: Measurement, environment: Environment, confidence: float) -> None:
    expect(post_deploy.shows_status(_post_deploy_verdict(post_deploy_counts, environment, confidence), Status.FAIL,
                                    criterion="a release failing its requests fails the post-deploy error rate"))


# ----------------------------------------------------------------------------- §3.2
MIGRATION_APPLIED = "the release's migration is applied to the database it runs on (§3.2)"


@pytest.fixture
def applied_migration() -> AppliedMigration | None:
    """The live database's migration, once a scenario read it (its Given); None before."""
    return None


def _live_database(environment: Environment) -> str:
    url = resolve_secret(environment.database.url) if environment.database.url else None
    if not url:
        pytest.skip(f"{environment.source_file or environment.name}: database.url is not set: no database the "
                    "release runs on to read its migration from (in the sandbox: recovery.wal_archive: sandbox "
                    "with two regions running)")
    return url


def _release_head(release: ReleaseInputs) -> tuple[str | None, list[str], str]:
    """(release.yaml's database.migration_head, the scripts' heads, the manifest's path)."""
    path = release.need("manifest")
    return manifest.read_manifest(path).migration_head, list(read_scripts(release.need("project")).heads), str(path)


@given("the release's migration is applied to the database it runs on", target_fixture="applied_migration")
def migration_applied(environment: Environment, release_inputs: ReleaseInputs) -> AppliedMigration:
    """The deploy pipeline migrated the live database: its alembic_version is the release's head."""
    url = _live_database(environment)
    read: list[AppliedMigration] = []

    def measure() -> tuple[AppliedMigration, tuple[str | None, list[str], str]]:
        read.append(applied_probe.read_applied(url))
        return read[-1], _release_head(release_inputs)

    gate(MIGRATION_APPLIED, measure,
         lambda r: migration_criteria.migration_applied(r[0], r[1][0], r[1][1], manifest=r[1][2],
                                                           criterion=MIGRATION_APPLIED))
    return read[-1]


@dataclass(frozen=True)
class MigrationWatch:
    assessment: Assessment
    required_s: float
    report: RolloutReport
    started_at: float  # epoch seconds, this machine's clock


def _watch(environment: Environment, ctx: RolloutContext, window_s: float) -> MigrationWatch:
    group = _release_group(ctx)
    monitor = RollbackMonitor(environment, ctx.kube, ctx.source, group, clock=ctx.clock)
    report = RolloutReport("post-migration watch", group.name)
    started_at = time.time()
    a = monitor_phase(ctx, monitor, report, window_s=window_s, deadline_s=window_s, label="post-migration")
    return MigrationWatch(a, environment.strategy.migration_monitor_s, report, started_at)


@when("the running release is watched for the post-migration monitoring window", target_fixture="migration_watch")
def watch_after_migration(environment: Environment, rollout_ctx: RolloutContext) -> MigrationWatch:
    return _watch(environment, rollout_ctx, environment.strategy.migration_monitor_s)


@when(parsers.parse("the running release is watched for only {seconds:g} seconds after the migration"),
      target_fixture="migration_watch")
def watch_briefly(seconds: float, environment: Environment, rollout_ctx: RolloutContext) -> MigrationWatch:
    return _watch(environment, rollout_ctx, seconds)


def _migration_verdict(watch: MigrationWatch, environment: Environment,
                       applied: AppliedMigration | None = None) -> Verdict:
    """The window's verdict; after a read migration, the database is read again at the end of
    the watch, so a migration that committed during the window is seen."""
    a = watch.assessment
    # No stable version runs beside a migrated release, so p95-vs-baseline counts only when it measured a breach.
    triggers = [v for v in a.verdicts if v.criterion in (ERROR_RATE, P95_BUDGET)
                or (v.criterion == P95_BASELINE and v.status is Status.FAIL)]
    label = f"post-migration monitoring (§3.2 {watch.required_s:g} s window)"

    def judge(migration: AppliedMigration | None) -> Verdict:
        return post_deploy.migration_monitoring_window(
            a.elapsed_s, watch.required_s, triggers, criterion=label, evidence=(watch.report.evidence(),),
            scaled=scaled_note(environment, "strategy.migration_monitor_s", watch.required_s),
            migration=migration, watch_started_at=watch.started_at)

    if applied is None:
        return judge(None)
    url = _live_database(environment)
    return measure_and_judge(label, lambda: applied_probe.since(applied, applied_probe.read_applied(url)), judge,
                             UNAVAILABLE)


@then("the error-rate and latency triggers held over the whole post-migration window")
def migration_window_held(migration_watch: MigrationWatch, environment: Environment,
                          applied_migration: AppliedMigration | None) -> None:
    expect(_migration_verdict(migration_watch, environment, applied_migration))


@then("the post-migration check is INCONCLUSIVE, not PASS")
def migration_window_short(migration_watch: MigrationWatch, environment: Environment) -> None:
    expect(post_deploy.shows_status(_migration_verdict(migration_watch, environment), Status.INCONCLUSIVE,
                                    criterion="a short post-migration watch is not a pass"))


# ----------------------------------------------------------------------------- §8.3
def _usage(environment: Environment, kube: Any) -> list[resources.PodUsage]:
    k = environment.kubernetes
    return pod_usage(kube, k.namespace, k.label_selector)


@then("every trading bot pod uses less CPU than the environment's target share of its limit")
def cpu_target(environment: Environment, kube: Any) -> None:
    limit = environment.thresholds.cpu_utilization
    label = f"CPU utilisation (§8.3 target below {_pct(limit)} of the limit)"
    expect(measure_and_judge(label, lambda: _usage(environment, kube),
                             lambda u: resources.cpu_vs_limit(u, max_fraction=limit, criterion=label),
                             (KubernetesUnavailable,)))


def _memory_verdict(environment: Environment, kube: Any) -> Verdict:
    limit = environment.thresholds.memory_utilization
    label = f"memory usage (§8.3 target below {_pct(limit)} of the limit)"
    return measure_and_judge(label, lambda: _usage(environment, kube),
                             lambda u: resources.memory_vs_limit(u, max_fraction=limit, criterion=label),
                             (KubernetesUnavailable,))


@then("every trading bot pod uses less memory than the environment's target share of its limit")
def memory_target(environment: Environment, kube: Any) -> None:
    expect(_memory_verdict(environment, kube))


@then("the memory target check fails")
def memory_target_fails(environment: Environment, kube: Any) -> None:
    expect(post_deploy.shows_status(_memory_verdict(environment, kube), Status.FAIL,
                                    criterion="a pod near its memory limit fails the §8.3 memory target"))


class _RequestsNotCountedError(Exception):
    """The metric source could not count the window's requests (its message says why)."""


@dataclass(frozen=True)
class NetworkMeasured:
    deltas: NetworkDeltas
    requests: int


def _network_label(environment: Environment) -> str:
    return f"network I/O per request (§8.3 within {environment.thresholds.network_io_factor:g}x of its baseline)"


@when(parsers.parse("the trading bot pods' network I/O and served requests are measured over {seconds:g} seconds"),
      target_fixture="network_io")
def measure_network_io(seconds: float, environment: Environment, rollout_ctx: RolloutContext,
                       kube: Any) -> Callable[[], NetworkMeasured]:
    """The kubelet's byte counters of the release's pods around a count of the requests they served
    (the environment's metric source), so both cover the same traffic; measured once, judged by the Then."""
    group = _release_group(rollout_ctx)
    done: list[NetworkMeasured] = []

    def measure() -> NetworkMeasured:
        if done:
            return done[0]
        net = NetworkWindow(kube, group.namespace, group.label_selector)
        window = GrowingWindow(rollout_ctx.source, Selector(dict(group.labels), group.namespace), rollout_ctx.clock)
        counted = count_requests(window, min_window_s=seconds, planned_requests=environment.thresholds.min_requests,
                                 deadline_s=seconds + environment.strategy.rollout_timeout_s,
                                 poll_s=environment.strategy.evaluation_interval_s,
                                 clock=rollout_ctx.clock, sleep=rollout_ctx.sleep)
        deltas = net.close()
        m = counted.measurement
        if m.error or m.counts is None:
            raise _RequestsNotCountedError(f"the requests served by {group.label_selector} in {group.namespace} could not be "
                                      f"counted: {m.error or 'no counts'}")
        done.append(NetworkMeasured(deltas, m.counts.rounded()[0]))
        return done[0]
    return measure


def _network_verdict(network_io: Callable[[], NetworkMeasured], environment: Environment) -> Verdict:
    t = environment.thresholds
    return measure_and_judge(
        _network_label(environment), network_io,
        lambda m: resources_network.network_io_per_request(
            m.deltas, m.requests, baseline_bytes_per_request=t.network_bytes_per_request,
            factor=t.network_io_factor, min_requests=t.min_requests, criterion=_network_label(environment)),
        (KubernetesUnavailable, _RequestsNotCountedError))


@then("the network I/O per request is within the environment's factor of its baseline")
def network_io_baseline(network_io: Callable[[], NetworkMeasured], environment: Environment) -> None:
    expect(_network_verdict(network_io, environment))


@then("the network I/O check fails")
def network_io_fails(network_io: Callable[[], NetworkMeasured], environment: Environment) -> None:
    expect(post_deploy.shows_status(_network_verdict(network_io, environment), Status.FAIL,
                                    criterion="a release moving far more bytes per request fails the §8.3 "
                                              "network I/O baseline"))


# ----------------------------------------------------------------------------- §7.3
@dataclass(frozen=True)
class DrainResult:
    sent: int
    failed: int
    deleted: tuple[str, ...]
    evidence: Evidence


@pytest.fixture
def changed_release(environment: Environment, rollout_ctx: RolloutContext) -> Iterator[list[str]]:
    """Revisions this scenario rolled out; each is taken back by ``rollout undo`` afterwards."""
    rolled: list[str] = []
    yield rolled
    ctx = rollout_ctx
    for what in reversed(rolled):
        actions.rollout_undo(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, reason=f"undo {what}")
    if rolled:
        status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
        wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas,
                      deadline_s=environment.strategy.rollout_timeout_s, complete=True, fail_fast=False)


def _roll(environment: Environment, ctx: RolloutContext, rolled: list[str], what: str, *,
          env: dict[str, str] | None = None, memory_limit: str | None = None) -> None:
    """Roll the running release to one more revision (a planted fault knob) and wait for it."""
    if not environment.rehearsals:
        pytest.skip(f"{environment.source_file}: rehearsals is not true — fault knobs (FAULT_* variables of the "
                    "reference bot) are planted only where goldgate may plant faults")
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, environment.kubernetes.container,
                    env=env, memory_limit=memory_limit, change_cause=f"post-deploy check: {what}")
    rolled.append(what)
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas,
                           deadline_s=environment.strategy.rollout_timeout_s, complete=True, fail_fast=False)
    if not waited.ok:
        pytest.fail(f"ERROR: the release with {what} did not become Ready: {waited.reason}", pytrace=False)


@given(parsers.parse("the trading bot answers API requests in about {ms:d} ms"))
def slow_answers(ms: int, environment: Environment, rollout_ctx: RolloutContext,
                 changed_release: list[str]) -> None:
    """In-flight requests need time to be in flight: the reference bot's latency knob."""
    _roll(environment, rollout_ctx, changed_release, f"{ms} ms answers", env={"FAULT_LATENCY_MS": str(ms)})


@given(parsers.re(r"the running release carries (?P<knob>FAULT_[A-Z_]+)=(?P<value>\S+)"))
def carries_fault(knob: str, value: str, environment: Environment, rollout_ctx: RolloutContext,
                  changed_release: list[str]) -> None:
    _roll(environment, rollout_ctx, changed_release, f"{knob}={value}", env={knob: value})


@given(parsers.parse("the running release has a memory limit of {limit}"))
def memory_limit(limit: str, environment: Environment, rollout_ctx: RolloutContext,
                 changed_release: list[str]) -> None:
    _roll(environment, rollout_ctx, changed_release, f"memory limit {limit}", memory_limit=limit)


@given(parsers.parse("the running release has a memory limit {percent:g} % above what its pods use now"))
def memory_limit_above_use(percent: float, environment: Environment, rollout_ctx: RolloutContext,
                           changed_release: list[str], kube: Any) -> None:
    """A limit just above the pods' measured use: what "just above" is depends on the build
    (its database driver, its libraries), so it is measured, not written into the scenario."""
    try:
        used = [u.memory_bytes for u in _usage(environment, kube) if u.memory_bytes]
    except KubernetesUnavailable as exc:
        pytest.fail(f"ERROR: the pods' memory use could not be read: {exc}", pytrace=False)
    if not used:
        pytest.fail("ERROR: no pod reports its memory use (metrics.k8s.io): no limit to set above it", pytrace=False)
    limit = f"{math.ceil(max(used) * (1 + percent / 100) / 2**20)}Mi"
    _roll(environment, rollout_ctx, changed_release, f"memory limit {limit} ({percent:g} % above "
          f"{max(used) / 2**20:.0f}Mi in use)", memory_limit=limit)


@when(parsers.parse("one trading bot pod is deleted while {rate:g} requests per second are in flight"),
      target_fixture="drain_result")
def delete_pod_under_traffic(rate: float, environment: Environment, rollout_ctx: RolloutContext,
                             bot_url: str) -> DrainResult:
    ctx, s, t = rollout_ctx, environment.strategy, environment.timeouts
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    ready = [p for p in pod_facts(ctx.kube, ctx.namespace, own_pods(status.selector)) if p.ready and not p.deleting]
    if not ready:
        pytest.fail(f"ERROR: deployment/{ctx.deployment} has no Ready pod to delete", pytrace=False)
    run_s = 1.0 + s.drain_timeout_s + 2.0
    try:
        stream = TrafficStream(bot_url, rate_rps=rate, max_duration_s=run_s, workers=max(8, int(rate * 2)),
                               timeout=(t.connect_s, t.read_s + s.drain_timeout_s))
    except NotLoopback as exc:
        pytest.skip(f"draining is measured with generated requests, which go to loopback only: {exc}")
    victim = ready[0].name
    with stream:
        ctx.sleep(1.0)
        actions.delete_pod(ctx.kube, ctx.safety, ctx.namespace, victim, reason="§7.3 draining check")
        deleted_at = time.time()
        while stream.running:
            ctx.sleep(0.2)
    st = stream.stats
    ev = Evidence("traffic", f"GET {bot_url}{stream.paths[0]}", run_s, st.sent,
                  {**st.to_dict(), "deleted_pod": victim, "deleted_at": deleted_at,
                   "drain_timeout_s": s.drain_timeout_s})
    return DrainResult(st.sent, st.failures + st.server_errors, (victim,), ev)


@then("no request failed while the pod terminated")
def drained(drain_result: DrainResult, environment: Environment) -> None:
    r = drain_result
    expect(post_deploy.drained_while_terminating(
        r.sent, r.failed, pods_deleted=len(r.deleted), min_requests=environment.thresholds.min_requests,
        criterion=f"connection draining (§7.3 {environment.strategy.drain_timeout_s:g} s drain)",
        evidence=(r.evidence,)))
