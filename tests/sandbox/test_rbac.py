"""RBAC for ServiceAccount tokens in the sandbox API server, checked with the real kubectl.

The admin kubeconfig keeps full access; a pod's account token (what the kubelet mounts,
and what ``kubectl create token`` returns) gets exactly what its Roles and ClusterRoles
grant, and any other request gets the API server's 403 Status. The least-privilege checks
apply the project's own RBAC manifests (deploy/judge/, deploy/ci/kubernetes/).
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from goldgate.sandbox import satoken
from tests.sandbox.conftest import ApiHarness

ROOT = pathlib.Path(__file__).resolve().parents[2]
JUDGE = "system:serviceaccount:trading:goldgate-judge"
POD_READER = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: trading}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects: [{kind: ServiceAccount, name: viewer, namespace: trading}]
"""
ONE_SECRET = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: watcher, namespace: trading}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: one-secret, namespace: trading}
rules: [{apiGroups: [""], resources: [secrets], resourceNames: [goldgate-prometheus], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: one-secret, namespace: trading}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: one-secret}
subjects: [{kind: ServiceAccount, name: watcher, namespace: trading}]
"""
CLUSTER_WIDE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects: [{kind: Group, name: "system:serviceaccounts:trading"}]
"""


@pytest.fixture
def rbac_api(api: ApiHarness, tmp_path: pathlib.Path) -> ApiHarness:
    api.server.ctx.sa_key = satoken.signing_key(tmp_path / "keys")
    return api


def token_of(api: ApiHarness, account: str, namespace: str = "trading") -> str:
    proc = api.kubectl("create", "token", account, "-n", namespace, check=True)
    return proc.stdout.strip()


def as_account(api: ApiHarness, token: str, *args: str) -> Any:
    return api.kubectl("--token", token, *args)


def apply(api: ApiHarness, *paths: pathlib.Path) -> None:
    for path in paths:
        api.kubectl("apply", "-f", str(path), check=True)


def raw(api: ApiHarness, token: str, method: str, path: str, **kwargs: Any) -> Any:
    import requests

    from tests.sandbox.conftest import TLS_DIR

    return requests.request(method, api.url + path, headers={"Authorization": f"Bearer {token}",
                                                            **kwargs.pop("headers", {})},
                            verify=str(TLS_DIR / "ca.crt"), timeout=(3, 10), **kwargs)


def seed(api: ApiHarness) -> None:
    """A pod, a Deployment's stand-in objects and two Secrets to be read or refused."""
    from tests.sandbox.conftest import make_pod

    api.create("pods", make_pod("bot-1"))
    for name in ("goldgate-prometheus", "goldgate-audit-db"):
        api.create("secrets", {"metadata": {"name": name, "namespace": "trading"}, "data": {"token": "eA=="}})


def test_admin_keeps_full_access_and_unknown_tokens_are_401(rbac_api: ApiHarness) -> None:
    api = rbac_api
    assert api.kubectl("create", "secret", "generic", "x", "--from-literal=a=b", "-n", "trading").returncode == 0
    assert api.kubectl("delete", "secret", "x", "-n", "trading").returncode == 0
    forged = satoken.issue(b"another-key", "trading", "default")
    assert raw(api, forged, "GET", "/api/v1/namespaces/trading/pods").status_code == 401
    assert raw(api, "not-a-token", "GET", "/api/v1/namespaces/trading/pods").status_code == 401


