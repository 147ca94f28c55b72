"""The supply-chain criteria (guide §5.1-5.3, §9.1-9.2): each sees FAIL with the value and the
threshold, and PASS on healthy evidence."""

from __future__ import annotations

from goldgate.criteria import supply
from goldgate.verdict import Status

DIGEST = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
COMMIT, MOVED = "a" * 40, "b" * 40
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "trading-bot", "labels": {"app": "trading-bot"}},
    "spec": {"replicas": 3, "template": {"spec": {"containers": [
        {"name": "trading-bot", "image": "trading-bot:v1.2.0", "ports": [{"containerPort": 8080}],
         "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}}}]}}},
}


def _live(**changes: object) -> dict:
    live = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "trading-bot", "labels": {"app": "trading-bot"}, "uid": "x", "generation": 4,
                     "annotations": {"deployment.kubernetes.io/revision": "4"}},
        "spec": {"replicas": 3, "progressDeadlineSeconds": 600, "template": {"spec": {"containers": [
            {"name": "trading-bot", "image": "trading-bot:v1.2.0", "imagePullPolicy": "IfNotPresent",
             "ports": [{"containerPort": 8080, "protocol": "TCP"}],
             "env": [{"name": "FAULT_ERROR_RATE", "value": "0"}],
             "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}},
        "status": {"replicas": 3},
    }
    live["spec"].update(changes)
    return live


def test_image_present_at_the_running_digest_passes() -> None:
    v = supply.image_in_registry("trading-bot:v1.2.0", "http://reg", DIGEST,
                                 {"p1": f"trading-bot@{DIGEST}", "p2": f"docker.io/library/trading-bot@{DIGEST}"})
    assert v.status is Status.PASS and "all 2 running pods" in v.message()


def test_missing_tag_fails_naming_image_and_tag() -> None:
    v = supply.image_in_registry("trading-bot:v1.2.0", "http://reg", None, {"p1": f"trading-bot@{DIGEST}"})
    assert v.status is Status.FAIL
    assert "holds no trading-bot:v1.2.0" in v.message() and "trading-bot:v1.2.0 in the registry" in v.message()


def test_digest_mismatch_fails_with_both_digests() -> None:
    v = supply.image_in_registry("trading-bot:v1.2.0", "http://reg", DIGEST,
                                 {"p1": f"trading-bot@{DIGEST}", "p2": f"trading-bot@{OTHER}"})
    assert v.status is Status.FAIL
    assert OTHER in v.message() and DIGEST in v.message() and "1 of 2 pods" in v.message()


def test_git_tag_on_the_release_commit_passes() -> None:
    assert supply.git_tag_at_release("v1.2.0", COMMIT, COMMIT, "/repo", "image").status is Status.PASS


def test_git_tag_on_another_commit_fails_with_both_commits() -> None:
    v = supply.git_tag_at_release("v1.2.0", MOVED, COMMIT, "/repo", "image trading-bot:v1.2.0")
    assert v.status is Status.FAIL
    assert f"observed {MOVED}" in v.message() and COMMIT in v.message() and "points at bbbbbbbbbbbb" in v.message()


def test_missing_git_tag_fails() -> None:
    v = supply.git_tag_at_release("v1.2.0", None, COMMIT, "/repo", "image")
    assert v.status is Status.FAIL and "has no tag v1.2.0" in v.message()


def test_live_objects_equal_to_git_pass_despite_defaults_and_spelling() -> None:
    v = supply.config_matches_git("v1.2.0", "/repo", [("Deployment/trading-bot", DEPLOYMENT, _live())])
    assert v.status is Status.PASS, v.message()


def test_a_live_edit_fails_naming_the_field_and_both_values() -> None:
    live = _live(replicas=5)
    v = supply.config_matches_git("v1.2.0", "/repo", [("Deployment/trading/trading-bot", DEPLOYMENT, live)])
    assert v.status is Status.FAIL
    assert "Deployment/trading/trading-bot spec.replicas: Git 3, live 5" in v.message()
    assert "observed 1 fields differ" in v.message() and "0 fields differ from v1.2.0" in v.message()


def test_a_live_resource_edit_inside_a_named_list_is_found() -> None:
    live = _live()
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi"
    v = supply.config_matches_git("v1.2.0", "/repo", [("Deployment/trading-bot", DEPLOYMENT, live)])
    assert v.status is Status.FAIL
    assert "containers[name=trading-bot].resources.limits.memory: Git '1Gi', live '2Gi'" in v.message()


def test_an_object_gone_from_the_cluster_fails() -> None:
    v = supply.config_matches_git("v1.2.0", "/repo", [("Deployment/trading-bot", DEPLOYMENT, None)])
    assert v.status is Status.FAIL and "not found in the cluster" in v.message()
