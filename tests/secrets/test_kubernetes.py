"""``k8s:NAMESPACE/NAME#KEY`` through the official kubernetes client against the sandbox API.

The embedded sandbox's API server serves core/v1 Secrets over HTTPS with bearer-token
authentication, so the reference is read exactly as from a cluster: kubeconfig, context,
CA, token, ``GET /api/v1/namespaces/NS/secrets/NAME``. The sandbox has no RBAC, so the
"denied" case here is a rejected token (401); the Role that grants exactly this one
Secret is checked as a manifest below.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from goldgate.config import KubernetesTarget
from goldgate.report import redact
from goldgate.secrets import SecretResolutionError, SecretResolver
from tests.secrets.blackhole import Blackhole, closed_port
from tests.secrets.conftest import API_TOKEN, PROM_TOKEN, SandboxApi, write_kubeconfig

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _resolver(kubeconfig: pathlib.Path, request_timeout_s: float = 2, **target: Any) -> SecretResolver:
    return SecretResolver(kubernetes=KubernetesTarget(kubeconfig=str(kubeconfig), request_timeout_s=request_timeout_s,
                                                      **target))


def test_a_secret_key_is_read_with_the_runs_kubeconfig_once(kubeconfig: pathlib.Path) -> None:
    r = _resolver(kubeconfig, context="gate")
    assert r.resolve("k8s:trading/goldgate-prometheus#token") == PROM_TOKEN
    assert r.resolve("k8s:trading/goldgate-prometheus#token") == PROM_TOKEN
    assert r._backends["k8s"].requests == 1  # type: ignore[attr-defined]
    assert PROM_TOKEN not in redact.redact(f"Authorization {PROM_TOKEN}")
    r.close()


@pytest.mark.parametrize(("ref", "cause"), [
    ("k8s:trading/absent#token",
     r"^secret reference k8s:trading/absent#token not resolved: missing path: no Secret trading/absent on "
     r"https://127.0.0.1:\d+$"),
    ("k8s:trading/goldgate-prometheus#nope",
     r"^secret reference k8s:trading/goldgate-prometheus#nope not resolved: missing key: 'nope' is not in Secret "
     r"trading/goldgate-prometheus \(keys there: binary, token\)$"),
    ("k8s:trading/goldgate-prometheus#binary", r"key 'binary' of Secret trading/goldgate-prometheus is not base64 "
                                               r"UTF-8 text"),
])
def test_failures_name_the_reference_and_the_cause(kubeconfig: pathlib.Path, ref: str, cause: str) -> None:
    with pytest.raises(SecretResolutionError, match=cause) as exc:
        _resolver(kubeconfig).resolve(ref)
    assert PROM_TOKEN not in str(exc.value)
    assert redact.redact(str(exc.value)) == str(exc.value)


def test_a_rejected_token_is_denied(api: SandboxApi, tmp_path: pathlib.Path) -> None:
    bad = write_kubeconfig(tmp_path / "bad", api.server.url, "not-the-token-0000", api.tls.ca_cert)
    with pytest.raises(SecretResolutionError, match=r"denied: https://127.0.0.1:\d+: get secret "
                                                    r"trading/goldgate-prometheus: HTTP 401 Unauthorized"):
        _resolver(bad).resolve("k8s:trading/goldgate-prometheus#token")


def test_an_unreachable_api_server_and_a_missing_kubeconfig(api: SandboxApi, tmp_path: pathlib.Path) -> None:
    dead = write_kubeconfig(tmp_path / "dead", f"https://127.0.0.1:{closed_port()}", API_TOKEN, api.tls.ca_cert)
    with pytest.raises(SecretResolutionError, match=r"unreachable: https://127.0.0.1:\d+: get secret "
                                                    r"trading/goldgate-prometheus: MaxRetryError"):
        _resolver(dead).resolve("k8s:trading/goldgate-prometheus#token")
    with pytest.raises(SecretResolutionError, match=r"unreachable: kubeconfig .*absent does not exist"):
        _resolver(tmp_path / "absent").resolve("k8s:trading/goldgate-prometheus#token")


def test_the_read_role_grants_exactly_that_secret() -> None:
    """Least privilege: get on the named Secret(s) only — no list, no watch, no other Secret."""
    docs = list(yaml.safe_load_all((ROOT / "deploy/ci/kubernetes/20-role-read.yaml").read_text()))
    role = next(d for d in docs if d["kind"] == "Role")
    secret_rules = [r for r in role["rules"] if any(res.startswith("secrets") for res in r["resources"])]
    assert secret_rules == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["goldgate-prometheus"],
                             "verbs": ["get"]}]
    job = yaml.safe_load((ROOT / "deploy/ci/kubernetes/40-environment.yaml").read_text())
    in_cluster = yaml.safe_load(job["data"]["production.yaml"])
    assert in_cluster["metrics"]["prometheus_auth"] == "k8s:trading/goldgate-prometheus#token"


@pytest.mark.timeout(60)
def test_a_blackholed_api_server_costs_bounded_attempts_once_per_run(api: SandboxApi, tmp_path: pathlib.Path) -> None:
    with Blackhole() as hole:
        dead = write_kubeconfig(tmp_path / "hole", f"https://127.0.0.1:{hole.port}", API_TOKEN, api.tls.ca_cert)
        r = _resolver(dead, request_timeout_s=0.5)
        with pytest.raises(SecretResolutionError, match=r"unreachable: https://127.0.0.1:\d+: get secret "
                                                        r"trading/goldgate-prometheus: "):
            r.resolve("k8s:trading/goldgate-prometheus#token")
        attempts = len(hole.accepted)
        assert 1 <= attempts <= 3  # the client's bounded retries (probes.kubernetes.connect)
        with pytest.raises(SecretResolutionError, match="unreachable"):
            r.resolve("k8s:trading/goldgate-prometheus#token")
        assert len(hole.accepted) == attempts
