"""The sandbox's control plane minus the API server: controllers, kubelet, proxies.

Everything runs in the daemon's one asyncio loop. The store calls back synchronously
on every change; that only sets a flag, and one control loop then runs every
controller in a fixed order (kubelet/scheduler → ReplicaSets → Deployments →
Endpoints/proxies → garbage collector → Prometheus targets). Controllers are
level-triggered — each pass compares the whole desired and observed state — so a
missed or coalesced event can never leave the cluster stuck; a resync every
``RESYNC_S`` drives the time-based parts (progress deadline, minReadySeconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import signal

from goldgate.sandbox.controllers import manifests, production
from goldgate.sandbox.controllers.context import ExecContext
from goldgate.sandbox.controllers.deployment import DeploymentController
from goldgate.sandbox.controllers.events import EventRecorder
from goldgate.sandbox.controllers.faults import FaultContext, apply_faults
from goldgate.sandbox.controllers.filesd import FileSD
from goldgate.sandbox.controllers.gateway import GatewayController
from goldgate.sandbox.controllers.gc import GarbageCollector
from goldgate.sandbox.controllers.kubelet import NODE_NAME, Kubelet, PidRegistry
from goldgate.sandbox.controllers.node import node_object
from goldgate.sandbox.controllers.quantity import format_cpu, format_memory
from goldgate.sandbox.controllers.replicaset import ReplicaSetController
from goldgate.sandbox.controllers.services import ServiceController
from goldgate.sandbox.controllers.timing import Timing
from goldgate.sandbox.netaccount import NetAccount
from goldgate.sandbox.store import AlreadyExists, Store, WatchEvent

log = logging.getLogger("goldgate.sandbox.cluster")
RESYNC_S = 0.5
#: Coalesces a burst of store events into one controller pass.
BATCH_S = 0.005


class Cluster:
    def __init__(self, store: Store, state_dir: pathlib.Path, faults: list[str],
                 manifests_dir: pathlib.Path | None = None) -> None:
        self.store = store
        self.state_dir = pathlib.Path(state_dir)
        self.faults = list(faults)
        self.manifests_dir = manifests_dir
        self.timing = Timing()
        self.events = EventRecorder(store)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = None
        self._running = False
        self.kubelet: Kubelet | None = None
        self.services: ServiceController | None = None
        self.gateways: GatewayController | None = None
        self.gc = GarbageCollector(store)
        self.netaccount: NetAccount | None = None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self.timing = Timing.from_env()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        directory = self.manifests_dir or manifests.default_manifests_dir()
        if not directory.is_dir():
            raise FileNotFoundError(
                f"sandbox manifests directory {directory} does not exist; pass --manifests "
                "or set GOLDGATE_MANIFESTS_DIR to the bot's deploy/k8s directory")
        docs = manifests.load(directory)
        apply_faults(self.faults, FaultContext(docs, self.store, self.state_dir))
        if self.store.find("nodes", None, NODE_NAME) is None:
            with contextlib.suppress(AlreadyExists):
                self.store.create("nodes", node_object())
        manifests.apply(self.store, docs)
        manifests.apply(self.store, production.production_docs(directory, self.faults))
        self.netaccount = await asyncio.to_thread(NetAccount.start)
        self.kubelet = Kubelet(self.store, self.events, self.state_dir, self.timing, self.netaccount)
        self.services = ServiceController(self.store)
        self.services.on_change = self._wake.set  # type: ignore[method-assign]
        self.gateways = GatewayController(self.store, self.services)
        self.gateways.on_change = self._wake.set  # type: ignore[method-assign]
        self._replicasets = ReplicaSetController(self.store, self.events)
        self._deployments = DeploymentController(self.store, self.events)
        self._filesd = FileSD(self.state_dir)
        self.gc.seed([(key[0], obj) for key in self.store.all_keys()
                      if (obj := self.store.find(*key)) is not None])
        self._unsubscribe = self.store.subscribe(self._on_event)
        self._running = True
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._running = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.kubelet is not None:
            await self.kubelet.stop()
        if self.gateways is not None:
            await self.gateways.stop()
        if self.services is not None:
            await self.services.stop()
        self._kill_stragglers()
        if self.netaccount is not None:
            await asyncio.to_thread(self.netaccount.stop)
            self.netaccount = None

    def _kill_stragglers(self) -> None:
        """Anything still listed in pids/ after an orderly stop is killed outright."""
        registry = PidRegistry(self.state_dir)
        for pid in registry.live():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            registry.remove(pid)

    # ---------------------------------------------------------------- control loop
    def _on_event(self, event: WatchEvent) -> None:
        self.gc.observe(event)
        if event.resource != "events":
            self._wake.set()

    async def _loop(self) -> None:
        while self._running:
            woken = True
            try:
                await asyncio.wait_for(self._wake.wait(), RESYNC_S)
            except TimeoutError:
                woken = False
            if not woken and not self._time_sensitive():
                continue  # nothing changed and no clock-driven condition is pending
            await asyncio.sleep(BATCH_S)
            self._wake.clear()
            self.reconcile_once()

    def _time_sensitive(self) -> bool:
        """Whether a resync could change something without any event: a rollout in
        progress (progress deadline) or availability waiting on minReadySeconds."""
        deployments, _ = self.store.list("deployments")
        for d in deployments:
            status = d.get("status") or {}
            reason = next((c.get("reason") for c in status.get("conditions") or []
                           if c.get("type") == "Progressing"), None)
            if status.get("observedGeneration", 0) < d["metadata"].get("generation", 1):
                return True
            if reason not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
                return True
            if status.get("availableReplicas", 0) < d["spec"].get("replicas", 1) and \
                    d["spec"].get("minReadySeconds", 0) > 0:
                return True
        return False

    def reconcile_once(self) -> None:
        """One pass of every controller (public for tests that drive time themselves)."""
        assert self.kubelet is not None and self.services is not None
        steps = [
            ("kubelet", lambda: self.kubelet.reconcile(self._pods())),
            ("replicaset", lambda: self._replicasets.reconcile(self._pods())),
            ("deployment", self._deployments.reconcile),
            ("services", lambda: self.services.reconcile(self._pods())),
            ("gateway", lambda: self.gateways.reconcile() if self.gateways else None),
            ("gc", self.gc.reconcile),
            ("file-sd", lambda: self._filesd.reconcile(self._pods())),
        ]
        self._pods_cache: tuple[str, list] | None = None
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("sandbox %s controller failed; retrying next pass", name)

    def _pods(self) -> list:
        """Pods, listed at most once per store revision within a pass."""
        rv = self.store.resource_version
        cache = getattr(self, "_pods_cache", None)
        if cache is None or cache[0] != rv:
            cache = (rv, self.store.list("pods")[0])
            self._pods_cache = cache
        return cache[1]

    # ---------------------------------------------------------------- pod access
    def _pod_dir(self, namespace: str, pod: str) -> tuple[pathlib.Path, dict] | None:
        obj = self.store.find("pods", namespace, pod)
        if obj is None:
            return None
        uid = obj["metadata"]["uid"]
        return self.state_dir / "pods" / f"{namespace}_{pod}_{uid[:8]}", obj

    @staticmethod
    def _container_name(obj: dict, container: str | None) -> str | None:
        names = [c.get("name") for c in obj.get("spec", {}).get("containers") or []]
        if container is None:
            return names[0] if names else None
        return container if container in names else None

    def _pod_container(self, namespace: str, pod: str, container: str | None) -> tuple[pathlib.Path, str] | None:
        """The pod's directory and the container's name (the first one when not named), if both exist."""
        found = self._pod_dir(namespace, pod)
        if found is None:
            return None
        directory, obj = found
        name = self._container_name(obj, container)
        return None if name is None else (directory, name)

    def pod_log_path(self, namespace: str, pod: str, container: str | None) -> pathlib.Path | None:
        found = self._pod_container(namespace, pod, container)
        if found is None:
            return None
        directory, name = found
        path = directory / "logs" / f"{name}.log"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        return path

    def pod_exec_context(self, namespace: str, pod: str, container: str | None) -> ExecContext | None:
        found = self._pod_container(namespace, pod, container)
        if found is None:
            return None
        directory, name = found
        worker = self.kubelet.worker(namespace, pod) if self.kubelet else None
        if worker is not None:
            return worker.exec_context(name)
        root = directory / "root"
        root.mkdir(parents=True, exist_ok=True)
        return ExecContext(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                "HOME": str(root), "HOSTNAME": pod}, cwd=root)

    def pod_usage(self, namespace: str, pod: str) -> dict[str, dict[str, str]] | None:
        obj = self.store.find("pods", namespace, pod)
        if obj is None:
            return None
        worker = self.kubelet.worker(namespace, pod) if self.kubelet else None
        usage = {}
        for c in obj.get("spec", {}).get("containers") or []:
            runner = next((r for r in worker.runners if r.name == c.get("name")), None) \
                if worker else None
            cpu, rss = runner.usage if runner else (0.0, 0)
            usage[c.get("name", "")] = {"cpu": format_cpu(cpu), "memory": format_memory(rss)}
        return usage

    def pod_network(self, namespace: str, pod: str) -> dict[str, int] | None:
        """``{"rxBytes", "txBytes"}`` the pod received and sent; None when it is not accounted."""
        return self.pod_networks().get((namespace, pod))

    def pod_networks(self) -> dict[tuple[str, str], dict[str, int]]:
        """:meth:`pod_network` of every accounted pod, from one read of the counters."""
        if self.netaccount is None:
            return {}
        return {key: {"rxBytes": rx, "txBytes": tx} for key, (rx, tx) in self.netaccount.counters().items()}

    def service_url(self, namespace: str, name: str, port: int | None = None) -> str | None:
        """``http://127.0.0.1:<proxy port>`` of a Service port (tests' convenience)."""
        return self.services.url(namespace, name, port) if self.services else None

    def gateway_url(self, namespace: str, name: str, listener: str | None = None) -> str | None:
        """``http://127.0.0.1:<proxy port>`` of a Gateway listener (tests' convenience)."""
        return self.gateways.url(namespace, name, listener) if self.gateways else None
