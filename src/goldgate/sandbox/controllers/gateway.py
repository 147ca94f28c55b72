"""Gateway API controller: programs every Gateway's listeners from the HTTPRoutes attached to it.

What a Gateway API implementation (Envoy Gateway, Istio, NGINX Gateway Fabric) does, cut to
what the canary needs:

* every ``Gateway`` gets one :class:`GatewayProxy` per HTTP listener, on a loopback port.
  Its status is what real implementations publish — ``status.addresses: [{type:
  IPAddress, value: 127.0.0.1}]``, ``Accepted``/``Programmed`` conditions, and per listener
  ``supportedKinds``, ``attachedRoutes`` and conditions. A listener status carries no port
  in Gateway API, and the proxy cannot bind the listener's own port (80), so the loopback
  port is published in the annotation :data:`LISTENER_PORTS` (``http=41234,admin=41235``),
  the way a port mapping in front of a gateway would be described;
* every ``HTTPRoute`` whose ``parentRefs`` name a Gateway (same namespace unless the ref
  says otherwise; ``sectionName`` picks one listener) feeds that listener: its backendRefs
  (kind Service, ``port``, ``weight`` default 1, Gateway API's defaults) are resolved to the
  Ready endpoints of that Service port, taken from the Service controller, so draining is the
  Service proxies' own. Routes are applied in creation order; the first rule of the first
  route wins. Request matches (paths, headers) are not evaluated: the bot's route has one
  rule for every path, and a sandbox that pretended otherwise would prove nothing;
* every route gets ``status.parents`` with ``Accepted`` and ``ResolvedRefs`` (False with
  ``BackendNotFound`` naming the missing Service), under :data:`CONTROLLER_NAME`.

Weights change by patching the route (``kubectl patch httproute``), as Flagger and Argo
Rollouts do; the next request already follows the new weights.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from goldgate.sandbox.controllers.gateway_proxy import GatewayProxy, WeightedBackend
from goldgate.sandbox.controllers.podutil import Obj
from goldgate.sandbox.controllers.services import ServiceController
from goldgate.sandbox.store import Store, StoreError, now_rfc3339

__all__ = ["CONTROLLER_NAME", "LISTENER_PORTS", "GatewayController"]

CONTROLLER_NAME = "goldgate.io/sandbox-gateway"
LISTENER_PORTS = "gateway.goldgate.io/listener-ports"
GROUP = "gateway.networking.k8s.io"
_ROUTABLE = ("HTTP",)

Key = tuple[str, str]


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", "default"), obj["metadata"]["name"]


def _condition(ctype: str, ok: bool, reason: str, message: str, generation: int, previous: list[Obj]) -> Obj:
    """A metav1.Condition; lastTransitionTime kept while the status does not change."""
    status = "True" if ok else "False"
    old = next((c for c in previous if c.get("type") == ctype), None)
    since = old.get("lastTransitionTime") if old and old.get("status") == status else now_rfc3339()
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": since}


def _attaches(route: Obj, gateway: Key) -> list[str | None]:
    """The listeners of ``gateway`` a route names (None = every listener)."""
    ns = route["metadata"].get("namespace", "default")
    out: list[str | None] = []
    for ref in (route.get("spec") or {}).get("parentRefs") or []:
        if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway" or ref.get("group", GROUP) != GROUP:
            continue
        if (ref.get("namespace") or ns, ref.get("name")) == gateway:
            out.append(ref.get("sectionName"))
    return out


class GatewayController:
    """Level-triggered: each pass rebuilds every listener's weighted backends from the store."""

    def __init__(self, store: Store, services: ServiceController) -> None:
        self._store = store
        self._services = services
        self.proxies: dict[tuple[str, str, str], GatewayProxy] = {}  # (namespace, gateway, listener)
        self._pending: set[tuple[str, str, str]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_change(self) -> None:
        """Replaced by the Cluster: asks for another reconcile pass."""

    # ---------------------------------------------------------------- reconcile
    def reconcile(self) -> None:
        gateways, _ = self._store.list("gateways")
        routes, _ = self._store.list("httproutes")
        routes.sort(key=lambda r: (r["metadata"].get("creationTimestamp", ""), _key(r)))
        live: set[tuple[str, str, str]] = set()
        resolved: dict[Key, list[Obj]] = {}
        for gw in gateways:
            gkey = _key(gw)
            attached: dict[str, int] = {}
            for listener in (gw.get("spec") or {}).get("listeners") or []:
                if not isinstance(listener, dict):
                    continue
                lname = str(listener.get("name", ""))
                if listener.get("protocol", "HTTP") not in _ROUTABLE:
                    continue
                pkey = (*gkey, lname)
                live.add(pkey)
                proxy = self.proxies.get(pkey)
                if proxy is None:
                    self._start(pkey)
                    continue
                mine = [r for r in routes if any(s in (None, lname) for s in _attaches(r, gkey))]
                attached[lname] = len(mine)
                backends: list[WeightedBackend] = []
                if mine:
                    backends, problems = self._backends(mine[0])
                    resolved.setdefault(_key(mine[0]), []).extend(problems)
                proxy.set_routes(backends)
            self._publish_gateway(gw, attached)
        for route in routes:
            self._publish_route(route, gateways, resolved.get(_key(route), []))
        for pkey in list(self.proxies):
            if pkey not in live:
                self._spawn(self.proxies.pop(pkey).close())

    def _backends(self, route: Obj) -> tuple[list[WeightedBackend], list[str]]:
        ns = route["metadata"].get("namespace", "default")
        rules = (route.get("spec") or {}).get("rules") or []
        refs = (rules[0].get("backendRefs") or []) if rules and isinstance(rules[0], dict) else []
        out: list[WeightedBackend] = []
        problems: list[str] = []
        for ref in refs:
            if not isinstance(ref, dict) or ref.get("kind", "Service") != "Service" or ref.get("group", "") != "":
                problems.append(f"backendRef {ref!r}: only core Services are supported")
                continue
            svc_ns = ref.get("namespace") or ns
            name = str(ref.get("name", ""))
            port = ref.get("port")
            try:
                weight = int(ref.get("weight", 1))
            except (TypeError, ValueError):
                problems.append(f"backendRef {name}: weight {ref.get('weight')!r} is not an integer")
                weight = 0
            endpoints = self._endpoints(svc_ns, name, port)
            if endpoints is None:
                problems.append(f"Service {svc_ns}/{name} port {port} not found")
                endpoints = ()
            out.append(WeightedBackend(f"{svc_ns}/{name}:{port}", weight, endpoints))
        return out, problems

    def _endpoints(self, namespace: str, name: str, port: Any) -> tuple[tuple[str, int], ...] | None:
        entries = self._services.proxies.get((namespace, name))
        if entries is None:
            return None
        for svc_port, proxy in entries:
            if port is None or svc_port.get("port") == port:
                return tuple(proxy.backends)
        return None

    # ---------------------------------------------------------------- proxies
    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start(self, pkey: tuple[str, str, str]) -> None:
        if pkey in self._pending:
            return
        self._pending.add(pkey)

        async def _open() -> None:
            try:
                proxy = GatewayProxy(f"gateway {pkey[0]}/{pkey[1]} listener {pkey[2]}")
                await proxy.start()
                self.proxies[pkey] = proxy
            finally:
                self._pending.discard(pkey)
            self.on_change()

        self._spawn(_open())

    def url(self, namespace: str, gateway: str, listener: str | None = None) -> str | None:
        for (ns, name, lname), proxy in self.proxies.items():
            if (ns, name) == (namespace, gateway) and listener in (None, lname):
                return f"http://127.0.0.1:{proxy.port}"
        return None

    async def stop(self) -> None:
        for proxy in self.proxies.values():
            await proxy.close()
        self.proxies.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---------------------------------------------------------------- status
    def _publish_gateway(self, gw: Obj, attached: dict[str, int]) -> None:
        ns, name = _key(gw)
        gen = gw["metadata"].get("generation", 1)
        old = gw.get("status") or {}
        ports = {lname: p.port for (pns, pname, lname), p in self.proxies.items() if (pns, pname) == (ns, name)}
        listeners = []
        for listener in (gw.get("spec") or {}).get("listeners") or []:
            if not isinstance(listener, dict):
                continue
            lname = str(listener.get("name", ""))
            prev = next((x.get("conditions") or [] for x in old.get("listeners") or [] if x.get("name") == lname), [])
            routable = listener.get("protocol", "HTTP") in _ROUTABLE
            up = lname in ports
            listeners.append({
                "name": lname,
                "supportedKinds": [{"group": GROUP, "kind": "HTTPRoute"}] if routable else [],
                "attachedRoutes": attached.get(lname, 0),
                "conditions": [
                    _condition("Accepted", routable, "Accepted" if routable else "UnsupportedProtocol",
                               "" if routable else f"protocol {listener.get('protocol')} is not served", gen, prev),
                    _condition("Programmed", up, "Programmed" if up else "Pending", "", gen, prev),
                    _condition("ResolvedRefs", True, "ResolvedRefs", "", gen, prev),
                ],
            })
        programmed = bool(ports)
        prev = old.get("conditions") or []
        status = {
            "addresses": [{"type": "IPAddress", "value": "127.0.0.1"}] if programmed else [],
            "conditions": [
                _condition("Accepted", True, "Accepted", "", gen, prev),
                _condition("Programmed", programmed, "Programmed" if programmed else "Pending",
                           "" if programmed else "listeners are starting", gen, prev),
            ],
            "listeners": listeners,
        }
        note = ",".join(f"{lname}={port}" for lname, port in sorted(ports.items()))
        if old != status:
            def put_status(obj: Obj) -> None:
                obj["status"] = status

            with contextlib.suppress(StoreError):
                self._store.mutate("gateways", ns, name, put_status, status_only=True)
        if note and (gw["metadata"].get("annotations") or {}).get(LISTENER_PORTS) != note:
            def put_note(obj: Obj) -> None:
                obj["metadata"].setdefault("annotations", {})[LISTENER_PORTS] = note

            with contextlib.suppress(StoreError):
                self._store.mutate("gateways", ns, name, put_note)

    def _publish_route(self, route: Obj, gateways: list[Obj], problems: list[str]) -> None:
        ns, name = _key(route)
        gen = route["metadata"].get("generation", 1)
        problems = list(dict.fromkeys(problems))
        known = {_key(g) for g in gateways}
        old = route.get("status") or {}
        parents = []
        for ref in (route.get("spec") or {}).get("parentRefs") or []:
            if not isinstance(ref, dict):
                continue
            gkey = (ref.get("namespace") or ns, str(ref.get("name", "")))
            prev = next((p.get("conditions") or [] for p in old.get("parents") or []
                         if p.get("parentRef") == ref), [])
            found = gkey in known
            parents.append({
                "parentRef": ref,
                "controllerName": CONTROLLER_NAME,
                "conditions": [
                    _condition("Accepted", found, "Accepted" if found else "NoMatchingParent",
                               "" if found else f"Gateway {gkey[0]}/{gkey[1]} not found", gen, prev),
                    _condition("ResolvedRefs", not problems, "ResolvedRefs" if not problems else "BackendNotFound",
                               "; ".join(problems), gen, prev),
                ],
            })
        status = {"parents": parents}
        if old == status:
            return

        def put(obj: Obj) -> None:
            obj["status"] = status

        with contextlib.suppress(StoreError):
            self._store.mutate("httproutes", ns, name, put, status_only=True)
