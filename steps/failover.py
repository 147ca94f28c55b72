"""Region failover vocabulary (guide §9.3 primary active / secondary hot standby, automatic
failover, manual failback, quarterly drills; §9.1 RPO and RTO).

The drill talks only to what a real pair of regions has: the global endpoint
(``regions.global_url``), each region's own bot URL (the primary's from the environment's
Service, the secondary's ``http.standby_url``), the primary's Kubernetes API (the failure
is ``kubectl scale --replicas=0`` of the bot, through the safety policy) and the traffic
manager's failback hook (``regions.failback_url``). Its result is recorded as a
``failover-drill`` action, so the audit trail shows when the last drill passed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_bdd import given, parsers, then, when

from goldgate.actions import kubernetes as kube_actions
from goldgate.actions import regions as region_actions
from goldgate.actions.base import ActionFailed
from goldgate.config import Environment, resolve_secret
from goldgate.criteria import failover, post_deploy
from goldgate.criteria.measured import measure_and_judge
from goldgate.durations import scaled_note
from goldgate.probes import failover as probe
from goldgate.probes.http import HttpProbe
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.verdict import Status, Verdict, expect

T = TypeVar("T")

#: Guide §9.3 "Failover Testing: Quarterly drills" — at most a quarter between passed drills.
GUIDE_DRILL_MAX_AGE_DAYS = 92.0
#: Guide §7.3: the global endpoint checks the primary every 10 s.
GUIDE_HEALTH_INTERVAL_S = 10.0
#: "No automatic failback" is watched over this many health-check intervals (and judged on at least 3).
FAILBACK_WATCH_INTERVALS = 5
FAILBACK_MIN_INTERVALS = 3
ORDER_INTERVAL_S = 0.2
#: Before failing a region the drill writes past its stated seconds until one order is
#: acknowledged, at most this much longer (no acknowledgement: the RTO and RPO are INCONCLUSIVE).
FIRST_ACK_WITHIN_S = 30.0
UNAVAILABLE = (probe.FailoverUnavailable, KubernetesUnavailable)


def gate(criterion: str, measure: Callable[[], T], judge: Callable[[T], Verdict]) -> Verdict:
    """Measure, judge, and make the verdict the step's outcome (the drill's probes' errors are ERROR)."""
    return expect(measure_and_judge(criterion, measure, judge, UNAVAILABLE))


def _field(section: Any, name: str, default: Any = None) -> Any:
    if section is None:
        return default
    if isinstance(section, Mapping):
        return section.get(name, default)
    return getattr(section, name, default)


@dataclass(frozen=True)
class RegionTargets:
    """Where the drill writes, fails and fails back, resolved from the environment."""

    global_url: str
    standby_url: str
    failback_url: str | None
    health_interval_s: float
    source: str
    standby_database_url: str | None = None


@dataclass
class Drill:
    """One drill's progress; what is left undone is put back and recorded at teardown."""

    targets: RegionTargets
    writer: probe.OrderWriter
    primary: HttpProbe
    secondary: HttpProbe
    replicas: int | None = None
    failed_at: float | None = None
    failed_at_wall: float | None = None
    primary_restored: bool = False
    failed_back: bool = False
    recovered_at: float | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)


def _resolve(value: Any, key: str, provided: Mapping[str, Any]) -> Any:
    """A URL as written; a symbolic value (no scheme) is resolved by the cluster fixture."""
    if isinstance(value, str) and value and "://" not in value:
        return provided.get(key)
    return value


