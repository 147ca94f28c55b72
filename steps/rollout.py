"""Rollout vocabulary: traffic during a rollout, the three strategies, their rollbacks.

Steps only parse words and hand over to :mod:`goldgate.rollout` (state machines) and
:mod:`goldgate.actions` (every mutation); what they observed is decided by
:mod:`goldgate.criteria.rollout`, and the verdicts go to ``expect``.

Scenarios tagged ``@destructive`` change the cluster; without ``--allow-mutations`` they
are skipped with that reason (never silently passed). Faulty builds and fault knobs
exist only in the embedded sandbox, so scenarios that inject them skip elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment
from goldgate.criteria import rollout as judge
from goldgate.durations import scaled_note
from goldgate.probes.http import HttpProbe
from goldgate.probes.workloads import DeploymentStatus, deployment_status
from goldgate.report.trading_chart import attach_report as attach_trading
from goldgate.rollout import bluegreen, canary, rolling
from goldgate.rollout.base import (
    Release,
    RolloutContext,
    RolloutReport,
    monitor_phase,
    own_pods,
    wait_for_pods,
)
from goldgate.rollout.monitor import Group, RollbackMonitor
from goldgate.rollout.routers import entry_url
from goldgate.rollout.smoke import smoke_checks
from goldgate.rollout.sources import metric_source
from goldgate.rollout.trading_monitor import trading_monitor
from goldgate.rollout.traffic import TrafficStream, is_loopback
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Evidence, Verdict, expect

_log = logging.getLogger("goldgate.rollout")

# ----------------------------------------------------------------------------- policy


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A mutating rollout scenario without permission is skipped, saying which flag is missing."""
    if item.get_closest_marker("destructive") is None or item.get_closest_marker("rollout") is None:
        return
    safety: SafetyPolicy | None = item.config.stash.get(_safety_key(), None)
    if safety is None:
        return
    problems = safety.problems()
    if problems:
        pytest.skip("changes the cluster: " + "; ".join(problems))


def _safety_key() -> Any:
    from goldgate.plugin import SAFETY_KEY

    return SAFETY_KEY


# ----------------------------------------------------------------------------- fixtures
@dataclass
class RolloutState:
    """What one scenario did: the traffic it generated, the report, the state before."""

    streams: list[TrafficStream] = field(default_factory=list)
    before: DeploymentStatus | None = None
    release: Release | None = None
    report: RolloutReport | None = None
    watched: list[Any] = field(default_factory=list)
    expected_agreement: float | None = None  # a deliberate model change's (release manifest)


@pytest.fixture
def rollout_state() -> Iterator[RolloutState]:
    state = RolloutState()
    yield state
    for stream in state.streams:
        stream.stop()


@pytest.fixture
def rollout_ctx(environment: Environment, kube: Any, safety: SafetyPolicy) -> RolloutContext:
    return RolloutContext(environment, kube, safety, metric_source(environment, kube), log=_log.info)


@pytest.fixture(scope="module")
def restore_release(environment: Environment, kube: Any, safety: SafetyPolicy) -> Iterator[None]:
    """After a feature file's rollouts, the environment runs the release under test again.

    Other features (smoke, monitoring) expect the environment's release; a rollback
    rehearsal leaves the previous one running. Only where rehearsals run, and only when allowed.
    """
    yield
    env = environment
    if not env.rehearsals or safety.problems() or not env.release.image:
        return
    status = deployment_status(kube, env.kubernetes.namespace, env.kubernetes.deployment)
    if status.images == (env.release.image,) and status.complete:
        return
    ctx = RolloutContext(env, kube, safety, None, log=lambda line: None)
    actions.release(kube, safety, ctx.namespace, ctx.deployment, env.kubernetes.container, image=env.release.image)
    wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas,
                  deadline_s=env.strategy.rollout_timeout_s, complete=True, fail_fast=False)


def _image_with_tag(image: str, tag: str) -> str:
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    repository = name[:colon] if colon > slash else name
    return f"{repository}:{tag}"


def _version_of(environment: Environment, image: str) -> str | None:
    """The version ``/version`` should report for ``image``, the same way on any cluster.

    The release under test reports ``release.version``, the previous release
    ``release.previous_version``; any other image its tag (None for a digest or no tag).
    """
    rel = environment.release
    if rel.image and image == rel.image:
        return rel.version
    if rel.image and rel.previous_version and image == _image_with_tag(rel.image, rel.previous_version):
        return rel.previous_version
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[colon + 1:] if colon > slash and "@" not in image else None


