"""The fast pre-deployment gate the judge runs for Flagger's ``pre-rollout`` and ``confirm-rollout``.

The full pre-deployment checklist (tests, coverage, scans, migrations, approvals) reads the
release's files and runs under pytest in CI (``pytest -m gate``); the judge, running in the
cluster beside the controller, has neither. What it can check in well under a second, with
the same probe and criterion the rollout monitor uses:

* ``pre-rollout`` (canary scaled up, no traffic yet): every pod of the release is Ready, none
  restarted, crash-looping or OOM-killed (guide §6.1 health checks, tolerances from the
  environment). Zero pods is INCONCLUSIVE, never a pass.
* ``confirm-rollout`` (before the canary is scaled up): the same on the version in
  production (the compared group, else the workload's current pods): a rollout does not
  start on an unhealthy production.
"""

from __future__ import annotations

from goldgate.config import Environment
from goldgate.criteria.health import health_checks, pod_tolerances
from goldgate.criteria.measured import probe_failed
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.probes.workloads import pod_facts
from goldgate.rollout.base import as_pod_health
from goldgate.rollout.monitor import Group
from goldgate.verdict import Evidence, Verdict

__all__ = ["PRE_ROLLOUT", "pods_healthy"]

PRE_ROLLOUT = "pre-rollout gate: pods Ready, no restarts (§6.1 health checks)"


def pods_healthy(env: Environment, kube: KubeClients, group: Group, *, criterion: str = PRE_ROLLOUT) -> Verdict:
    where = Evidence("kubernetes", f"pods {group.namespace} labelSelector={group.label_selector}")
    try:
        pods = [p for p in pod_facts(kube, group.namespace, group.label_selector) if not p.deleting]
    except KubernetesUnavailable as exc:
        return probe_failed(criterion, str(exc), evidence=where, rollback=True)
    tol = pod_tolerances(env.thresholds)
    ev = Evidence("kubernetes", where.query, None, len(pods))
    return health_checks([as_pod_health(p, {}) for p in pods], max_restarts=tol.max_restarts, max_probe_failures=0,
                         max_unhealthy_pods=0, window_s=None, criterion=criterion, evidence=(ev,))
