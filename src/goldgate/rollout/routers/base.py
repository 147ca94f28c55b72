"""What every canary traffic router offers the canary strategy, and the settings it reads.

A router is how a canary's share of requests is set (guide §2.2: 10 % → 50 % → 100 %).
The real mechanisms are the ones Flagger and Argo Rollouts drive — a Gateway API
HTTPRoute's backendRef weights, NGINX Ingress canary annotations — and the fallback a plain
Service leaves, the replica ratio. The canary strategy talks to all of them through
:class:`TrafficRouter`; every change a router makes is an action behind the safety policy
(:mod:`goldgate.actions.kubernetes`), so it lands in the audit record.

Settings come from the environment (``strategy.canary_traffic``, ``strategy.router``); until
the schema carries ``strategy.router`` they are read defensively, and no router means the
replica-ratio fallback, which says so in every phase's evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionResult

if TYPE_CHECKING:
    from goldgate.config import Environment
    from goldgate.probes.kubernetes import KubeClients
    from goldgate.rollout.base import RolloutContext

__all__ = ["PhaseSplit", "RouterSettings", "TrafficRouter", "WeightedRouter", "router_settings"]

HASH_LABEL = "pod-template-hash"
#: the label that sets the canary Deployment's pods apart (see :mod:`goldgate.rollout.canary`)
CANARY_LABEL = ("track", "canary")
#: kinds of ``strategy.router.kind`` / ``strategy.canary_traffic`` a router exists for
ROUTER_KINDS = ("gateway-api", "ingress", "replicas")


@dataclass(frozen=True)
class RouterSettings:
    """Which object carries the weights and which Services are the two sides of the split."""

    kind: str
    name: str
    namespace: str
    stable_service: str
    canary_service: str


def _field(raw: Any, name: str) -> Any:
    if isinstance(raw, Mapping):
        return raw.get(name)
    return getattr(raw, name, None)


def router_settings(env: Environment) -> RouterSettings | None:
    """``strategy.router`` with its defaults, or None when the environment names no router.

    Defaults: the route (or canary Ingress) is named after the Service and lives in the
    Deployment's namespace; the stable side is ``kubernetes.service``, the canary side
    ``<service>-canary``; the kind is ``strategy.canary_traffic`` unless the router says.
    """
    raw = getattr(env.strategy, "router", None)
    if raw is None:
        return None
    traffic = getattr(env.strategy, "canary_traffic", "replicas")
    kind = _field(raw, "kind") or (traffic if traffic != "replicas" else "gateway-api")
    service = env.kubernetes.service
    return RouterSettings(
        kind=str(kind),
        name=str(_field(raw, "name") or service),
        namespace=str(_field(raw, "namespace") or env.kubernetes.namespace),
        stable_service=str(_field(raw, "stable_service") or service),
        canary_service=str(_field(raw, "canary_service") or f"{service}-canary"),
    )


@dataclass(frozen=True)
class PhaseSplit:
    """One phase as a router realises it: pods on each side and the canary's real share."""

    weight: int
    canary_pods: int
    stable_pods: int
    effective_weight: float
    mechanism: str

    @property
    def stable_serves(self) -> bool:
        """Whether stable pods still take requests (the canary's baseline is then live)."""
        return self.stable_pods > 0 and self.effective_weight < 100


class TrafficRouter(Protocol):
    """The one small interface of a canary router."""

    mechanism: str

    def describe(self) -> str:
        """What carries the weights, for notes and evidence."""
        ...

    def split(self, replicas: int, weight: int) -> PhaseSplit:
        """Pods and real share a phase of ``weight`` % gets with ``replicas`` stable replicas."""
        ...

    def prepare(self, ctx: RolloutContext, stable_hash: str) -> list[ActionResult]:
        """Before the first phase: each side sees only its own pods; the canary has weight 0."""
        ...

    def shift(self, ctx: RolloutContext, canary: str, replicas: int, weight: int,
              canary_ready: Callable[[int], bool]) -> list[ActionResult]:
        """Give the canary ``weight`` %, starting its pods first (``canary_ready(n)`` waits for them)."""
        ...

    def withdraw(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        """Canary weight 0: no request reaches the canary any more (before it is scaled down)."""
        ...

    def release(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        """After the canary is gone (or runs as stable): undo what :meth:`prepare` pinned."""
        ...

    def entry_url(self, kube: KubeClients, default: str) -> str:
        """Where clients' requests enter, so that generated traffic takes the router's path."""
        ...


def canary_pods(replicas: int, weight: int) -> int:
    """Canary pods for a weighted phase: the weight's share of the stable size, at least one.

    Argo Rollouts' default: with traffic split at the router the canary only needs the
    capacity of its share (10 % of 3 replicas → 1 pod), and the stable side keeps all of
    its pods until promotion, so a rollback never waits for capacity.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    if not 0 < weight <= 100:
        raise ValueError(f"weight must be in 1..100, got {weight}")
    return max(1, math.ceil(replicas * weight / 100))


class WeightedRouter:
    """A router that splits at a proxy by weight; subclasses say how a weight is written."""

    mechanism = "weight"

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    def describe(self) -> str:
        s = self.settings
        return f"{self.mechanism} {s.namespace}/{s.name} (stable {s.stable_service}, canary {s.canary_service})"

    def split(self, replicas: int, weight: int) -> PhaseSplit:
        return PhaseSplit(weight, canary_pods(replicas, weight), replicas, float(weight), self.describe())

    def set_weight(self, ctx: RolloutContext, weight: int, reason: str) -> ActionResult:
        raise NotImplementedError

    def prepare(self, ctx: RolloutContext, stable_hash: str) -> list[ActionResult]:
        """Weight 0, then each Service narrowed to its own side (Argo Rollouts' selector pinning).

        Between releases both Services select the stable pods, so both have endpoints and the
        canary's weight 0 sends nothing anywhere new; during a canary the stable Service
        selects the stable ReplicaSet's hash and the canary Service the canary's label.
        """
        s = self.settings
        done = [self.set_weight(ctx, 0, "canary starts at weight 0")]
        if stable_hash:
            done.append(actions.set_selector_labels(
                ctx.kube, ctx.safety, s.namespace, s.stable_service, {HASH_LABEL: stable_hash},
                reason="canary: the stable Service selects only the stable pods"))
        done.append(actions.set_selector_labels(
            ctx.kube, ctx.safety, s.namespace, s.canary_service, {CANARY_LABEL[0]: CANARY_LABEL[1]},
            reason="canary: the canary Service selects only the canary pods"))
        return done

    def shift(self, ctx: RolloutContext, canary: str, replicas: int, weight: int,
              canary_ready: Callable[[int], bool]) -> list[ActionResult]:
        pods = self.split(replicas, weight).canary_pods
        done = [actions.scale(ctx.kube, ctx.safety, ctx.namespace, canary, pods,
                              reason=f"canary pods for {weight} % of traffic")]
        if not canary_ready(pods):
            return done  # weight unchanged: the canary never took traffic it could not serve
        done.append(self.set_weight(ctx, weight, f"canary phase {weight} %"))
        return done

    def withdraw(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        return [self.set_weight(ctx, 0, reason)]

    def release(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        s = self.settings
        return [actions.set_selector_labels(ctx.kube, ctx.safety, s.namespace, s.stable_service,
                                            {HASH_LABEL: None}, reason=reason),
                actions.set_selector_labels(ctx.kube, ctx.safety, s.namespace, s.canary_service,
                                            {CANARY_LABEL[0]: None}, reason=reason)]

    def entry_url(self, kube: KubeClients, default: str) -> str:
        return default