def _release_image(environment: Environment) -> str:
    if not environment.release.image:
        pytest.skip(f"{environment.source_file}: release.image is not set — nothing to roll out")
    return environment.release.image


def _need_rehearsals(environment: Environment, what: str) -> None:
    if not environment.rehearsals:
        pytest.skip(f"{environment.source_file}: rehearsals is not true — {what} are planted only where "
                    "goldgate may plant faults")


# ----------------------------------------------------------------------------- Given
@given(parsers.parse("steady trading traffic of {rate:g} requests per second to the trading bot service"))
def steady_traffic(rate: float, environment: Environment, bot_url: str, kube: Any,
                   rollout_state: RolloutState) -> None:
    """Generated only against a service on this machine; a real cluster has its users.

    The requests enter where users' do: through the canary router's Gateway when one is named.
    """
    bot_url = entry_url(environment, kube, bot_url)
    if not is_loopback(bot_url):
        expect(judge.user_traffic(bot_url, rate, on_this_machine=False))
        return
    s = environment.strategy
    bound = 3 * s.rollout_timeout_s + 2 * s.monitoring_window_s + len(s.canary_weights) * (
        s.canary_phase_deadline_s or 2 * s.canary_phase_s)
    stream = TrafficStream(bot_url, rate_rps=rate, max_duration_s=bound,
                           timeout=(environment.timeouts.connect_s, environment.timeouts.read_s)).start()
    rollout_state.streams.append(stream)


@given("no trading traffic reaches the trading bot service")
def no_traffic(rollout_state: RolloutState) -> None:
    for stream in rollout_state.streams:
        stream.stop()


@given("production runs the previous release")
def previous_release_runs(environment: Environment, rollout_ctx: RolloutContext, restore_release: None) -> None:
    prev = environment.release.previous_version
    if not prev:
        pytest.skip(f"{environment.source_file}: release.previous_version is not set")
    image = _image_with_tag(_release_image(environment), prev)
    status = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
    if status.images != (image,) and not environment.rehearsals:
        # Where no rehearsal may run, production is never moved back just to stage a rollout.
        pytest.skip(f"deployment/{rollout_ctx.deployment} runs {', '.join(status.images)}, not the previous "
                    f"release {image}: nothing to roll out from")
    if status.images != (image,):
        actions.release(rollout_ctx.kube, rollout_ctx.safety, rollout_ctx.namespace, rollout_ctx.deployment,
                        environment.kubernetes.container, image=image, change_cause=f"previous release {prev}")
    waited = wait_for_pods(rollout_ctx, rollout_ctx.deployment, own_pods(status.selector), status.replicas,
                           deadline_s=environment.strategy.rollout_timeout_s, complete=True, fail_fast=False)
    if not waited.ok:
        pytest.fail(f"ERROR: the previous release {image} did not become Ready: {waited.reason}", pytrace=False)


@given(parsers.parse("the Deployment gives up on a rollout that makes no progress for {seconds:d} seconds"))
def progress_deadline(seconds: int, rollout_ctx: RolloutContext, request: pytest.FixtureRequest) -> None:
    before = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
    actions.set_progress_deadline(rollout_ctx.kube, rollout_ctx.safety, rollout_ctx.namespace,
                                  rollout_ctx.deployment, seconds)
    previous = before.progress_deadline_s or 600

    def _restore() -> None:
        actions.set_progress_deadline(rollout_ctx.kube, rollout_ctx.safety, rollout_ctx.namespace,
                                      rollout_ctx.deployment, previous)

    request.addfinalizer(_restore)