@pytest.fixture(scope="session")
def region_targets(environment: Environment, request: pytest.FixtureRequest) -> RegionTargets:
    source = environment.source_file or environment.name
    regions = getattr(environment, "regions", None)
    provided = request.getfixturevalue("region_endpoints") or {}
    global_url = _resolve(_field(regions, "global_url"), "global_url", provided)
    if not global_url:
        pytest.skip(f"{source}: regions.global_url is not set — no global endpoint in front of two regions to drill")
    standby_url = _resolve(environment.http.standby_url, "standby_url", provided)
    if not standby_url:
        pytest.skip(f"{source}: http.standby_url is not set — the secondary region's own URL is needed to tell "
                    "which region serves")
    interval = _field(regions, "health_check_interval_s") or provided.get("health_interval_s") or GUIDE_HEALTH_INTERVAL_S
    failback = _resolve(_field(regions, "failback_url"), "admin_url", provided)
    if failback and failback == provided.get("admin_url"):
        failback = failback.rstrip("/") + "/failback"
    standby_db = _resolve(_field(regions, "standby_database_url"), "standby_database_url", provided)
    if standby_db and "://" not in str(standby_db):
        standby_db = resolve_secret(standby_db)  # env:VAR, file:PATH, vault:PATH#KEY
    return RegionTargets(global_url, standby_url, failback, float(interval), str(source), standby_db)


def _client(environment: Environment, url: str, **headers: str) -> HttpProbe:
    return HttpProbe(url, environment.timeouts, headers=headers, verify_tls=environment.http.verify_tls)


def _judge(drill: Drill, name: str, criterion: str, measure: Callable[[], T], decide: Callable[[T], Verdict]) -> None:
    """Like :func:`gate`, keeping the verdict for the drill's record even when it is not a pass."""
    verdict = measure_and_judge(criterion, measure, decide, UNAVAILABLE)
    drill.verdicts[name] = verdict
    expect(verdict)


def _record(drill: Drill, safety: Any, kube: Any, environment: Environment) -> None:
    """Teardown: bring the primary back if a failed step left it down, then record the drill."""
    try:
        _finish(drill, safety, kube, environment)
    finally:
        for client in (drill.writer.client, drill.primary, drill.secondary):
            client.close()


def _finish(drill: Drill, safety: Any, kube: Any, environment: Environment) -> None:
    k8s = environment.kubernetes
    if drill.failed_at is not None and not drill.primary_restored and drill.replicas:
        kube_actions.scale(kube, safety, k8s.namespace, k8s.deployment, drill.replicas,
                           reason="failover drill ended early: primary region restored")
    if drill.failed_at is None:
        return
    if not drill.failed_back and drill.targets.failback_url:
        # A drill that stopped half-way must not leave production on the secondary.
        with contextlib.suppress(ActionFailed):
            _run_failback(drill, safety, environment, reason="failover drill ended early: manual failback")
    wanted = ("rto", "rpo", "no-failback", "failback")
    passed = all(name in drill.verdicts and drill.verdicts[name].ok for name in wanted)
    # A rehearsal on a planted fault is recorded as such: it is neither a passed nor a failed drill.
    result = "rehearsal" if "planted_fault" in drill.measured else "passed" if passed else "failed"
    region_actions.record_drill(
        safety, drill.targets.global_url, result,
        at=dt.datetime.fromtimestamp(drill.failed_at_wall or time.time(), dt.UTC).isoformat(),
        checks={name: (drill.verdicts[name].status.value if name in drill.verdicts else "NOT RUN") for name in wanted},
        **drill.measured)


@given("the two regions named in the environment", target_fixture="drill")
def two_regions(environment: Environment, region_targets: RegionTargets, bot_url: str, safety: Any,
                request: pytest.FixtureRequest) -> Drill:
    # The drill writes orders and fails a region: refused before the first order without permission.
    safety.require(f"run a failover drill through {region_targets.global_url}")
    # A fresh connection per request, as a client re-resolving a global name would make.
    drill = Drill(region_targets, probe.OrderWriter(_client(environment, region_targets.global_url, Connection="close")),
                  _client(environment, bot_url), _client(environment, region_targets.standby_url))
    request.addfinalizer(lambda: _record(drill, safety, request.getfixturevalue("kube"), environment))
    return drill


