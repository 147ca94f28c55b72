"""NGINX Ingress router: the canary Ingress's ``canary-weight`` annotation is the canary's share.

ingress-nginx splits by a second Ingress for the same host and path, pointing at the canary
Service and annotated ``nginx.ingress.kubernetes.io/canary: "true"`` with
``canary-weight: "<0..100>"``; the main Ingress keeps pointing at the stable Service.
``strategy.router.name`` names that canary Ingress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionResult
from goldgate.rollout.routers.base import WeightedRouter

if TYPE_CHECKING:
    from goldgate.rollout.base import RolloutContext

__all__ = ["IngressRouter"]


class IngressRouter(WeightedRouter):
    mechanism = "NGINX Ingress canary"

    def set_weight(self, ctx: RolloutContext, weight: int, reason: str) -> ActionResult:
        s = self.settings
        return actions.set_ingress_canary_weight(ctx.kube, ctx.safety, s.namespace, s.name, weight, reason=reason)