# ----------------------------------------------------------------------------- When
def _parse_fault(text: str) -> dict[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.startswith("FAULT_"):
        raise ValueError(f"{text!r} is not a fault knob like FAULT_ERROR_RATE=0.03")
    return {key.strip(): value.strip()}


def _manifest_expected_agreement(environment: Environment) -> float | None:
    """The release manifest's ``trading.expected_agreement``; an unreadable manifest stops the rollout.

    A stated expectation decides how differently the release may trade, so a manifest that
    cannot be read is an error, never a silent fall-back to the environment's minimum.
    """
    from goldgate.criteria.measured import probe_failed
    from goldgate.probes.artifacts import ArtifactUnavailable
    from goldgate.probes.artifacts.manifest import read_manifest

    path = Path(environment.release.manifest or "")
    if not path.is_file():
        return None
    try:
        return read_manifest(path).expected_agreement
    except ArtifactUnavailable as exc:
        expect(probe_failed("expected signal agreement (release manifest)", str(exc),
                            evidence=Evidence("release manifest", str(path)), rollback=True))
        return None


def _previous_in_place(ctx: RolloutContext, environment: Environment, before: DeploymentStatus) -> DeploymentStatus:
    """Where rehearsals run, a rollout starts from the previous release, as in production.

    A rehearsal that rolls the release under test out over itself would "roll back" to the
    very version under test; the version running before it must be ``release.previous_version``.
    Only when the release under test runs now (a previous rehearsal's rollback already left
    the previous version in place) and the run may mutate.
    """
    rel = environment.release
    if not (environment.rehearsals and rel.image and rel.previous_version) or before.images != (rel.image,):
        return before
    if ctx.safety.problems():
        return before
    previous = _image_with_tag(rel.image, rel.previous_version)
    actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, environment.kubernetes.container,
                    image=previous, change_cause=f"goldgate: the previous release {rel.previous_version} in place")
    wait_for_pods(ctx, ctx.deployment, own_pods(before.selector), before.replicas,
                  deadline_s=environment.strategy.rollout_timeout_s, complete=True, fail_fast=False)
    return deployment_status(ctx.kube, ctx.namespace, ctx.deployment)


def _start(rollout_ctx: RolloutContext, rollout_state: RolloutState, release: Release,
           environment: Environment) -> None:
    rollout_state.release = release
    before = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
    rollout_state.before = _previous_in_place(rollout_ctx, environment, before)


def _run(strategy: str, rollout_ctx: RolloutContext, rollout_state: RolloutState, release: Release,
         environment: Environment) -> RolloutReport:
    kind = {"rolling update": "rolling", "canary": "canary", "blue-green deployment": "blue-green"}[strategy]
    if kind not in environment.strategy.strategies:
        pytest.skip(f"{environment.source_file}: strategy.kind is {environment.strategy.kind!r}; "
                    f"this environment is not released by {strategy}")
    expected = rollout_state.expected_agreement
    if expected is None and environment.release.manifest:
        expected = _manifest_expected_agreement(environment)
    if expected is not None:
        release = replace(release, expected_agreement=expected)
    _start(rollout_ctx, rollout_state, release, environment)
    change = rollout_ctx.safety.change if hasattr(rollout_ctx.safety, "change") else None
    cause = f"goldgate {strategy} of {release.image}" + (f" ({change})" if change else "")
    if strategy == "rolling update":
        report = rolling.rolling_update(rollout_ctx, release, change_cause=cause)
    elif strategy == "canary":
        report = canary.canary(rollout_ctx, release, change_cause=cause)
        if report.outcome == "not supported":
            pytest.skip(report.reason)
    else:
        version = _version_of(environment, release.image)
        report = bluegreen.blue_green(rollout_ctx, release, smoke_checks(environment, version), change_cause=cause)
    rollout_state.report = report
    _attach_report(report)
    return report


def _attach_report(report: RolloutReport) -> None:
    try:
        import json

        import allure

        allure.attach(json.dumps(report.evidence().to_dict(), indent=2, default=str),
                      name=f"{report.strategy}: {report.outcome}", attachment_type=allure.attachment_type.JSON)
    except Exception:  # noqa: S110 - reporting never changes the outcome
        pass
    attach_trading(report)


@when(parsers.re(r"the release under test rolls out as an? (?P<strategy>rolling update|canary|blue-green deployment)"),
      target_fixture="rollout_report")
def release_rolls_out(strategy: str, environment: Environment, rollout_ctx: RolloutContext,
                      rollout_state: RolloutState) -> RolloutReport:
    return _run(strategy, rollout_ctx, rollout_state, Release(_release_image(environment)), environment)


@when(parsers.re(r'the faulty build "(?P<build>[a-z]+)" of the release rolls out as an? '
                 r"(?P<strategy>rolling update|canary|blue-green deployment)"), target_fixture="rollout_report")
def faulty_build_rolls_out(build: str, strategy: str, environment: Environment, rollout_ctx: RolloutContext,
                           rollout_state: RolloutState) -> RolloutReport:
    _need_rehearsals(environment, "faulty builds (image tags like v1.2.0-errors)")
    image = f"{_release_image(environment)}-{build}"
    return _run(strategy, rollout_ctx, rollout_state, Release(image), environment)