@given(parsers.parse("paper orders written through the global endpoint for {seconds:g} seconds"))
def orders_before(drill: Drill, seconds: float) -> None:
    drill.measured["acked_before_failure"] = drill.writer.write_for(seconds, interval_s=ORDER_INTERVAL_S,
                                                                    first_ack_within_s=FIRST_ACK_WITHIN_S)


@when("the primary region fails")
def primary_fails(drill: Drill, kube: Any, safety: Any, environment: Environment) -> None:
    k8s = environment.kubernetes
    drill.replicas = int((kube_actions.read_deployment(kube, k8s.namespace, k8s.deployment).get("spec") or {})
                         .get("replicas") or 1)
    failed_at, failed_at_wall = time.monotonic(), time.time()
    kube_actions.scale(kube, safety, k8s.namespace, k8s.deployment, 0, reason="failover drill: fail the primary region")
    drill.failed_at, drill.failed_at_wall = failed_at, failed_at_wall


def _recovery(drill: Drill, deadline_s: float) -> tuple[probe.Recovery, str | None]:
    assert drill.failed_at is not None, "the primary region was not failed"
    recovery = drill.writer.until_recovered(drill.failed_at, deadline_s=deadline_s, interval_s=ORDER_INTERVAL_S,
                                            primary=drill.primary)
    drill.recovered_at = recovery.first_order.acked_at if recovery.first_order else None
    served = None
    if recovery.first_order is not None:
        served = "secondary" if probe.holds(drill.secondary, recovery.first_order) else "primary"
    drill.measured |= {"rto_s": round(recovery.elapsed_s, 2), "recovered": recovery.recovered, "served_by": served}
    return recovery, served


@then("the global endpoint serves orders from the secondary region within the RTO")
def within_rto(drill: Drill, environment: Environment) -> None:
    rto_s = environment.recovery.rto_s
    acked = len(drill.writer.acknowledged_before(drill.failed_at or 0.0))
    # Waiting twice the RTO shows by how much a slow failover misses it.
    _judge(drill, "rto", f"region failover within the RTO ({rto_s:g} s)", lambda: _recovery(drill, 2 * rto_s),
           lambda r: failover.failover_within_rto(r[0], acked, rto_s, r[1],
                                                  scaled=scaled_note(environment, "recovery.rto_s")))


def _loss(drill: Drill) -> probe.DataLoss:
    assert drill.failed_at is not None and drill.failed_at_wall is not None, "the primary region was not failed"
    # Every order acknowledged before the secondary took over was the primary's to keep.
    until = drill.recovered_at - 1e-6 if drill.recovered_at is not None else drill.failed_at
    loss = drill.writer.missing(drill.writer.acknowledged_before(until), drill.failed_at_wall)
    drill.measured |= {"orders_checked": loss.checked, "orders_missing": len(loss.missing),
                       "data_lost_s": round(loss.window_s, 2)}
    return loss


@then("no more acknowledged orders are lost than the RPO allows")
def within_rpo(drill: Drill, environment: Environment) -> None:
    rpo_s = environment.recovery.rpo_s
    _judge(drill, "rpo", f"data lost in the failover within the RPO ({rpo_s:g} s)", lambda: _loss(drill),
           lambda loss: failover.data_loss_within_rpo(loss, rpo_s))


@when("the primary region returns")
def primary_returns(drill: Drill, kube: Any, safety: Any, environment: Environment) -> None:
    k8s = environment.kubernetes
    kube_actions.scale(kube, safety, k8s.namespace, k8s.deployment, drill.replicas or 1,
                       reason="failover drill: the primary region returns")
    drill.primary_restored = True
    back = probe.wait_ready(drill.primary, "/ready", timeout_s=environment.strategy.rollout_timeout_s,
                            interval_s=ORDER_INTERVAL_S)
    drill.measured["primary_back_after_s"] = None if back is None else round(back, 2)


