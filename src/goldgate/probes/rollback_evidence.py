"""What an SRE reads around a rollback (guide §6.2): ``kubectl rollout history`` and the
last lines of the pods' logs (``kubectl logs -l app=trading-bot --tail=100``).

Read-only, through the same API kubectl uses: the history is the Deployment's ReplicaSets
by revision with their ``kubernetes.io/change-cause`` and images; the logs are each pod's
``pods/log`` with ``tailLines``. Facts only: the rollback's verdicts attach them as evidence.

Examples::

    rows = rollout_history(kube, "trading", "app=trading-bot")
    tails = log_tails(kube, "trading", ["trading-bot-5d9c7-abcde"], "trading-bot", lines=100)
"""

from __future__ import annotations

from dataclasses import dataclass

from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable, call

__all__ = ["HistoryRow", "log_tails", "render_history", "rollout_history"]

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


@dataclass(frozen=True)
class HistoryRow:
    revision: int
    change_cause: str
    images: tuple[str, ...]
    replicas: int


def rollout_history(kube: KubeClients, namespace: str, label_selector: str) -> list[HistoryRow]:
    """The revisions behind a Deployment's selector, oldest first (``kubectl rollout history``)."""
    items = call(kube, f"list replicasets {namespace} {label_selector}", kube.apps.list_namespaced_replica_set,
                 namespace, label_selector=label_selector).items
    rows = []
    for rs in items:
        notes = rs.metadata.annotations or {}
        try:
            revision = int(notes.get(REVISION, "0") or 0)
        except ValueError:
            revision = 0
        containers = rs.spec.template.spec.containers if rs.spec and rs.spec.template else []
        rows.append(HistoryRow(revision, str(notes.get(CHANGE_CAUSE, "") or ""),
                               tuple(c.image for c in containers), int(rs.spec.replicas or 0)))
    return sorted(rows, key=lambda r: r.revision)


def render_history(deployment: str, rows: list[HistoryRow]) -> str:
    """The rows as ``kubectl rollout history`` prints them."""
    lines = [f"deployment.apps/{deployment}", "REVISION  CHANGE-CAUSE"]
    lines += [f"{r.revision:<9} {r.change_cause or '<none>'}" for r in rows]
    return "\n".join(lines)


def log_tails(kube: KubeClients, namespace: str, pods: list[str], container: str, *,
              lines: int = 100) -> dict[str, str]:
    """Each pod's last ``lines`` log lines; a pod whose log cannot be read says why instead."""
    out: dict[str, str] = {}
    for pod in pods:
        try:
            out[pod] = str(call(kube, f"read log {namespace}/{pod}", kube.core.read_namespaced_pod_log, pod,
                                namespace, container=container, tail_lines=lines) or "")
        except KubernetesUnavailable as exc:
            out[pod] = f"(log not readable: {exc})"
    return out