def test_an_account_without_bindings_is_refused_with_the_api_servers_status(rbac_api: ApiHarness) -> None:
    api = rbac_api
    seed(api)
    api.kubectl("create", "serviceaccount", "nobody", "-n", "trading", check=True)
    token = token_of(api, "nobody")
    proc = as_account(api, token, "get", "pods", "-n", "trading")
    assert proc.returncode != 0
    assert ('pods is forbidden: User "system:serviceaccount:trading:nobody" cannot list resource "pods" '
            'in API group "" in the namespace "trading"') in proc.stderr
    resp = raw(api, token, "GET", "/api/v1/namespaces/trading/secrets/goldgate-prometheus")
    body = resp.json()
    assert resp.status_code == 403
    assert body["kind"] == "Status" and body["reason"] == "Forbidden" and body["code"] == 403
    assert body["details"] == {"kind": "secrets", "name": "goldgate-prometheus"}
    assert body["message"] == ('secrets "goldgate-prometheus" is forbidden: User "system:serviceaccount:trading:nobody" '
                               'cannot get resource "secrets" in API group "" in the namespace "trading"')
    cluster = raw(api, token, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles").json()
    assert cluster["message"].endswith('cannot list resource "clusterroles" in API group '
                                       '"rbac.authorization.k8s.io" at the cluster scope')
    # discovery stays open to every authenticated account (system:discovery)
    assert raw(api, token, "GET", "/api").status_code == 200
    assert raw(api, token, "GET", "/apis").status_code == 200
    # a deleted account's token stops working
    api.kubectl("delete", "serviceaccount", "nobody", "-n", "trading", check=True)
    assert raw(api, token, "GET", "/api/v1/namespaces/trading/pods").status_code == 401


def test_the_judges_role_reads_and_never_writes(rbac_api: ApiHarness) -> None:
    api = rbac_api
    seed(api)
    apply(api, ROOT / "deploy/judge/00-serviceaccount.yaml", ROOT / "deploy/judge/10-role.yaml")
    token = token_of(api, "goldgate-judge")
    ok = [("get", "pods"), ("get", "pods/bot-1"), ("get", "deployments"), ("get", "replicasets"),
          ("get", "services"), ("get", "endpoints"), ("get", "events"),
          ("get", "secret/goldgate-prometheus")]
    for verb, what in ok:
        proc = as_account(api, token, verb, what, "-n", "trading")
        assert proc.returncode == 0, (what, proc.stderr)
    watch = raw(api, token, "GET", "/api/v1/namespaces/trading/pods?watch=true&timeoutSeconds=1")
    assert watch.status_code == 200
    assert raw(api, token, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/trading/pods").status_code != 403
    refused = {
        ("patch", "pods"): ["patch", "pod", "bot-1", "-p", '{"metadata":{"labels":{"x":"y"}}}'],
        ("delete", "pods"): ["delete", "pod", "bot-1", "--wait=false"],
        ("get", "secrets"): ["get", "secret", "goldgate-audit-db"],
        ("list", "secrets"): ["get", "secrets"],
        ("create", "configmaps"): ["create", "configmap", "x", "--from-literal=a=b"],
        ("list", "configmaps"): ["get", "configmaps"],
        ("get", "pods/log"): ["logs", "bot-1"],
    }
    for (verb, resource), args in refused.items():
        proc = as_account(api, token, *args, "-n", "trading")
        assert proc.returncode != 0, args
        assert f'User "{JUDGE}" cannot {verb} resource "{resource}"' in proc.stderr, (args, proc.stderr)
    assert as_account(api, token, "get", "pods", "-n", "default").returncode != 0  # a Role is per namespace
    scale = raw(api, token, "PATCH", "/apis/apps/v1/namespaces/trading/deployments/trading-bot/scale",
                data=json.dumps({"spec": {"replicas": 0}}), headers={"Content-Type": "application/merge-patch+json"})
    assert scale.status_code == 403 and 'cannot patch resource "deployments/scale"' in scale.json()["message"]


def test_the_ci_jobs_accounts_get_what_their_roles_grant(rbac_api: ApiHarness) -> None:
    api = rbac_api
    seed(api)
    api.create("deployments", {"metadata": {"name": "trading-bot", "namespace": "trading"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "trading-bot"}}, "template": {
            "metadata": {"labels": {"app": "trading-bot"}},
            "spec": {"containers": [{"name": "trading-bot", "image": "trading-bot:v1.2.0"}]}}}})
    kube = ROOT / "deploy/ci/kubernetes"
    apply(api, kube / "10-serviceaccounts.yaml", kube / "20-role-read.yaml", kube / "30-role-rollback.yaml")
    gate, rollout = token_of(api, "goldgate-gate"), token_of(api, "goldgate-rollout")
    for token in (gate, rollout):
        assert as_account(api, token, "get", "pods,deployments,configmaps", "-n", "trading").returncode == 0
        assert "forbidden" not in as_account(api, token, "logs", "bot-1", "-n", "trading").stderr
        assert as_account(api, token, "get", "secret", "goldgate-prometheus", "-n", "trading").returncode == 0
        denied = as_account(api, token, "get", "secret", "goldgate-audit-db", "-n", "trading")
        assert 'cannot get resource "secrets"' in denied.stderr
        denied = as_account(api, token, "delete", "deployment", "trading-bot", "-n", "trading")
        assert 'cannot delete resource "deployments"' in denied.stderr
    patch = ["patch", "deployment", "trading-bot", "-n", "trading", "-p", '{"spec":{"replicas":2}}']
    assert 'cannot patch resource "deployments"' in as_account(api, gate, *patch).stderr
    assert as_account(api, rollout, *patch).returncode == 0  # the rollout Job may roll back (§6.1)
    other = raw(api, rollout, "PATCH", "/apis/apps/v1/namespaces/trading/deployments/other", data="{}",
                headers={"Content-Type": "application/merge-patch+json"})
    assert other.status_code == 403  # resourceNames: the bot's own objects only
    assert other.json()["message"].startswith('deployments.apps "other" is forbidden')