@then("the global endpoint does not fail back by itself")
def no_failback(drill: Drill) -> None:
    interval = drill.targets.health_interval_s
    _judge(drill, "no-failback", "no automatic failback to the primary region",
           lambda: probe.served_by(drill.writer, drill.primary, drill.secondary,
                                   wait_s=FAILBACK_WATCH_INTERVALS * interval),
           lambda routing: failover.no_automatic_failback(routing, FAILBACK_MIN_INTERVALS * interval))


@when("the primary region is restored by the manual failback runbook")
def manual_failback(drill: Drill, safety: Any, environment: Environment) -> None:
    if not drill.targets.failback_url:
        pytest.fail(f"ERROR: {drill.targets.source}: regions.failback_url is not set — no failback hook to run the "
                    "runbook's switch-back", pytrace=False)
    _run_failback(drill, safety, environment, reason="failover drill: manual failback runbook")
    drill.failed_back = True


def _run_failback(drill: Drill, safety: Any, environment: Environment, *, reason: str) -> None:
    assert drill.targets.failback_url
    # The runbook resynchronises a database: allow it up to the RTO, within the probe's bound.
    timeouts = environment.timeouts.model_copy(update={"read_s": min(600.0, max(environment.timeouts.read_s,
                                                                                 environment.recovery.rto_s))})
    hook = HttpProbe(drill.targets.failback_url, timeouts, verify_tls=environment.http.verify_tls)
    try:
        region_actions.fail_back(safety, hook, reason=reason)
    finally:
        hook.close()


@given("replication to the standby region's database is paused")
def standby_lags(drill: Drill, safety: Any) -> None:
    if not drill.targets.standby_database_url:
        pytest.fail(f"ERROR: {drill.targets.source}: regions.standby_database_url is not set — no standby database "
                    "to pause", pytrace=False)
    region_actions.pause_standby_replication(safety, drill.targets.standby_database_url)
    drill.measured["planted_fault"] = "standby replication paused"


@then(parsers.parse("the data-loss check fails against an RPO of {rpo_s:g} seconds"))
def rpo_fails(drill: Drill, rpo_s: float) -> None:
    verdict = measure_and_judge(f"data lost in the failover within the RPO ({rpo_s:g} s)", lambda: _loss(drill),
                                lambda loss: failover.data_loss_within_rpo(loss, rpo_s), UNAVAILABLE)
    drill.verdicts["rpo"] = verdict
    expect(post_deploy.shows_status(verdict, Status.FAIL,
                                    criterion="a lagging standby fails the §9.1 RPO in a failover drill"))


@then("the global endpoint serves orders from the primary region again")
def served_from_primary(drill: Drill) -> None:
    _judge(drill, "failback", "the global endpoint serves from the primary region after the manual failback",
           lambda: probe.lands_in(drill.writer, "primary", drill.primary), failover.serves_from_primary)


@then("the audit trail holds a passed failover drill within the environment's maximum drill age")
def drill_recent(environment: Environment, pytestconfig: pytest.Config, gate_clock: Callable[[], dt.datetime],
                 safety: Any) -> None:
    """Only where the environment names a global endpoint in front of two regions.

    Reads the audit trail and the drills this run recorded before (a run that drills first
    and checks after appends that very record to the trail when it ends).
    """
    if not _field(getattr(environment, "regions", None), "global_url"):
        pytest.skip(f"{environment.source_file or environment.name}: regions.global_url is not set — "
                    "no two regions whose drills to check")
    max_age = float(getattr(environment.recovery, "drill_max_age_days", GUIDE_DRILL_MAX_AGE_DAYS))
    configured = str(pytestconfig.getoption("goldgate_audit_log") or "")  # '' = this run keeps no trail
    gate(f"a passed failover drill within the last {max_age:g} days",
         lambda: probe.drill_history(Path(configured) if configured else None, getattr(safety, "actions", ())),
         lambda drills: failover.drills_recent(drills, gate_clock(), max_age, configured or "this run"))
