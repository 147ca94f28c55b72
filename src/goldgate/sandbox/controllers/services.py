"""Endpoints controller and the Service proxies it feeds.

Endpoints: one object per Service with a selector; Ready, non-terminating pods are
``addresses``, the rest ``notReadyAddresses``. A terminating pod is dropped at once —
before the kubelet sends it SIGTERM — which is what makes draining work.

Every ClusterIP/NodePort/LoadBalancer Service gets one :class:`ServiceProxy` per port;
its address is published as ``status.loadBalancer.ingress: [{ip: 127.0.0.1, ports:
[{port: <proxy port>, protocol: TCP}, …]}]`` (one entry per Service port, same order),
which is how goldgate finds a Service's URL. The Service spec is never changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from goldgate.sandbox.controllers.kubelet import NODE_NAME, pod_ports
from goldgate.sandbox.controllers.podutil import Obj, is_deleting, is_ready
from goldgate.sandbox.controllers.probes import resolve_port
from goldgate.sandbox.controllers.proxy import ServiceProxy
from goldgate.sandbox.selectors import compile_label_selector, matches
from goldgate.sandbox.store import NotFound, Store, StoreError


def _target_port(svc_port: Obj, pod: Obj) -> int | None:
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for c in pod.get("spec", {}).get("containers") or []:
        found = resolve_port(target, c)
        if found is not None:
            return found
    return None


class ServiceController:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.proxies: dict[tuple[str, str], list[tuple[Obj, ServiceProxy]]] = {}
        self._managed: set[tuple[str, str]] = set()
        self._pending: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def reconcile(self, pods: list[Obj]) -> None:
        services, _ = self._store.list("services")
        live = set()
        for svc in services:
            key = (svc["metadata"].get("namespace", "default"), svc["metadata"]["name"])
            live.add(key)
            selector = svc.get("spec", {}).get("selector")
            if selector:
                self._sync_endpoints(svc, pods)
            self._sync_proxy(svc, key, pods)
        for key in list(self.proxies):
            if key not in live:
                for _port, proxy in self.proxies.pop(key):
                    self._spawn(proxy.close())
        for key in list(self._managed):
            if key not in live:
                self._managed.discard(key)
                with contextlib.suppress(NotFound):
                    self._store.delete("endpoints", key[0], key[1])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _selected(self, svc: Obj, pods: list[Obj]) -> list[Obj]:
        ns = svc["metadata"].get("namespace", "default")
        reqs = compile_label_selector({"matchLabels": svc["spec"]["selector"]})
        return [p for p in pods if p["metadata"].get("namespace") == ns
                and matches(reqs, p["metadata"].get("labels")) and not is_deleting(p)
                and p.get("status", {}).get("podIP")]

    # ---------------------------------------------------------------- Endpoints
    def _sync_endpoints(self, svc: Obj, pods: list[Obj]) -> None:
        meta = svc["metadata"]
        ns = meta.get("namespace", "default")
        selected = self._selected(svc, pods)
        publish_not_ready = svc["spec"].get("publishNotReadyAddresses", False)
        ready, not_ready = [], []
        for pod in sorted(selected, key=lambda p: p["metadata"]["name"]):
            address = {"ip": "127.0.0.1", "nodeName": NODE_NAME,
                       "targetRef": {"kind": "Pod", "namespace": ns,
                                     "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"]}}
            (ready if is_ready(pod) or publish_not_ready else not_ready).append(address)
        ports = []
        for sp in svc["spec"].get("ports") or []:
            target = _target_port(sp, selected[0]) if selected else None
            if target is None:
                target = sp.get("targetPort") if isinstance(sp.get("targetPort"), int) \
                    else sp.get("port")
            entry = {"port": int(target), "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        body: Obj = {"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": {"name": meta["name"], "namespace": ns,
                                  "labels": dict(meta.get("labels") or {})}}
        if subset:
            subset["ports"] = ports
            body["subsets"] = [subset]
        if not body["metadata"]["labels"]:
            del body["metadata"]["labels"]
        current = self._store.find("endpoints", ns, meta["name"])
        self._managed.add((ns, meta["name"]))
        try:
            if current is None:
                self._store.create("endpoints", body)
            elif current.get("subsets") != body.get("subsets") or \
                    current["metadata"].get("labels") != body["metadata"].get("labels"):
                def put(obj: Obj) -> None:
                    obj["subsets"] = body.get("subsets", [])
                    if not obj["subsets"]:
                        del obj["subsets"]
                    if "labels" in body["metadata"]:
                        obj["metadata"]["labels"] = body["metadata"]["labels"]

                self._store.mutate("endpoints", ns, meta["name"], put)
        except StoreError:
            pass

    # ---------------------------------------------------------------- proxies
    def _sync_proxy(self, svc: Obj, key: tuple[str, str], pods: list[Obj]) -> None:
        spec = svc.get("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            return
        ports = spec.get("ports") or []
        current = self.proxies.get(key)
        if current is None or [p for p, _ in current] != ports:
            if key in self._pending:
                return
            self._pending.add(key)
            self._spawn(self._rebuild(svc, key, current))
            return
        ready = [p for p in self._selected(svc, pods) if is_ready(p)] if spec.get("selector") else []
        for svc_port, proxy in current:
            backends = []
            for pod in sorted(ready, key=lambda p: p["metadata"]["name"]):
                target = _target_port(svc_port, pod)
                host = pod_ports(pod).get(target) if target is not None else None
                if host is not None:
                    backends.append((pod["metadata"]["name"], host))
            proxy.set_backends(backends)
        self._publish(svc, [proxy.port for _p, proxy in current])

    async def _rebuild(self, svc: Obj, key: tuple[str, str],
                       old: list[tuple[Obj, ServiceProxy]] | None) -> None:
        try:
            reuse = {(p.get("port"), p.get("protocol", "TCP")): proxy for p, proxy in old or []}
            fresh = []
            for sp in svc["spec"].get("ports") or []:
                proxy = reuse.pop((sp.get("port"), sp.get("protocol", "TCP")), None)
                if proxy is None:
                    proxy = ServiceProxy(f"{key[0]}/{key[1]}:{sp.get('port')}")
                    await proxy.start()
                fresh.append((sp, proxy))
            for proxy in reuse.values():
                await proxy.close()
            self.proxies[key] = fresh
        finally:
            self._pending.discard(key)
        self.on_change()

    def on_change(self) -> None:
        """Replaced by the Cluster: asks for another reconcile pass."""

    def _publish(self, svc: Obj, proxy_ports: list[int]) -> None:
        wanted = {"ingress": [{"ip": "127.0.0.1", "ports": [
            {"port": port, "protocol": sp.get("protocol", "TCP")}
            for port, sp in zip(proxy_ports, svc["spec"].get("ports") or [], strict=False)]}]}
        if (svc.get("status") or {}).get("loadBalancer") == wanted:
            return

        def put(obj: Obj) -> None:
            obj.setdefault("status", {})["loadBalancer"] = wanted

        with contextlib.suppress(StoreError):
            self._store.mutate("services", svc["metadata"].get("namespace"),
                               svc["metadata"]["name"], put, status_only=True)

    def url(self, namespace: str, name: str, port: int | None = None) -> str | None:
        for sp, proxy in self.proxies.get((namespace, name), []):
            if port is None or sp.get("port") == port:
                return f"http://127.0.0.1:{proxy.port}"
        return None

    async def stop(self) -> None:
        for entries in self.proxies.values():
            for _sp, proxy in entries:
                await proxy.close()
        self.proxies.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
