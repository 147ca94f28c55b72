"""Replica-ratio fallback: no router, so the canary's share is its fraction of the Service's pods.

A plain Service balances over Ready pods, so a canary beside the stable Deployment gets
``canary / (canary + stable)`` of the requests (:func:`goldgate.actions.manifests.canary_split`).
With the guide's 3 replicas the phases come out as 25 / 50 / 100 % instead of 10 / 50 / 100,
so every phase reports its effective weight and names this fallback and why it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionResult
from goldgate.actions.manifests import canary_split
from goldgate.rollout.routers.base import PhaseSplit

if TYPE_CHECKING:
    from goldgate.probes.kubernetes import KubeClients
    from goldgate.rollout.base import RolloutContext

__all__ = ["ReplicaRatio"]


class ReplicaRatio:
    mechanism = "replica ratio"

    def __init__(self, why: str = "no strategy.router configured") -> None:
        self.why = why

    def describe(self) -> str:
        return f"replica ratio behind one Service (fallback: {self.why})"

    def split(self, replicas: int, weight: int) -> PhaseSplit:
        s = canary_split(replicas, weight)
        return PhaseSplit(weight, s.canary, s.stable, s.effective_weight, self.describe())

    def prepare(self, ctx: RolloutContext, stable_hash: str) -> list[ActionResult]:
        return []

    def shift(self, ctx: RolloutContext, canary: str, replicas: int, weight: int,
              canary_ready: Callable[[int], bool]) -> list[ActionResult]:
        return [actions.set_canary_weight(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, canary, replicas,
                                          weight, canary_ready=canary_ready)]

    def withdraw(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        return []  # the rollback restores the stable size before the canary goes

    def release(self, ctx: RolloutContext, reason: str) -> list[ActionResult]:
        return []

    def entry_url(self, kube: KubeClients, default: str) -> str:
        return default
