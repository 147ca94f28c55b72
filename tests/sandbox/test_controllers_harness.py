"""In-process harness for the controller tests (imported by the test modules; no tests here).

A :class:`ClusterHarness` runs a Store and a Cluster in the test's own asyncio loop,
with an empty manifest directory unless a test asks for the real ``deploy/k8s``, and
checks on exit that no process it started is still alive.
"""

from __future__ import annotations

import asyncio
import copy
import pathlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

import psutil
import pytest

from goldgate.sandbox.controllers import Cluster
from goldgate.sandbox.store import Store

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL_MANIFESTS = ROOT / "deploy" / "k8s"
NS = "trading"


def run_scenario(coro: Coroutine[Any, Any, Any], timeout_s: float) -> Any:
    """Run one async scenario in a fresh loop, bounded: a hung controller fails the test, never hangs it."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def fast_timing(*, drain_s: float, backoff_s: float | None = None) -> Any:
    """An autouse fixture that runs the sandbox's clocks ten times faster for each test.

    ``drain_s`` is the Service proxy's drain time and ``backoff_s`` the kubelet's restart
    back-off; each module picks values its timing assertions were written against.
    """

    @pytest.fixture(autouse=True)
    def _fast_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GOLDGATE_SANDBOX_TIME_SCALE", "0.1")
        monkeypatch.setenv("GOLDGATE_SANDBOX_DRAIN_S", str(drain_s))
        if backoff_s is not None:
            monkeypatch.setenv("GOLDGATE_SANDBOX_BACKOFF_S", str(backoff_s))

    return _fast_sandbox


def deployment(name: str = "web", replicas: int = 3, image: str = "sandbox/pause",
               *, surge: Any = 1, unavailable: Any = 0, strategy: str = "RollingUpdate",
               container: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    c = {"name": name, "image": image}
    c.update(container or {})
    strat: dict[str, Any] = {"type": strategy}
    if strategy == "RollingUpdate":
        strat["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    body = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "strategy": strat,
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [c], "terminationGracePeriodSeconds": 5}}},
    }
    body["spec"].update(spec)
    return body


def service(name: str = "web", port: int = 80, target: Any = 8080) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": "http", "port": port, "targetPort": target,
                                "protocol": "TCP"}]}}


#: A stand-in HTTP service: any GET answers 200 with the pod's name; SIGTERM exits 0.
HTTP_STANDIN = (
    "import http.server,os,signal,sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body=os.environ.get('HOSTNAME','').encode()\n"
    "        self.send_response(200);self.send_header('Content-Length',str(len(body)))\n"
    "        self.end_headers();self.wfile.write(body)\n"
    "    def log_message(self,*a): pass\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"
)


def standin_container(**extra: Any) -> dict[str, Any]:
    c = {"command": ["python", "-c", HTTP_STANDIN],
         "ports": [{"name": "http", "containerPort": 8080}],
         "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}
    c.update(extra)
    return c


class ClusterHarness:
    def __init__(self, tmp_path: pathlib.Path, *, manifests: pathlib.Path | None = None,
                 faults: list[str] | None = None) -> None:
        self.tmp_path = tmp_path
        empty = tmp_path / "no-manifests"
        empty.mkdir(exist_ok=True)
        self.store = Store()
        self.cluster = Cluster(self.store, tmp_path / "state", faults or [],
                               manifests_dir=manifests or empty)
        self.seen_pids: set[int] = set()

    async def __aenter__(self) -> ClusterHarness:
        await self.cluster.start()
        if self.store.find("namespaces", None, NS) is None:
            self.store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"name": NS}})
        self.store.subscribe(self._track_pids)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cluster.stop()
        alive = [p for p in self._known_pids() if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"processes left after Cluster.stop(): {alive}"
        assert not list((self.tmp_path / "state" / "pids").iterdir())

    def _track_pids(self, _event: Any) -> None:
        pids_dir = self.tmp_path / "state" / "pids"
        if pids_dir.is_dir():
            self.seen_pids.update(int(p.name) for p in pids_dir.iterdir() if p.name.isdigit())

    def _known_pids(self) -> set[int]:
        self._track_pids(None)
        return self.seen_pids

    # ------------------------------------------------------------ store helpers
    def create(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.store.create(resource, copy.deepcopy(obj))

    def deploy(self, name: str = "web") -> dict[str, Any]:
        return self.store.get("deployments", NS, name)

    def mutate_deploy(self, change: Callable[[dict[str, Any]], None], name: str = "web") -> None:
        self.store.mutate("deployments", NS, name, change)

    def set_image(self, image: str, name: str = "web") -> None:
        def put(d: dict[str, Any]) -> None:
            d["spec"]["template"]["spec"]["containers"][0]["image"] = image

        self.mutate_deploy(put, name)

    def pods(self, label: str | None = None, *, include_terminating: bool = False
             ) -> list[dict[str, Any]]:
        pods, _ = self.store.list("pods", NS, label_selector=label)
        if include_terminating:
            return pods
        return [p for p in pods if "deletionTimestamp" not in p["metadata"]]

    def replicasets(self, label: str | None = None) -> list[dict[str, Any]]:
        return self.store.list("replicasets", NS, label_selector=label)[0]

    def events(self, reason: str | None = None) -> list[dict[str, Any]]:
        evs = self.store.list("events", NS)[0]
        return [e for e in evs if reason is None or e["reason"] == reason]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0,
                       what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.05)

    def rollout_complete(self, name: str = "web") -> bool:
        """kubectl rollout status's success rule (DeploymentStatusViewer)."""
        d = self.deploy(name)
        st = d.get("status") or {}
        want = d["spec"]["replicas"]
        return (st.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and st.get("updatedReplicas", 0) == want and st.get("replicas", 0) == want
                and st.get("availableReplicas", 0) == want)


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c["type"] == ctype), {})


def container_status(pod: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return ((pod.get("status") or {}).get("containerStatuses") or [{}])[index]


def is_ready(pod: dict[str, Any]) -> bool:
    return condition(pod, "Ready").get("status") == "True"
