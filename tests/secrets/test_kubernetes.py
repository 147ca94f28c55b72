"""``k8s:NAMESPACE/NAME#KEY`` through the official kubernetes client against the sandbox API.

The embedded sandbox's API server serves core/v1 Secrets over HTTPS with bearer-token
authentication, so the reference is read exactly as from a cluster: kubeconfig, context,
CA, token, ``GET /api/v1/namespaces/NS/secrets/NAME``. The sandbox has no RBAC, so the
"denied" case here is a rejected token (401); the Role that grants exactly this one
Secret is checked as a manifest below.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import pathlib
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from goldgate.config import KubernetesTarget
from goldgate.report import redact
from goldgate.sandbox.apiserver import ApiServer, apply_defaults
from goldgate.sandbox.apiserver.tls import ensure_tls
from goldgate.sandbox.store import Store
from goldgate.secrets import SecretResolutionError, SecretResolver
from tests.secrets.blackhole import closed_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
API_TOKEN = "sandbox-api-token-for-tests"
PROM_TOKEN = "CanaryK8sPromToken-4be90a"
TLS_DIR = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-secrets-tls-"))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_kubeconfig(path: pathlib.Path, url: str, token: str, ca: pathlib.Path) -> pathlib.Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gate",
        "clusters": [{"name": "sandbox", "cluster": {"server": url, "certificate-authority": str(ca)}}],
        "users": [{"name": "goldgate-gate", "user": {"token": token}}],
        "contexts": [{"name": "gate", "context": {"cluster": "sandbox", "user": "goldgate-gate"}}],
    }))
    path.chmod(0o600)
    return path


class SandboxApi:
    """The sandbox API server in its own event loop thread, holding one Secret."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.store = Store()
        self.store.defaulter = apply_defaults
        self.tls = ensure_tls(TLS_DIR)
        self.server = ApiServer(self.store, token=API_TOKEN, ssl_context=self.tls.server_context())

    def call(self, fn: Any, *args: Any) -> Any:
        async def run() -> Any:
            result = fn(*args)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def __enter__(self) -> SandboxApi:
        self.thread.start()
        self.call(self.server.start)
        self.call(self.store.create, "namespaces", {"metadata": {"name": "trading"}})
        self.call(self.store.create, "secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "goldgate-prometheus", "namespace": "trading"},
            "data": {"token": _b64(PROM_TOKEN), "binary": base64.b64encode(b"\xff\xfe").decode()},
        })
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.call(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def api() -> Iterator[SandboxApi]:
    with SandboxApi() as running:
        yield running


@pytest.fixture
def kubeconfig(api: SandboxApi, tmp_path: pathlib.Path) -> pathlib.Path:
    return write_kubeconfig(tmp_path / "kubeconfig", api.server.url, API_TOKEN, api.tls.ca_cert)


def _resolver(kubeconfig: pathlib.Path, **target: Any) -> SecretResolver:
    return SecretResolver(kubernetes=KubernetesTarget(kubeconfig=str(kubeconfig), request_timeout_s=2, **target))


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
