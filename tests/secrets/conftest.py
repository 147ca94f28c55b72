"""Servers the secret backends are tested against, all on 127.0.0.1: moto's server mode
for AWS Secrets Manager, the sandbox's API server for Kubernetes Secrets, and the Vault
double (see vault_double.py for why Vault is a double)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import pathlib
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from goldgate.sandbox.apiserver import ApiServer, apply_defaults
from goldgate.sandbox.apiserver.tls import ensure_tls
from goldgate.sandbox.store import Store
from tests.conftest import free_port

AWS_DB_PASSWORD = "CanaryAwsDbPw-0e5a71"
AWS_API_KEY = "CanaryAwsApiKey-88c2d4"
API_TOKEN = "sandbox-api-token-for-tests"
PROM_TOKEN = "CanaryK8sPromToken-4be90a"
TLS_DIR = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-secrets-tls-"))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server per session: moto keeps its state per process, not per server."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    sm = boto3.client("secretsmanager", endpoint_url=url, region_name="eu-west-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    sm.create_secret(Name="trading-bot/staging",
                     SecretString=json.dumps({"db_password": AWS_DB_PASSWORD, "api_key": AWS_API_KEY, "port": 5432}))
    sm.create_secret(Name="trading-bot/plain-token", SecretString=AWS_API_KEY + "-plain")
    sm.create_secret(Name="trading-bot/list", SecretString=json.dumps(["a", "b"]))
    yield url
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """The standard chain reads these variables; no host config may leak in."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


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