@when(parsers.re(r"the release under test rolls out as an? (?P<strategy>rolling update|canary|blue-green deployment) "
                 r"carrying (?P<fault>FAULT_[A-Z_]+=\S+)(?: with a memory limit of (?P<limit>\S+))?"),
      target_fixture="rollout_report")
def release_with_fault_rolls_out(strategy: str, fault: str, limit: str | None, environment: Environment,
                                 rollout_ctx: RolloutContext, rollout_state: RolloutState) -> RolloutReport:
    _need_rehearsals(environment, "fault knobs (FAULT_* variables of the reference bot)")
    release = Release(_release_image(environment), _parse_fault(fault), memory_limit=limit)
    return _run(strategy, rollout_ctx, rollout_state, release, environment)


@when("the running release is watched for the monitoring window", target_fixture="watch_assessment")
def watch_running_release(environment: Environment, rollout_ctx: RolloutContext) -> Any:
    status = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
    from goldgate.probes.workloads import replicaset_hashes

    h = replicaset_hashes(rollout_ctx.kube, rollout_ctx.namespace, own_pods(status.selector)).get(status.revision, "")
    group = Group(f"revision {status.revision}", {**status.selector, **({"pod-template-hash": h} if h else {})},
                  rollout_ctx.namespace)
    monitor = RollbackMonitor(environment, rollout_ctx.kube, rollout_ctx.source, group, clock=rollout_ctx.clock,
                              trading=trading_monitor(environment, rollout_ctx.kube, group, None))
    report = RolloutReport("watch", ", ".join(status.images))
    window = environment.strategy.monitoring_window_s
    return monitor_phase(rollout_ctx, monitor, report, window_s=window, deadline_s=window, label="watch")


# ----------------------------------------------------------------------------- Then
def _report(rollout_report: RolloutReport | None) -> RolloutReport:
    if rollout_report is None:
        pytest.fail("ERROR: no rollout ran in this scenario", pytrace=False)
    return rollout_report


def _find(report: RolloutReport, name: str) -> Verdict | None:
    """The first breach of a trigger whose criterion starts with ``name``."""
    candidates = [report.trigger] if report.trigger is not None else []
    for a in reversed(report.assessments):
        candidates.extend(a.breaches)
    for v in candidates:
        if v is not None and v.criterion.lower().startswith(name.lower()):
            return v
    return None


@then(parsers.parse('the "{name}" rollback trigger fails'))
def trigger_fails(name: str, rollout_report: RolloutReport) -> None:
    report = _report(rollout_report)
    expect(judge.trigger_fired(name, _find(report, name), outcome=report.outcome, trigger=report.trigger,
                               evidence=report.evidence()))


def _rolled_back(report: RolloutReport, how: str, action: str) -> None:
    done = any(a.action == action and a.outcome == "done" for a in report.actions)
    expect(judge.rolled_back(how, action, outcome=report.outcome, reason=report.reason, action_done=done,
                             evidence=report.evidence()))


@then("the deployment is rolled back with rollout undo")
def rolled_back_with_undo(rollout_report: RolloutReport) -> None:
    _rolled_back(_report(rollout_report), "rolling update", "rollout undo")


@then("the canary is rolled back automatically")
def canary_rolled_back(rollout_report: RolloutReport) -> None:
    _rolled_back(_report(rollout_report), "canary removed", "delete deployment")


@then("traffic is switched back to blue automatically")
def switched_back(rollout_report: RolloutReport) -> None:
    _rolled_back(_report(rollout_report), "Service selector back to blue", "switch service selector")


@then("the previous revision is back, Ready and serving")
def previous_revision_back(rollout_ctx: RolloutContext, rollout_state: RolloutState, bot_url: str,
                           environment: Environment) -> None:
    before = rollout_state.before
    if before is None:
        pytest.fail("ERROR: the state before the rollout was not recorded", pytrace=False)
    start = rollout_ctx.clock()
    while True:  # the controller may not have observed the rollback's last change yet
        now = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
        if (now.complete and now.images == before.images) or rollout_ctx.clock() - start > 10:
            break
        rollout_ctx.sleep(rollout_ctx.poll_s)
    probe = HttpProbe(bot_url, environment.timeouts)
    try:
        answer = probe.get("/version")
    finally:
        probe.close()
    version = (answer.json() or {}).get("version") if answer.status == 200 else None
    ev = Evidence("kubernetes", f"deployment/{rollout_ctx.deployment}", None, None,
                  {"images_before": list(before.images), "images_now": list(now.images),
                   "ready": now.ready_replicas, "replicas": now.replicas, "revision_now": now.revision,
                   "revision_before": before.revision, "service_version": version, "url": answer.url})
    expected_version = _version_of(environment, before.images[0]) if before.images else None
    expect(judge.previous_revision_restored(
        images_before=before.images, images_now=now.images, complete=now.complete, ready=now.ready_replicas,
        replicas=now.replicas, http_status=answer.status, http_error=str(answer.error or ""), version=version,
        expected_version=expected_version, release_version=environment.release.version,
        release_image=environment.release.image, evidence=ev))
    _stable_healthy_after_rollback(rollout_ctx, environment, now, traffic=bool(rollout_state.streams))


