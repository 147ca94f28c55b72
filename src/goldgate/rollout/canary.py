"""Canary deployment (guide §2.2): 10 % → 50 % → 100 %, each phase monitored, automatic rollback.

The canary is a second Deployment (``<deployment>-canary``, pods labelled
``track=canary``). Its share of traffic is set by the environment's router
(:mod:`goldgate.rollout.routers`): the weights of a Gateway API HTTPRoute or NGINX Ingress
canary annotations when ``strategy.router`` names one — the stable Service then selects
only the stable pods' hash while the canary runs — else the replica ratio behind the one
Service, which every phase reports as the fallback it is. Per phase (weights and
durations from the environment):

* set the weight (canary pods started first; the weight or the stable side's shrinking
  changes only once the canary pods are Ready);
* monitor the canary for ``canary_phase_s`` with every §6.1 trigger, its p95 compared
  with the stable pods' p95 over the same window;
* FAIL of any trigger → roll back at once; PASS at the end of the window → next phase;
  INCONCLUSIVE → hold until ``canary_phase_deadline_s``, then roll back: a canary that
  never proved itself is never promoted.

Promotion after the last phase writes the canary's version into the stable Deployment
(one rolling update) and removes the canary. Rollback first takes the canary's weight to 0
(with a router), restores the stable replicas and removes the canary; the stable revision
never changed, so it is the previous version.
"""

from __future__ import annotations

import contextlib
import time

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionFailed
from goldgate.actions.manifests import companion_deployment
from goldgate.probes.workloads import deployment_status, replicaset_hashes
from goldgate.rollout.base import (
    Release,
    RolloutContext,
    RolloutReport,
    monitor_phase,
    own_pods,
    wait_for_pods,
    wait_pods_gone,
)
from goldgate.rollout.monitor import Group, History, Outcome, RollbackMonitor
from goldgate.rollout.routers import TrafficRouter, UnknownRouter, router_for
from goldgate.rollout.trading_halt import halt_before_rollback
from goldgate.rollout.trading_monitor import trading_monitor
from goldgate.verdict import Verdict

__all__ = ["canary", "phase_deadline"]


def phase_deadline(ctx: RolloutContext) -> float:
    s = ctx.env.strategy
    return s.canary_phase_deadline_s or 2 * s.canary_phase_s




def _rollback(ctx: RolloutContext, report: RolloutReport, name: str, replicas: int, reason: str,
              trigger: Verdict | None, router: TrafficRouter) -> None:
    report.trigger = trigger
    report.reason = reason
    report.note(f"rolling back the canary: {reason}", ctx.log)
    try:  # no request may reach the canary once it starts scaling down
        report.actions.extend(router.withdraw(ctx, f"canary rollback: {reason}"))
    except ActionFailed as exc:
        report.note(f"canary weight not set to 0 ({exc}); removing the canary anyway", ctx.log)
    stable = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    if stable.replicas != replicas:
        report.actions.append(actions.scale(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, replicas,
                                            reason="canary rollback: stable back to full size"))
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(stable.selector), replicas,
                           deadline_s=ctx.env.strategy.rollout_timeout_s, complete=True, fail_fast=False)
    removed = actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, name, reason=f"canary rollback: {reason}")
    if removed is not None:
        report.actions.append(removed)
    wait_pods_gone(ctx, "track=canary")
    report.actions.extend(router.release(ctx, "canary rolled back: the stable Service selects every stable pod again"))
    report.outcome = "rolled back" if waited.ok else "rollback failed"
    report.note(f"canary removed; stable: {waited.reason}", ctx.log)


