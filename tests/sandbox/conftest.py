"""Shared fixtures for the sandbox tests.

``api`` runs the API server in-process (its own event loop in a thread) on a free port,
with a kubeconfig for kubectl and the Python client, and a stand-in cluster that gives
pods a log file and an exec context without starting processes. Real daemon tests go
through :mod:`goldgate.sandbox.lifecycle` instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from goldgate.sandbox.apiserver import ApiServer, apply_defaults
from goldgate.sandbox.apiserver.tls import ensure_tls
from goldgate.sandbox.store import Store

VENV_BIN = pathlib.Path(sys.executable).parent
KUBECTL = VENV_BIN / "kubectl"
TOKEN = "test-token-not-a-secret"
#: One CA for the whole test session (creating keys per test would only cost time).
TLS_DIR = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-sandbox-tls-"))


@dataclass
class StubExecContext:
    env: dict[str, str]
    cwd: pathlib.Path


@dataclass
class StubCluster:
    """Pods "run" in a directory: logs are files there and exec runs locally."""

    root: pathlib.Path
    usage: dict[str, dict[str, str]] = field(default_factory=lambda: {"app": {"cpu": "12m", "memory": "48Mi"}})
    #: (namespace, pod) -> {"rxBytes", "txBytes"}: the pods whose network the stand-in accounts.
    network: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def log_file(self, namespace: str, pod: str, container: str) -> pathlib.Path:
        path = self.root / namespace / pod / f"{container}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def pod_log_path(self, namespace: str, pod: str, container: str | None) -> pathlib.Path | None:
        path = self.root / namespace / pod / f"{container}.log"
        return path if path.exists() else None

    def pod_exec_context(self, namespace: str, pod: str, container: str | None) -> StubExecContext | None:
        cwd = self.root / namespace / pod
        if not cwd.exists():
            return None
        return StubExecContext(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "POD_NAME": pod}, cwd=cwd)

    def pod_usage(self, namespace: str, pod: str) -> dict[str, dict[str, str]] | None:
        if not (self.root / namespace / pod).exists():
            return None
        return self.usage

    def pod_network(self, namespace: str, pod: str) -> dict[str, int] | None:
        return self.network.get((namespace, pod))

    def pod_networks(self) -> dict[tuple[str, str], dict[str, int]]:
        return dict(self.network)


class LoopThread:
    """An event loop in a daemon thread; ``call`` runs a function or coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30) -> Any:
        async def runner() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


def write_kubeconfig(path: pathlib.Path, url: str, token: str, ca_file: pathlib.Path, namespace: str = "trading") -> pathlib.Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: t\n  cluster:\n    server: {url}\n    certificate-authority: {ca_file}\n"
        f"users:\n- name: t\n  user:\n    token: {token}\n"
        f"contexts:\n- name: t\n  context:\n    cluster: t\n    user: t\n    namespace: {namespace}\n"
        "current-context: t\n"
    )
    path.chmod(0o600)
    return path


@dataclass
class ApiHarness:
    server: ApiServer
    store: Store
    loop: LoopThread
    cluster: StubCluster
    kubeconfig: pathlib.Path
    tmp: pathlib.Path
    token: str = TOKEN

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.loop.call(fn, *args)

    def kubectl(self, *args: str, timeout: float = 30, check: bool = False, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECACHEDIR=str(self.tmp / "kcache"), HOME=str(self.tmp))
        proc = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True, text=True, timeout=timeout, env=env, input=stdin,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def http(self, method: str, path: str, **kwargs: Any) -> Any:
        """Raw HTTPS call with the bearer token (requests.Response)."""
        import requests

        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url + path, headers=headers, verify=str(TLS_DIR / "ca.crt"), timeout=(3, 30), **kwargs
        )

    def client(self) -> Any:
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration)
        return client.ApiClient(configuration)

    def create(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.call(self.store.create, resource, obj)


def make_pod(name: str, namespace: str = "trading", labels: dict[str, str] | None = None, *, node: str | None = "sandbox", ready: bool = True) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "trading-bot"}},
        "spec": {"containers": [{"name": "app", "image": "trading-bot:v1.2.0"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": "app", "ready": ready, "restartCount": 0, "image": "trading-bot:v1.2.0",
                    "imageID": "", "started": True, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }
            ],
        },
    }
    if node:
        pod["spec"]["nodeName"] = node
    return pod


@pytest.fixture
def api(tmp_path: pathlib.Path) -> Iterator[ApiHarness]:
    loop = LoopThread()
    store = Store()
    store.defaulter = apply_defaults
    cluster = StubCluster(tmp_path / "pods")
    tls = ensure_tls(TLS_DIR)
    server = ApiServer(store, cluster=cluster, token=TOKEN, ssl_context=tls.server_context())
    server.ctx.log_poll_interval = 0.05
    loop.call(server.start)
    loop.call(store.create, "namespaces", {"metadata": {"name": "trading"}})
    loop.call(store.create, "namespaces", {"metadata": {"name": "default"}})
    harness = ApiHarness(server, store, loop, cluster, write_kubeconfig(tmp_path / "kubeconfig", server.url, TOKEN, tls.ca_cert), tmp_path)
    try:
        yield harness
    finally:
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            loop.call(server.stop, timeout=10)
        loop.close()


# ----------------------------------------------------------------------------- real daemon
@dataclass
class Sandbox:
    """A real sandbox daemon started through :mod:`goldgate.sandbox.lifecycle`."""

    info: Any
    tmp: pathlib.Path

    @property
    def kubeconfig(self) -> pathlib.Path:
        return pathlib.Path(self.info.kubeconfig)

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            KUBECACHEDIR=str(self.tmp / "kcache"),
            HOME=str(self.tmp),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )

    def kubectl(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True, text=True, timeout=timeout, env=self.env(),
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def client(self) -> Any:
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration)
        return client.ApiClient(configuration)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox per test module, in its own state dir; stopped and checked at the end."""
    import psutil

    from goldgate.sandbox import lifecycle

    tmp = tmp_path_factory.mktemp("sandbox")
    state_dir = tmp / "state"
    info = lifecycle.ensure_running(state_dir, timeout=120)
    assert info.started
    try:
        yield Sandbox(info, tmp)
    finally:
        lifecycle.stop(state_dir)
        leftovers = [
            p.pid for p in psutil.process_iter(["cmdline", "cwd"])
            if _mentions(p, str(state_dir))
        ]
        assert not leftovers, f"processes left behind by the sandbox: {leftovers}"


def _mentions(proc: Any, text: str) -> bool:
    import psutil

    with contextlib.suppress(psutil.Error):
        return text in " ".join(proc.info.get("cmdline") or []) or text in str(proc.info.get("cwd") or "")
    return False