#: The rollback criteria a restored stable version must hold again (guide §6.1 triggers that
#: need no baseline: the stable version is the baseline). The first two need requests.
TRAFFIC_CRITERIA = ("error rate", "p95 latency budget")
POST_ROLLBACK_CRITERIA = (*TRAFFIC_CRITERIA, "health checks", "OOM kills", "free disk")


def _stable_healthy_after_rollback(ctx: RolloutContext, environment: Environment, status: DeploymentStatus, *,
                                   traffic: bool) -> None:
    """§6.2 steps 2 and 5 after an automatic rollback: the rollout history and the last 100 log
    lines as evidence, and the restored version watched on the rollback criteria.

    A scenario that sends no traffic (a canary starved of requests) judges the pod criteria
    only: error rate and latency cannot be measured without requests, and the verdict lists
    the criteria it judged."""
    from goldgate.probes.rollback_evidence import log_tails, render_history, rollout_history
    from goldgate.probes.workloads import pod_facts, replicaset_hashes

    selector = own_pods(status.selector)
    h = replicaset_hashes(ctx.kube, ctx.namespace, selector).get(status.revision, "")
    group = Group(f"revision {status.revision} (restored)", {**status.selector, **({"pod-template-hash": h} if h else {})},
                  ctx.namespace)
    monitor = RollbackMonitor(environment, ctx.kube, ctx.source, group, clock=ctx.clock)
    window = environment.strategy.post_rollback_window_s
    started = ctx.clock()
    last = monitor_phase(ctx, monitor, RolloutReport("after rollback", ", ".join(status.images)),
                         window_s=window, deadline_s=(3 if traffic else 1) * window, label="after rollback")
    watched = ctx.clock() - started
    history = render_history(ctx.deployment, rollout_history(ctx.kube, ctx.namespace, selector))
    pods = [p.name for p in pod_facts(ctx.kube, ctx.namespace, group.label_selector) if not p.deleting]
    tails = log_tails(ctx.kube, ctx.namespace, pods, environment.kubernetes.container, lines=100)
    _attach_text(f"kubectl rollout history deployment/{ctx.deployment}", history)
    for pod, text in tails.items():
        _attach_text(f"kubectl logs {pod} --tail=100", text)
    ev = Evidence("kubernetes", f"rollout history deployment/{ctx.deployment}; logs --tail=100 of {len(pods)} pods",
                  window, len(last.verdicts), {"rollout_history": history.splitlines(),
                                               "logs": {pod: text.splitlines()[-100:] for pod, text in tails.items()}})
    wanted = POST_ROLLBACK_CRITERIA if traffic else POST_ROLLBACK_CRITERIA[len(TRAFFIC_CRITERIA):]
    judged = [v for v in last.verdicts if v.criterion.lower().startswith(tuple(c.lower() for c in wanted))]
    expect(judge.stable_healthy_after_rollback(judged, window_s=window, watched_s=watched,
                                               evidence=(ev, *duration_evidence_of(environment))))


def duration_evidence_of(environment: Environment) -> tuple[Evidence, ...]:
    from goldgate.criteria.timing import duration_evidence

    return tuple(duration_evidence(scaled_note(environment, "strategy.post_rollback_window_s")))


def _attach_text(name: str, text: str) -> None:
    try:
        import allure

        from goldgate.report.redact import REDACTOR

        allure.attach(REDACTOR.redact(text), name=name, attachment_type=allure.attachment_type.TEXT)
    except Exception:  # noqa: S110 - reporting never changes the outcome
        pass


def _expect_promoted(report: RolloutReport, criterion: str) -> None:
    last = report.last
    evidence = (report.evidence(), *(last.verdicts[0].evidence if report.promoted and last else ()))
    expect(judge.promoted(criterion, outcome=report.outcome, reason=report.reason, trigger=report.trigger,
                          evidence=evidence))