def canary(ctx: RolloutContext, release: Release, *, change_cause: str | None = None) -> RolloutReport:
    s = ctx.env.strategy
    report = RolloutReport("canary", release.describe())
    try:
        router = router_for(ctx.env)
    except UnknownRouter as exc:
        report.outcome = "not supported"
        report.reason = str(exc)
        return report
    name = f"{ctx.deployment}-canary"
    stable = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    replicas = stable.replicas
    sel = dict(stable.selector)
    stable_hash = replicaset_hashes(ctx.kube, ctx.namespace, own_pods(sel)).get(stable.revision, "")
    stable_group = Group("stable", {**sel, "pod-template-hash": stable_hash}, ctx.namespace)
    canary_group = Group("canary", {**sel, "track": "canary"}, ctx.namespace)
    report.note(f"canary traffic: {router.describe()}", ctx.log)
    try:
        report.actions.extend(router.prepare(ctx, stable_hash))
    except ActionFailed as exc:  # a route or Service that is not there: nothing was shifted yet
        report.outcome = "not supported"
        report.reason = f"cannot route canary traffic by {router.describe()}: {exc}"
        return report
    with contextlib.suppress(Exception):
        leftover = actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, name, reason="leftover canary")
        if leftover is not None:
            report.actions.append(leftover)
            wait_pods_gone(ctx, canary_group.label_selector)
    deploy = ctx.kube.api_client.sanitize_for_serialization(
        ctx.kube.apps.read_namespaced_deployment(ctx.deployment, ctx.namespace, _request_timeout=ctx.kube.timeout))
    manifest = companion_deployment(deploy, name, ("track", "canary"), replicas=0, image=release.image,
                                    container=ctx.env.kubernetes.container, env=release.env)
    if release.memory_limit:
        for c in manifest["spec"]["template"]["spec"]["containers"]:
            if c["name"] == ctx.env.kubernetes.container:
                c.setdefault("resources", {}).setdefault("limits", {})["memory"] = release.memory_limit
    report.note(f"stable revision {stable.revision} ({', '.join(stable.images)}), {replicas} replicas; "
                f"canary {release.describe()}", ctx.log)
    release_started_wall = time.time()
    report.actions.append(actions.create_deployment(ctx.kube, ctx.safety, ctx.namespace, manifest))
    deadline = phase_deadline(ctx)
    baseline_p95: float | None = None
    history: History | None = None  # the stable pods' error counts, for a phase with none beside the canary
    # One trading window for the whole canary: its trading does not depend on its weight.
    trading = trading_monitor(ctx.env, ctx.kube, canary_group, stable_group,
                              expected_agreement=release.expected_agreement)
    for weight in s.canary_weights:
        split = router.split(replicas, weight)
        waited_box: list = []

        def _ready(n: int, _box: list = waited_box) -> bool:
            res = wait_for_pods(ctx, name, canary_group.label_selector, n, deadline_s=s.rollout_timeout_s)
            _box.append(res)
            return res.ok

        report.actions.extend(router.shift(ctx, name, replicas, weight, _ready))
        if waited_box and not waited_box[-1].ok:
            _rollback(ctx, report, name, replicas, f"canary at {weight} %: {waited_box[-1].reason}",
                      waited_box[-1].verdict, router)
            return report
        report.note(f"phase {weight} %: {split.canary_pods} canary / {split.stable_pods} stable pods, "
                    f"{split.mechanism} (effective {split.effective_weight:.0f} % of requests)", ctx.log)
        monitor = RollbackMonitor(ctx.env, ctx.kube, ctx.source, canary_group,
                                  baseline=stable_group if split.stable_serves else None,
                                  baseline_p95_s=None if split.stable_serves else baseline_p95, clock=ctx.clock,
                                  release_started_wall=release_started_wall,
                                  history=None if split.stable_serves else history, trading=trading)
        a = monitor_phase(ctx, monitor, report, window_s=s.canary_phase_s, deadline_s=deadline,
                          label=f"canary {weight} %")
        baseline_p95 = monitor.baseline_p95() or baseline_p95
        history = monitor.stable_history(history)
        report.phases.append({"weight": weight, "canary_pods": split.canary_pods, "stable_pods": split.stable_pods,
                              "effective_weight": round(split.effective_weight, 1), "traffic": split.mechanism,
                              "outcome": a.outcome.value, "elapsed_s": a.elapsed_s,
                              "verdicts": {v.criterion: v.status.value for v in a.verdicts},
                              "notes": monitor.notes,
                              **({"trading": trading.numbers(f"canary {weight} %")} if trading else {})})
        if a.outcome is Outcome.ROLLBACK:
            halt_before_rollback(ctx, report, trading, a.breaches, scale_deployment=name)
            _rollback(ctx, report, name, replicas, a.reason(), a.breaches[0], router)
            return report
        if a.outcome is Outcome.HOLD:
            _rollback(ctx, report, name, replicas,
                      f"phase {weight} % still INCONCLUSIVE at its deadline ({deadline:g}s): {a.reason()}",
                      a.undecided[0], router)
            return report
    _promote(ctx, report, release, name, replicas, change_cause, router)
    return report


def _promote(ctx: RolloutContext, report: RolloutReport, release: Release, name: str, replicas: int,
             change_cause: str | None, router: TrafficRouter) -> None:
    """Every phase passed: the stable Deployment takes the canary's version; canary goes."""
    report.note("every phase passed: promoting the canary", ctx.log)
    report.actions.append(actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment,
                                          ctx.env.kubernetes.container, image=release.image, env=release.env,
                                          memory_limit=release.memory_limit, change_cause=change_cause))
    report.actions.append(actions.scale(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, replicas,
                                        reason="canary promoted"))
    stable = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(stable.selector), replicas,
                           deadline_s=ctx.env.strategy.rollout_timeout_s, complete=True)
    if not waited.ok:
        report.outcome = "promotion failed"
        report.reason = waited.reason
        report.trigger = waited.verdict
        report.note(f"promotion failed: {waited.reason}; the canary stays for inspection", ctx.log)
        return
    # The stable pods run the canary's version now: the stable Service selects them all
    # again and takes every request back before the canary goes.
    report.actions.extend(router.release(ctx, "canary promoted: the stable Service selects every stable pod again"))
    report.actions.extend(router.withdraw(ctx, "canary promoted: the stable Service takes every request again"))
    removed = actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, name, reason="canary promoted")
    if removed is not None:
        report.actions.append(removed)
    wait_pods_gone(ctx, "track=canary")
    report.outcome = "promoted"
    report.reason = "every canary phase passed every rollback trigger"
    report.note(f"promoted: {waited.reason}", ctx.log)
