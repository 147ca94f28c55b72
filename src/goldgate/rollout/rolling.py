"""Rolling update (guide §2.3): pod by pod, quorum always kept, rolled back on failure.

The Deployment controller does the rolling; goldgate watches it and holds it to the
guide's promises:

* **Availability** — at every poll at least ``replicas - maxUnavailable`` pods are Ready
  (the quorum): :class:`QuorumTracker`.
* **Health checks** — a new pod must pass readiness before an old one goes: each old pod
  that leaves is matched against a new pod that is already Ready.
* **Rollback** — a new pod that crashes, restarts or cannot start (a failed health
  check), or a rollout that stops making progress (``ProgressDeadlineExceeded`` or the
  environment's ``rollout_timeout_s``), triggers ``rollout undo``; after a complete
  rollout the release is monitored for the environment's window with every §6.1 trigger.

What the polls saw is judged by :func:`goldgate.criteria.rollout.quorum_kept` and
:func:`~goldgate.criteria.rollout.pod_by_pod`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from goldgate.actions import kubernetes as actions
from goldgate.criteria import rollout as rollout_criteria
from goldgate.criteria.rollout import ORDER, QUORUM
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.probes.metrics import Selector
from goldgate.probes.workloads import (
    DeploymentStatus,
    PodFact,
    deployment_status,
    pod_facts,
    replicaset_hashes,
)
from goldgate.rollout.base import (
    Release,
    RolloutContext,
    RolloutReport,
    monitor_phase,
    own_pods,
    wait_for_pods,
)
from goldgate.rollout.monitor import Group, Outcome, PollHistory, RollbackMonitor
from goldgate.rollout.sources import GrowingWindow
from goldgate.rollout.trading_halt import halt_before_rollback
from goldgate.rollout.trading_monitor import trading_monitor
from goldgate.verdict import Evidence, Verdict

__all__ = ["ORDER", "QUORUM", "QuorumTracker", "rolling_update", "undo_and_verify"]


@dataclass
class QuorumTracker:
    """Ready pods and replacement order across the polls of one rollout."""

    quorum: int
    old_hashes: set[str]
    max_unavailable: int
    min_ready: int | None = None
    polls: int = 0
    old_gone: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    samples: list[tuple[int, int, int]] = field(default_factory=list)
    _old_seen: set[str] = field(default_factory=set)

    def observe(self, pods: list[PodFact]) -> None:
        live = [p for p in pods if not p.deleting]
        ready = sum(1 for p in live if p.ready)
        old_live = {p.name for p in live if p.template_hash in self.old_hashes}
        new_ready = sum(1 for p in live if p.ready and p.template_hash not in self.old_hashes)
        self._old_seen |= {p.name for p in live if p.template_hash in self.old_hashes}
        gone_now = self._old_seen - old_live
        for name in sorted(gone_now - self.old_gone):
            # with maxUnavailable=0 every old pod that goes needs one more Ready new pod
            allowed = new_ready + self.max_unavailable
            if len(gone_now) > allowed:
                self.violations.append(
                    f"{name} went while only {new_ready} new pods were Ready "
                    f"({len(gone_now)} old pods gone, maxUnavailable {self.max_unavailable})")
        self.old_gone = gone_now
        self.polls += 1
        self.min_ready = ready if self.min_ready is None else min(self.min_ready, ready)
        self.samples.append((ready, len(old_live), new_ready))

    def verdicts(self, window_s: float | None) -> list[Verdict]:
        ev = Evidence("kubernetes", "pods of the deployment, polled", window_s, self.polls,
                      {"min_ready": self.min_ready, "quorum": self.quorum,
                       "ready_old_new_per_poll": self.samples[-200:]})
        out = [rollout_criteria.quorum_kept(self.min_ready, self.quorum, polls=self.polls, evidence=ev)]
        if self.violations or self.polls:
            out.append(rollout_criteria.pod_by_pod(self.violations, polls=self.polls, old_gone=len(self.old_gone),
                                                   evidence=ev))
        return out




def undo_and_verify(ctx: RolloutContext, report: RolloutReport, reason: str, *, trigger: Verdict | None) -> None:
    """``rollout undo`` then wait until the previous revision is complete and Ready."""
    report.trigger = trigger
    report.reason = reason
    report.note(f"rolling back: {reason}", ctx.log)
    result = actions.rollout_undo(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, reason=reason)
    report.actions.append(result)
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas,
                           deadline_s=ctx.env.strategy.rollout_timeout_s, complete=True, fail_fast=False)
    report.outcome = "rolled back" if waited.ok else "rollback failed"
    report.note(f"rollback {'complete' if waited.ok else 'FAILED'}: {waited.reason} "
                f"(revision {result.details.get('to_revision')})", ctx.log)


def rolling_update(ctx: RolloutContext, release: Release, *, baseline_p95_s: float | None = None,
                   monitor_s: float | None = None, change_cause: str | None = None) -> RolloutReport:
    """Roll ``release`` out through the Deployment's RollingUpdate, watched and monitored."""
    s = ctx.env.strategy
    report = RolloutReport("rolling update", release.describe())
    before = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    selector = own_pods(before.selector)
    # Pods still terminating from an earlier rollout may carry the new template's hash.
    live = [p for p in pod_facts(ctx.kube, ctx.namespace, selector) if not p.deleting]
    tracker = QuorumTracker(before.quorum, {p.template_hash for p in live}, before.max_unavailable)
    restarts0 = {p.name: p.restarts for p in live}
    report.note(f"revision {before.revision} ({', '.join(before.images)}) -> {release.describe()}", ctx.log)
    report.actions.append(actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment,
                                          ctx.env.kubernetes.container, image=release.image, env=release.env,
                                          memory_limit=release.memory_limit, change_cause=change_cause))

    # The previous version's p95 while it still serves: the stored baseline of the 2x rule.
    old_hashes = sorted({p.template_hash for p in live})
    baseline = None
    history = None
    if len(old_hashes) == 1:
        # The previous version's per-poll error counts while it still serves: how bursty its
        # errors are, which the lone error-rate test after the rollout allows for.
        old = Selector({**before.selector, "pod-template-hash": old_hashes[0]}, ctx.namespace)
        history = PollHistory(GrowingWindow(ctx.source, old, ctx.clock), ctx.clock,
                              f"the previous version ({old_hashes[0]}) during the rollout")
        history.record()
        if baseline_p95_s is None:
            baseline = history.window
    last_read = [ctx.clock(), ctx.clock()]

    def _poll(status: DeploymentStatus, pods: list[PodFact]) -> None:
        tracker.observe(pods)
        now = ctx.clock()
        if history is not None and now - last_read[1] >= ctx.env.strategy.evaluation_interval_s:
            history.record()
            last_read[0] = last_read[1] = now
        elif baseline is not None and now - last_read[0] >= 1.0:
            baseline.advance()
            last_read[0] = now

    start = ctx.clock()
    waited = wait_for_pods(ctx, ctx.deployment, selector, before.replicas, deadline_s=s.rollout_timeout_s,
                           restarts0=restarts0, on_poll=_poll, complete=True)
    report.checks.extend(tracker.verdicts(round(ctx.clock() - start, 1)))
    if not waited.ok:
        undo_and_verify(ctx, report, waited.reason, trigger=waited.verdict)
        return report
    report.note(f"rollout complete in {ctx.clock() - start:.1f}s: {waited.reason}", ctx.log)
    if baseline is not None:
        b = baseline.latency_quantile(0.95)
        if b.value is not None and b.samples >= ctx.env.thresholds.min_requests:
            baseline_p95_s = b.value
        report.phases.append({"phase": "previous version baseline", "p95_s": b.value, "requests": b.samples,
                              "used": baseline_p95_s is not None})
    after = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    new_hash = replicaset_hashes(ctx.kube, ctx.namespace, selector).get(after.revision, "")
    labels = {**after.selector, "pod-template-hash": new_hash} if new_hash else dict(after.selector)
    group = Group("release", labels, ctx.namespace)
    # The old ReplicaSet's pods are the stable side while any of them still runs.
    previous = Group("previous", {**before.selector, "pod-template-hash": old_hashes[0]}, ctx.namespace) \
        if len(old_hashes) == 1 and old_hashes[0] != new_hash else None
    trading = trading_monitor(ctx.env, ctx.kube, group, previous, expected_agreement=release.expected_agreement)
    monitor = RollbackMonitor(ctx.env, ctx.kube, ctx.source, group, baseline_p95_s=baseline_p95_s,
                              clock=ctx.clock, history=history, trading=trading)
    window = s.monitoring_window_s if monitor_s is None else monitor_s
    try:
        a = monitor_phase(ctx, monitor, report, window_s=window, deadline_s=2 * window, label="after rollout")
    except KubernetesUnavailable as exc:
        undo_and_verify(ctx, report, f"monitoring failed: {exc}", trigger=None)
        return report
    report.phases.append({"phase": "monitor", "window_s": window, "outcome": a.outcome.value,
                          "notes": monitor.notes,
                          **({"trading": trading.numbers("after rollout")} if trading else {})})
    if a.outcome is Outcome.ROLLBACK:
        halt_before_rollback(ctx, report, trading, a.breaches)
        undo_and_verify(ctx, report, a.reason(), trigger=a.breaches[0])
    elif a.outcome is Outcome.HOLD:
        undo_and_verify(ctx, report, f"still undecided at the deadline: {a.reason()}",
                        trigger=a.undecided[0])
    else:
        report.outcome = "promoted"
        report.reason = a.reason()
        report.note("release kept: every rollback trigger passed over the window", ctx.log)
    return report