@then("the release is kept after the monitoring window")
def release_kept(rollout_report: RolloutReport) -> None:
    _expect_promoted(_report(rollout_report), "rolling update kept after monitoring (§2.3)")


@then("the canary is promoted")
def canary_promoted(rollout_report: RolloutReport, environment: Environment) -> None:
    last = environment.strategy.canary_weights[-1]
    _expect_promoted(_report(rollout_report), f"canary promoted (§2.2 phase 5: {last} % if no issues)")


@then("green is promoted")
def green_promoted(rollout_report: RolloutReport) -> None:
    _expect_promoted(_report(rollout_report), "green promoted (§2.1)")


@then(parsers.parse("availability never dropped below the quorum of replicas minus maxUnavailable"))
def quorum_kept(rollout_report: RolloutReport) -> None:
    expect(_check(_report(rollout_report), rolling.QUORUM))


@then("every new pod passed readiness before an old pod went")
def pod_by_pod(rollout_report: RolloutReport) -> None:
    expect(_check(_report(rollout_report), rolling.ORDER))


@then("the smoke tests passed against green only")
def smoke_on_green(rollout_report: RolloutReport, bot_url: str) -> None:
    report = _report(rollout_report)
    smoke = [v for v in report.checks if v.criterion.startswith("green ")]
    phase = next((p for p in report.phases if p.get("phase") == "smoke on green"), {})
    for v in judge.smoke_on_green_only(smoke, url=phase.get("url", ""), production_url=bot_url,
                                       outcome=report.outcome, reason=report.reason):
        expect(v)


@then("blue stayed Ready as a backup while green was monitored")
def blue_backup(rollout_report: RolloutReport) -> None:
    expect(_check(_report(rollout_report), bluegreen.BLUE_BACKUP))


@then("every canary phase passed every rollback trigger")
def every_phase_passed(rollout_report: RolloutReport, environment: Environment) -> None:
    report = _report(rollout_report)
    weights = [p.get("weight") for p in report.phases if p.get("outcome") == "PASS"]
    ev = Evidence("rollout", "canary phases", None, len(report.phases), {"phases": report.phases})
    expect(judge.canary_phases(weights, environment.strategy.canary_weights,
                               phase_s=environment.strategy.canary_phase_s, outcome=report.outcome,
                               reason=report.reason, trigger=report.trigger, evidence=ev,
                               scaled=scaled_note(environment, "strategy.canary_phase_s")))


@then("the canary phase ends INCONCLUSIVE, not PASS")
def canary_inconclusive(rollout_report: RolloutReport) -> None:
    report = _report(rollout_report)
    expect(judge.held_without_traffic(report.trigger, outcome=report.outcome, reason=report.reason,
                                      evidence=report.evidence()))


@then("the trading bot runs the release under test on every replica")
def release_everywhere(rollout_ctx: RolloutContext, environment: Environment) -> None:
    want = (_release_image(environment),)
    start = rollout_ctx.clock()
    while True:  # the controller may still be reporting the last pod's readiness
        now = deployment_status(rollout_ctx.kube, rollout_ctx.namespace, rollout_ctx.deployment)
        if (now.images == want and now.complete) or rollout_ctx.clock() - start > 10:
            break
        rollout_ctx.sleep(rollout_ctx.poll_s)
    ev = Evidence("kubernetes", f"deployment/{rollout_ctx.deployment}", None, now.replicas,
                  {"images": list(now.images), "ready": now.ready_replicas, "revision": now.revision})
    expect(judge.release_on_every_replica(want[0], images=now.images, ready=now.ready_replicas,
                                          replicas=now.replicas, complete=now.complete, evidence=ev))


def _check(report: RolloutReport, criterion: str) -> Verdict:
    return judge.recorded_verdict(criterion, report.checks,
                                  why=f"not checked: the rollout ended {report.outcome!r} before it "
                                      f"({report.reason or 'no reason'})")


# ----------------------------------------------------------------------------- watch
@then(parsers.parse("the {what} criterion held over the window"))
def watched_criterion(what: str, watch_assessment: Any, environment: Environment) -> None:
    expect(judge.recorded_verdict(what, watch_assessment.verdicts, by_prefix=True,
                                  why=f"no {what} verdict in the watch ({watch_assessment.summary()})",
                                  scaled=scaled_note(environment, "strategy.monitoring_window_s")))
