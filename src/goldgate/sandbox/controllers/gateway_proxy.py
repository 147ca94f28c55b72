"""A Gateway listener's data path: per request, a backend Service by weight, then a Ready pod.

It is a :class:`~goldgate.sandbox.controllers.proxy.ServiceProxy` whose backend choice
has two steps, as an HTTPRoute implementation's has:

1. the route's backendRefs are chosen by their weights with a smooth weighted round robin
   (:mod:`goldgate.sandbox.controllers.weighted` says why not weighted random);
2. within the chosen Service, its Ready endpoints are taken in turn — the very lists the
   Service's own proxy uses, so a terminating pod leaves the gateway at the same moment it
   leaves the Service.

The relay (connection draining, idle keep-alive closes, one replay of an idempotent request
on another pod) is the Service proxy's, unchanged. Unlike a Service proxy, which keeps a
connection's pod while it is serving, a gateway balances every request: at each request
boundary the relay asks for a new backend, so a kept-alive client's requests follow the
weights too. A chosen backendRef without a Ready endpoint, or a route whose weights are all
0, gets its connection closed unanswered — the client counts it as failed, as it would count
a real gateway's 503 "no healthy upstream".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goldgate.sandbox.controllers.proxy import ServiceProxy
from goldgate.sandbox.controllers.weighted import SmoothWeightedRoundRobin

__all__ = ["GatewayProxy", "WeightedBackend"]

Endpoint = tuple[str, int]  # (pod name, host port)


@dataclass(frozen=True)
class WeightedBackend:
    """One backendRef as the proxy sees it: a name (``namespace/service:port``), its weight, its Ready pods."""

    name: str
    weight: int
    endpoints: tuple[Endpoint, ...]


class GatewayProxy(ServiceProxy):
    """One listener of one Gateway, on its own loopback port."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.routes: list[WeightedBackend] = []
        self._wrr: SmoothWeightedRoundRobin[str] = SmoothWeightedRoundRobin()
        self._turn: dict[str, int] = {}
        #: requests routed per backendRef name since the proxy started (what the bench reads).
        self.routed: dict[str, int] = {}

    def set_routes(self, backends: Sequence[WeightedBackend]) -> None:
        self.routes = list(backends)
        self._wrr.set([(b.name, b.weight) for b in self.routes])
        # The Service proxy's view: every pod any backendRef may reach (for retries and draining).
        self.set_backends(sorted({e for b in self.routes for e in b.endpoints}))

    def serving(self, backend: Endpoint | None) -> bool:
        """Never keep a connection's pod across requests: each request is routed afresh."""
        return False

    def _pick(self, avoid: Endpoint | None = None) -> Endpoint | None:
        name = self._wrr.next()
        if name is None:
            return None
        chosen = next(b for b in self.routes if b.name == name)
        self.routed[name] = self.routed.get(name, 0) + 1
        candidates = [e for e in chosen.endpoints if e != avoid] or list(chosen.endpoints)
        if not candidates:
            return None
        turn = (self._turn.get(name, -1) + 1) % len(candidates)
        self._turn[name] = turn
        return candidates[turn]