def test_cluster_roles_through_role_and_cluster_role_bindings(rbac_api: ApiHarness) -> None:
    api = rbac_api
    seed(api)
    api.kubectl("create", "serviceaccount", "viewer", "-n", "trading", check=True)
    api.kubectl("apply", "-f", "-", check=True, stdin=POD_READER)
    token = token_of(api, "viewer")
    assert as_account(api, token, "get", "pods", "-n", "trading").returncode == 0
    assert as_account(api, token, "get", "pods", "-n", "default").returncode != 0  # bound in trading only
    assert as_account(api, token, "get", "pods", "-A").returncode != 0
    api.kubectl("apply", "-f", "-", check=True, stdin=CLUSTER_WIDE)
    assert as_account(api, token, "get", "pods", "-A").returncode == 0
    assert as_account(api, token, "get", "pods", "-n", "default").returncode == 0
    assert as_account(api, token, "get", "nodes").returncode != 0


def test_a_pods_paths_and_port_are_mapped_to_its_folders() -> None:
    from goldgate.sandbox.controllers.volumes import rewrite
    from goldgate.sandbox.incluster import loopback_args

    mounts = {"/var/lib/goldgate": "/tmp/s/pvc/trading/state", "/suite/env": "/p/volumes/env", "/tmp": "/p/volumes/tmp"}
    assert rewrite("--state=/var/lib/goldgate/judge.sqlite3", mounts) == "--state=/tmp/s/pvc/trading/state/judge.sqlite3"
    assert rewrite("/suite/env", mounts) == "/p/volumes/env"
    assert rewrite("/suite/environments", mounts) == "/suite/environments"  # a prefix of a name is no mount
    assert rewrite("PATH=/tmp:/usr/bin", mounts) == "PATH=/p/volumes/tmp:/usr/bin"
    env = {"SANDBOX_PORT_8080": "41234"}
    assert loopback_args(["serve", "--host=0.0.0.0", "--port=8080"], env) == \
        ["serve", "--host=127.0.0.1", "--port=41234"]
    assert loopback_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--env", "x"], env) == \
        ["serve", "--host", "127.0.0.1", "--port", "41234", "--env", "x"]


def test_kubectl_auth_can_i_as_the_judges_account(rbac_api: ApiHarness) -> None:
    api = rbac_api
    apply(api, ROOT / "deploy/judge/00-serviceaccount.yaml", ROOT / "deploy/judge/10-role.yaml")

    def can_i(*args: str) -> str:
        return api.kubectl("auth", "can-i", f"--as={JUDGE}", *args, "-n", "trading").stdout.strip()

    assert can_i("watch", "pods") == "yes"
    assert can_i("list", "deployments.apps") == "yes"
    assert can_i("get", "secrets/goldgate-prometheus") == "yes"
    assert can_i("get", "secrets/goldgate-judge") == "no"
    assert can_i("list", "secrets") == "no"
    assert can_i("patch", "deployments.apps") == "no"
    assert can_i("delete", "pods") == "no"
    assert can_i("get", "pods", "--subresource=log") == "no"
    assert api.kubectl("auth", "can-i", "delete", "pods", "-n", "trading").stdout.strip() == "yes"  # the admin
    proc = api.kubectl(f"--as={JUDGE}", "delete", "pod", "x", "-n", "trading")
    assert f'User "{JUDGE}" cannot delete resource "pods"' in proc.stderr
    assert "impersonates ServiceAccounts only" in api.kubectl("--as=jane", "get", "pods").stderr


def test_resource_names_grant_a_single_object_list_and_watch(rbac_api: ApiHarness) -> None:
    api = rbac_api
    seed(api)
    api.kubectl("apply", "-f", "-", check=True, stdin=ONE_SECRET)
    token = token_of(api, "watcher")
    base = "/api/v1/namespaces/trading/secrets"
    named = "?fieldSelector=metadata.name%3Dgoldgate-prometheus"
    assert raw(api, token, "GET", base + named).status_code == 200
    assert raw(api, token, "GET", base + named + "&watch=true&timeoutSeconds=1").status_code == 200
    assert raw(api, token, "GET", base).status_code == 403  # the whole collection is not granted
    other = raw(api, token, "GET", base + "?fieldSelector=metadata.name%3Dgoldgate-audit-db")
    assert other.status_code == 403
    from goldgate.sandbox.apiserver.rbac import selector_name

    assert selector_name("metadata.name=a") == "a" and selector_name("metadata.name==a,x=y") == "a"
    assert selector_name("metadata.name!=a") == "" and selector_name("status.phase=Running") == ""
