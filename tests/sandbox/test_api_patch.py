"""The three patch flavours, as kubectl sends them."""

from __future__ import annotations

import pytest

from goldgate.sandbox.apiserver.patch import (
    PatchError,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
)

DEPLOY = {
    "metadata": {"name": "d", "labels": {"app": "x"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "bot",
                        "image": "bot:v1",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    },
                    {"name": "side", "image": "side:v1"},
                ]
            }
        }
    },
}


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    out = json_merge_patch(DEPLOY, {"metadata": {"labels": {"app": None, "tier": "web"}}, "spec": {"replicas": 4}})
    assert out["metadata"]["labels"] == {"tier": "web"}
    assert out["spec"]["replicas"] == 4
    assert out["spec"]["template"] == DEPLOY["spec"]["template"]


def test_json_patch_ops_and_failed_test() -> None:
    ops = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "bot:v2"},
        {"op": "add", "path": "/metadata/annotations", "value": {"a/b": "c"}},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"},
        {"op": "test", "path": "/metadata/name", "value": "d"},
    ]
    out = json_patch(DEPLOY, ops)
    assert out["spec"]["template"]["spec"]["containers"][0]["image"] == "bot:v2"
    assert len(out["spec"]["template"]["spec"]["containers"]) == 1
    assert out["metadata"]["generateName"] == "d"
    with pytest.raises(PatchError, match="test operation failed"):
        json_patch(DEPLOY, [{"op": "test", "path": "/metadata/name", "value": "other"}])
    with pytest.raises(PatchError):
        json_patch(DEPLOY, [{"op": "replace", "path": "/nope/x", "value": 1}])
    with pytest.raises(PatchError):
        json_patch(DEPLOY, {"op": "add"})
    # JSON pointer escapes (~1 is "/")
    out = json_patch({"metadata": {"annotations": {"a/b": "1"}}}, [{"op": "remove", "path": "/metadata/annotations/a~1b"}])
    assert out["metadata"]["annotations"] == {}


def test_strategic_set_image_keeps_other_containers() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "bot"}, {"name": "side"}],
                    "containers": [{"image": "bot:v2", "name": "bot"}],
                }
            }
        }
    }
    out = strategic_merge_patch(DEPLOY, patch)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["bot", "side"]
    assert containers[0]["image"] == "bot:v2"
    assert containers[0]["env"] == DEPLOY["spec"]["template"]["spec"]["containers"][0]["env"]


def test_strategic_set_env_merges_by_name_and_orders() -> None:
    patch = {
        "spec": {"template": {"spec": {"containers": [{
            "name": "bot",
            "$setElementOrder/env": [{"name": "A"}, {"name": "C"}, {"name": "B"}],
            "env": [{"name": "C", "value": "3"}, {"name": "B", "value": "20"}],
        }]}}}
    }
    out = strategic_merge_patch(DEPLOY, patch)
    env = out["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}, {"name": "B", "value": "20"}]


def test_strategic_directives_delete_replace_retain() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}
    out = strategic_merge_patch(DEPLOY, patch)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["bot"]

    out = strategic_merge_patch(DEPLOY, {"metadata": {"labels": {"$patch": "replace", "only": "me"}}})
    assert out["metadata"]["labels"] == {"only": "me"}

    strategy = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    out = strategic_merge_patch(strategy, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}

    out = strategic_merge_patch({"metadata": {"finalizers": ["a", "b"]}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]

    out = strategic_merge_patch(DEPLOY, {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "new", "image": "n"}]}}}})
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "new", "image": "n"}]


def test_strategic_container_ports_merge_by_container_port() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "bot", "ports": [{"containerPort": 9090}]}]}}}}
    out = strategic_merge_patch(DEPLOY, patch)
    ports = out["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["containerPort"] for p in ports] == [8080, 9090]


def test_strategic_rejects_garbage() -> None:
    with pytest.raises(PatchError):
        strategic_merge_patch(DEPLOY, ["not", "a", "map"])
    with pytest.raises(PatchError):
        strategic_merge_patch(DEPLOY, {"metadata": {"$patch": "explode"}})
    with pytest.raises(PatchError):
        strategic_merge_patch(DEPLOY, {"spec": {"template": {"spec": {"containers": [{"image": "no-name"}]}}}})
