"""§6.2's rollback evidence read as kubectl reads it: ``kubectl rollout history`` and
``kubectl logs --tail`` against the in-process API server, side by side with the probe.

ReplicaSets owned by the Deployment are written as the Deployment controller writes them
(revision and change-cause annotations, an owner reference), so kubectl itself finds them;
the probe must list the same revisions and change-causes in the same order, and the same
last log lines.
"""

from __future__ import annotations

import pytest

from goldgate.config import KubernetesTarget
from goldgate.probes.kubernetes import connect
from goldgate.probes.rollback_evidence import log_tails, render_history, rollout_history
from tests.sandbox.conftest import ApiHarness, make_pod

LABELS = {"app": "trading-bot"}


def _deployment() -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "trading-bot", "namespace": "trading", "labels": LABELS},
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS},
                     "template": {"metadata": {"labels": LABELS},
                                  "spec": {"containers": [{"name": "app", "image": "trading-bot:v1.2.0"}]}}}}


def _replicaset(owner: dict, revision: int, image: str, cause: str | None, replicas: int) -> dict:
    labels = {**LABELS, "pod-template-hash": f"h{revision}"}
    notes = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        notes["kubernetes.io/change-cause"] = cause
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"trading-bot-h{revision}", "namespace": "trading", "labels": labels,
                         "annotations": notes,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "trading-bot",
                                              "uid": owner["metadata"]["uid"], "controller": True}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


@pytest.fixture
def clients(api: ApiHarness):
    clients = connect(KubernetesTarget(namespace="trading"), str(api.kubeconfig))
    try:
        yield clients
    finally:
        clients.close()


def test_history_matches_kubectl_rollout_history(api: ApiHarness, clients) -> None:
    owner = api.create("deployments", _deployment())
    # Created out of order: the history is by revision, as kubectl prints it.
    api.create("replicasets", _replicaset(owner, 3, "trading-bot:v1.2.0", "deploy v1.2.0 (CHG-7)", 1))
    api.create("replicasets", _replicaset(owner, 1, "trading-bot:v1.0.0", None, 0))
    api.create("replicasets", _replicaset(owner, 2, "trading-bot:v1.1.0", "deploy v1.1.0", 0))

    rows = rollout_history(clients, "trading", "app=trading-bot")
    printed = api.kubectl("rollout", "history", "deployment/trading-bot", check=True).stdout

    kubectl_rows = [line.split(None, 1) for line in printed.splitlines()[2:] if line.strip()]
    assert [(int(r[0]), r[1].strip() if len(r) > 1 else "") for r in kubectl_rows] == [
        (r.revision, r.change_cause or "<none>") for r in rows]
    assert [r.images for r in rows] == [("trading-bot:v1.0.0",), ("trading-bot:v1.1.0",), ("trading-bot:v1.2.0",)]
    assert [r.replicas for r in rows] == [0, 0, 1]
    rendered = render_history("trading-bot", rows)
    assert rendered.splitlines()[0] == "deployment.apps/trading-bot"
    assert [line.split(None, 1)[0] for line in rendered.splitlines()[2:]] == ["1", "2", "3"]


def test_a_replicaset_without_a_revision_sorts_first_and_an_empty_selector_reads_nothing(api: ApiHarness,
                                                                                      clients) -> None:
    owner = api.create("deployments", _deployment())
    bare = _replicaset(owner, 4, "trading-bot:v1.2.0", None, 1)
    bare["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "not-a-number"}
    api.create("replicasets", bare)
    rows = rollout_history(clients, "trading", "app=trading-bot")
    assert [(r.revision, r.change_cause) for r in rows] == [(0, "")]
    assert rollout_history(clients, "trading", "app=nothing-here") == []


def test_log_tails_match_kubectl_logs_tail(api: ApiHarness, clients) -> None:
    api.create("pods", make_pod("trading-bot-h3-a"))
    api.cluster.log_file("trading", "trading-bot-h3-a", "app").write_text(
        "".join(f"line {i}\n" for i in range(250)))
    tails = log_tails(clients, "trading", ["trading-bot-h3-a", "trading-bot-gone"], "app", lines=100)
    kubectl_tail = api.kubectl("logs", "trading-bot-h3-a", "-c", "app", "--tail=100", check=True).stdout
    assert tails["trading-bot-h3-a"] == kubectl_tail
    assert tails["trading-bot-h3-a"].splitlines()[0] == "line 150"
    assert tails["trading-bot-h3-a"].splitlines()[-1] == "line 249"
    # A pod whose log cannot be read says so, it is never an empty (clean-looking) log.
    assert tails["trading-bot-gone"].startswith("(log not readable:")
