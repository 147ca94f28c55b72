"""Manifest arithmetic behind the actions: rollout undo's revision choice, companions, splits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.actions.manifests import (
    RevisionNotFound,
    canary_split,
    companion_deployment,
    container_patch,
    preview_service,
    previous_revision,
)

DEPLOY = {
    "metadata": {"name": "trading-bot", "namespace": "trading", "uid": "d-1", "labels": {"app": "trading-bot"},
                 "annotations": {"deployment.kubernetes.io/revision": "3"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "trading-bot"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": {"app": "trading-bot"}},
                     "spec": {"containers": [{"name": "trading-bot", "image": "trading-bot:v1.2.0",
                                              "env": [{"name": "A", "value": "1"}]}]}},
    },
}


def _rs(revision: int, image: str, owner: str = "d-1") -> dict:
    return {
        "metadata": {"name": f"trading-bot-{revision}", "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                     "ownerReferences": [{"kind": "Deployment", "name": "trading-bot", "uid": owner, "controller": True}]},
        "spec": {"template": {"metadata": {"labels": {"app": "trading-bot", "pod-template-hash": f"h{revision}"}},
                              "spec": {"containers": [{"name": "trading-bot", "image": image}]}}},
    }


def test_undo_picks_the_highest_revision_below_the_current_one() -> None:
    rs = [_rs(1, "trading-bot:v1.0.0"), _rs(2, "trading-bot:v1.1.0"), _rs(3, "trading-bot:v1.2.0")]
    revision, template = previous_revision(DEPLOY, rs)
    assert revision == 2
    assert template["spec"]["containers"][0]["image"] == "trading-bot:v1.1.0"
    assert "pod-template-hash" not in template["metadata"]["labels"]  # the controller adds it


def test_undo_to_a_named_revision_and_ignores_foreign_replicasets() -> None:
    rs = [_rs(1, "trading-bot:v1.0.0"), _rs(2, "other:v9", owner="someone-else"), _rs(3, "trading-bot:v1.2.0")]
    assert previous_revision(DEPLOY, rs)[0] == 1
    assert previous_revision(DEPLOY, rs, to_revision=1)[1]["spec"]["containers"][0]["image"] == "trading-bot:v1.0.0"


def test_undo_without_history_says_which_revisions_exist() -> None:
    with pytest.raises(RevisionNotFound, match=r"no a revision before 3 \(revisions on record: \[3\]\)"):
        previous_revision(DEPLOY, [_rs(3, "trading-bot:v1.2.0")])


def test_companion_adds_one_label_to_pods_and_selector_and_keeps_the_template() -> None:
    green = companion_deployment(DEPLOY, "trading-bot-green", ("slot", "green"), replicas=3,
                                 image="trading-bot:v1.3.0", container="trading-bot", env={"B": "2"})
    assert green["spec"]["selector"]["matchLabels"] == {"app": "trading-bot", "slot": "green"}
    assert green["spec"]["template"]["metadata"]["labels"] == {"app": "trading-bot", "slot": "green"}
    container = green["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "trading-bot:v1.3.0"
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert green["spec"]["strategy"] == DEPLOY["spec"]["strategy"]
    assert DEPLOY["spec"]["template"]["metadata"]["labels"] == {"app": "trading-bot"}  # source untouched


def test_container_patch_is_one_revision_with_image_env_and_limit() -> None:
    patch = container_patch("trading-bot", image="trading-bot:v1.3.0", env={"FAULT_ERROR_RATE": "0.03"},
                            memory_limit="256Mi")
    c = patch["spec"]["template"]["spec"]["containers"][0]
    assert c == {"name": "trading-bot", "image": "trading-bot:v1.3.0",
                 "env": [{"name": "FAULT_ERROR_RATE", "value": "0.03"}],
                 "resources": {"limits": {"memory": "256Mi"}}}


def test_preview_service_copies_ports_and_selects_only_green() -> None:
    svc = {"metadata": {"name": "trading-bot", "namespace": "trading", "labels": {"app": "trading-bot"}},
           "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1", "selector": {"app": "trading-bot"},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 1}]}}
    preview = preview_service(svc, "trading-bot-preview", {"app": "trading-bot", "slot": "green"})
    assert preview["spec"]["selector"] == {"app": "trading-bot", "slot": "green"}
    assert preview["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    assert "clusterIP" not in preview["spec"]


@pytest.mark.parametrize(("replicas", "weight", "stable", "canary", "effective"), [
    (3, 10, 3, 1, 25.0),
    (3, 50, 3, 3, 50.0),
    (3, 100, 0, 3, 100.0),
    (9, 10, 9, 1, 10.0),
    (10, 50, 10, 10, 50.0),
])
def test_canary_split_by_replica_ratio(replicas: int, weight: int, stable: int, canary: int, effective: float) -> None:
    split = canary_split(replicas, weight)
    assert (split.stable, split.canary) == (stable, canary)
    assert split.effective_weight == pytest.approx(effective)


@given(st.integers(1, 50), st.integers(1, 100))
def test_canary_split_never_starves_either_side(replicas: int, weight: int) -> None:
    split = canary_split(replicas, weight)
    assert split.canary >= 1
    assert split.stable == (0 if weight == 100 else replicas)  # capacity never drops before 100 %
    if weight < 100:
        # the real share is the nearest a replica count can get, never more than one pod away
        ideal = replicas * weight / (100 - weight)
        assert abs(split.canary - ideal) <= max(0.5, 1 - ideal) + 1e-9


def test_canary_split_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="weight"):
        canary_split(3, 0)
    with pytest.raises(ValueError, match="replicas"):
        canary_split(0, 10)
