"""Blue-green deployment (guide §2.1), step by step, with automatic switch back to blue.

1. *Deploy to green*: ``<deployment>-green`` beside production (blue), pods labelled
   ``slot=green``; the Service is first pinned to blue's pods (its ``pod-template-hash``)
   so green receives no user traffic.
2. *Smoke tests on green*: through a preview Service (``<service>-preview``) that selects
   green only — nothing reaches blue, no user reaches green.
3. *Route traffic to green*: the Service selector switches to ``slot=green``.
4. *Monitor green* for ``strategy.monitoring_window_s`` (guide: 2+ hours) with every §6.1
   trigger; p95 is compared with blue's p95 measured before the switch.
5. *Blue becomes backup*: blue keeps its replicas, Ready, the whole time.
6. *Automatic rollback to blue*: any trigger FAILs (or the window ends undecided) → the
   selector switches back to blue at once; green and the preview are removed.

After a clean window the blue Deployment takes green's version (one rolling update behind
the green-pinned Service), the Service selector is restored, and green is removed, so the
environment ends in its usual shape with the new version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from goldgate.actions import kubernetes as actions
from goldgate.actions.manifests import companion_deployment, preview_service
from goldgate.criteria import rollout as rollout_criteria
from goldgate.criteria.rollout import BLUE_BACKUP
from goldgate.probes.kubernetes import KubernetesUnavailable, call, service_url
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
from goldgate.rollout.monitor import Group, Outcome, PollHistory, RollbackMonitor
from goldgate.rollout.sources import GrowingWindow
from goldgate.rollout.trading_halt import halt_before_rollback
from goldgate.rollout.trading_monitor import trading_monitor
from goldgate.verdict import Evidence, Status, Verdict

__all__ = ["BLUE_BACKUP", "blue_green"]

SMOKE = "smoke tests on green (§2.1 step 2)"

Smoke = Callable[[str], list[Verdict]]


def _wait_url(ctx: RolloutContext, service: str, timeout_s: float = 30.0) -> str:
    start = ctx.clock()
    while True:
        try:
            return service_url(ctx.kube, ctx.namespace, service)
        except KubernetesUnavailable:
            if ctx.clock() - start > timeout_s:
                raise
            ctx.sleep(ctx.poll_s)


def _switch_back(ctx: RolloutContext, report: RolloutReport, *, switched: bool, blue_pin: Mapping[str, str],
                 original: Mapping[str, str], green: str, preview: str, replicas: int, blue_sel: str,
                 reason: str, trigger: Verdict | None) -> None:
    report.trigger = trigger
    report.reason = reason
    report.note(f"rolling back to blue: {reason}", ctx.log)
    if switched:
        report.actions.append(actions.switch_selector(ctx.kube, ctx.safety, ctx.namespace, ctx.env.kubernetes.service,
                                                      blue_pin, reason=f"automatic rollback to blue: {reason}"))
    for removed in (actions.delete_service(ctx.kube, ctx.safety, ctx.namespace, preview, reason="blue-green rollback"),
                    actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, green, reason="blue-green rollback")):
        if removed is not None:
            report.actions.append(removed)
    wait_pods_gone(ctx, "slot=green")
    report.actions.append(actions.switch_selector(ctx.kube, ctx.safety, ctx.namespace, ctx.env.kubernetes.service,
                                                  original, reason="restore the Service selector"))
    waited = wait_for_pods(ctx, ctx.deployment, blue_sel, replicas, deadline_s=ctx.env.strategy.rollout_timeout_s,
                           complete=True, fail_fast=False)
    report.outcome = "rolled back" if waited.ok else "rollback failed"
    report.note(f"blue serving again: {waited.reason}", ctx.log)


def _blue_backup(ctx: RolloutContext, blue_sel: str, replicas: int) -> Verdict:
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    ev = Evidence("kubernetes", f"deployment/{ctx.deployment} {blue_sel}", None, None,
                  {"ready": status.ready_replicas, "replicas": status.replicas, "revision": status.revision})
    return rollout_criteria.blue_backup(status.ready_replicas, replicas, evidence=ev)


def blue_green(ctx: RolloutContext, release: Release, smoke: Smoke, *,
               change_cause: str | None = None) -> RolloutReport:
    s = ctx.env.strategy
    report = RolloutReport("blue-green", release.describe())
    service = ctx.env.kubernetes.service
    green, preview = f"{ctx.deployment}-green", f"{service}-preview"
    blue = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    replicas = blue.replicas
    blue_sel = own_pods(blue.selector)
    svc = ctx.kube.api_client.sanitize_for_serialization(
        call(ctx.kube, f"read service {ctx.namespace}/{service}", ctx.kube.core.read_namespaced_service,
             service, ctx.namespace))
    original = dict(svc["spec"].get("selector") or {})
    blue_hash = replicaset_hashes(ctx.kube, ctx.namespace, blue_sel).get(blue.revision, "")
    blue_group = Group("blue", {**blue.selector, "pod-template-hash": blue_hash}, ctx.namespace)
    green_group = Group("green", {**blue.selector, "slot": "green"}, ctx.namespace)
    with contextlib.suppress(Exception):
        for leftover in (actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, green, reason="leftover green"),
                         actions.delete_service(ctx.kube, ctx.safety, ctx.namespace, preview, reason="leftover")):
            if leftover is not None:
                report.actions.append(leftover)
        wait_pods_gone(ctx, green_group.label_selector)
    # Blue's per-poll error counts while it serves alone: how bursty its errors are, which the
    # lone error-rate test of green after the switch allows for (nothing serves beside green then).
    history = PollHistory(GrowingWindow(ctx.source, blue_group.selector, ctx.clock), ctx.clock,
                          "blue before the switch")
    history.record()
    baseline = history.window
    blue_pin = {**original, "pod-template-hash": blue_hash}
    report.note(f"blue: revision {blue.revision} ({', '.join(blue.images)}); green: {release.describe()}", ctx.log)
    report.actions.append(actions.switch_selector(ctx.kube, ctx.safety, ctx.namespace, service, blue_pin,
                                                  reason="pin user traffic to blue while green deploys"))

    def back(reason: str, trigger: Verdict | None, switched: bool = False) -> RolloutReport:
        _switch_back(ctx, report, switched=switched, blue_pin=blue_pin, original=original, green=green,
                     preview=preview, replicas=replicas, blue_sel=blue_sel, reason=reason, trigger=trigger)
        return report

    # 1. deploy to green
    deploy = ctx.kube.api_client.sanitize_for_serialization(
        call(ctx.kube, "read deployment", ctx.kube.apps.read_namespaced_deployment, ctx.deployment, ctx.namespace))
    manifest = companion_deployment(deploy, green, ("slot", "green"), replicas=replicas, image=release.image,
                                    container=ctx.env.kubernetes.container, env=release.env)
    if release.memory_limit:
        for c in manifest["spec"]["template"]["spec"]["containers"]:
            if c["name"] == ctx.env.kubernetes.container:
                c.setdefault("resources", {}).setdefault("limits", {})["memory"] = release.memory_limit
    report.actions.append(actions.create_deployment(ctx.kube, ctx.safety, ctx.namespace, manifest))
    last = [ctx.clock()]

    def _read_blue(*_: object) -> None:
        if ctx.clock() - last[0] >= s.evaluation_interval_s:
            history.record()
            last[0] = ctx.clock()

    waited = wait_for_pods(ctx, green, green_group.label_selector, replicas, deadline_s=s.rollout_timeout_s,
                           on_poll=_read_blue)
    if not waited.ok:
        return back(f"green did not become Ready: {waited.reason}", waited.verdict)
    report.note(f"green Ready: {waited.reason}", ctx.log)
    # 2. smoke tests on green only
    report.actions.append(actions.create_service(ctx.kube, ctx.safety, ctx.namespace,
                                                 preview_service(svc, preview, green_group.labels)))
    url = _wait_url(ctx, preview)
    checks = smoke(url)
    report.checks.extend(checks)
    bad = [v for v in checks if v.status is not Status.PASS]
    report.phases.append({"phase": "smoke on green", "url": url,
                          "verdicts": {v.criterion: v.status.value for v in checks}})
    if bad or not checks:
        trigger = bad[0] if bad else None
        return back(f"smoke tests on green failed: {trigger.message() if trigger else 'no checks ran'}", trigger)
    report.note(f"smoke tests on green passed ({len(checks)} checks via {url})", ctx.log)
    # 3. route traffic to green
    history.record()
    b = baseline.latency_quantile(0.95)
    baseline_p95 = b.value if b.value is not None and b.samples >= ctx.env.thresholds.min_requests else None
    report.phases.append({"phase": "blue baseline", "p95_s": b.value, "requests": b.samples})
    report.actions.append(actions.switch_selector(ctx.kube, ctx.safety, ctx.namespace, service, green_group.labels,
                                                  reason="route traffic to green"))
    # 4. monitor green, blue as backup
    # Blue keeps running as the backup through the switch window: green's trading is held against it.
    trading = trading_monitor(ctx.env, ctx.kube, green_group, blue_group,
                              expected_agreement=release.expected_agreement)
    monitor = RollbackMonitor(ctx.env, ctx.kube, ctx.source, green_group, baseline_p95_s=baseline_p95,
                              clock=ctx.clock, history=history, trading=trading)
    window = s.monitoring_window_s
    a = monitor_phase(ctx, monitor, report, window_s=window, deadline_s=2 * window, label="green live")
    report.checks.append(_blue_backup(ctx, blue_sel, replicas))
    report.phases.append({"phase": "monitor green", "outcome": a.outcome.value, "elapsed_s": a.elapsed_s,
                          "notes": monitor.notes,
                          **({"trading": trading.numbers("green live (blue as stable)")} if trading else {})})
    if a.outcome is Outcome.ROLLBACK:
        halt_before_rollback(ctx, report, trading, a.breaches)
        return back(a.reason(), a.breaches[0], switched=True)
    if a.outcome is Outcome.HOLD:
        return back(f"green still undecided at the deadline: {a.reason()}", a.undecided[0], switched=True)
    # promotion: blue takes green's version, then the Service goes back to its own selector
    report.note("green passed its window: blue takes green's version", ctx.log)
    report.actions.append(actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment,
                                          ctx.env.kubernetes.container, image=release.image, env=release.env,
                                          memory_limit=release.memory_limit, change_cause=change_cause))
    done = wait_for_pods(ctx, ctx.deployment, blue_sel, replicas, deadline_s=s.rollout_timeout_s,
                         complete=True)
    if not done.ok:
        report.outcome = "promotion failed"
        report.reason = f"green serves; updating blue failed: {done.reason}"
        report.trigger = done.verdict
        return report
    report.actions.append(actions.switch_selector(ctx.kube, ctx.safety, ctx.namespace, service, original,
                                                  reason="promotion: restore the Service selector"))
    for removed in (actions.delete_service(ctx.kube, ctx.safety, ctx.namespace, preview, reason="promoted"),
                    actions.delete_deployment(ctx.kube, ctx.safety, ctx.namespace, green, reason="promoted")):
        if removed is not None:
            report.actions.append(removed)
    report.outcome = "promoted"
    report.reason = "green passed smoke tests and every rollback trigger over its window"
    report.note("promoted", ctx.log)
    return report
