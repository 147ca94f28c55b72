"""Gateway API router: the canary's share is the canary backendRef's weight on an HTTPRoute.

The route has two backendRefs, the stable and the canary Service; a phase of ``w`` % sets
them to ``100 - w`` and ``w`` in one patch (Flagger's and Argo Rollouts' Gateway API
plugin do the same). Weights are relative in Gateway API, so they are written as percents
that always add up to 100 and the share is exact at any gateway.

Examples::

    router = GatewayApiRouter(RouterSettings("gateway-api", "trading-bot", "trading",
                                             "trading-bot", "trading-bot-canary"))
    router.set_weight(ctx, 10, "canary phase 10 %")    # stable 90, canary 10
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionResult
from goldgate.probes.kubernetes import KubernetesUnavailable, gateway_url
from goldgate.rollout.routers.base import WeightedRouter

if TYPE_CHECKING:
    from goldgate.probes.kubernetes import KubeClients
    from goldgate.rollout.base import RolloutContext

__all__ = ["GatewayApiRouter"]


class GatewayApiRouter(WeightedRouter):
    mechanism = "HTTPRoute"

    def set_weight(self, ctx: RolloutContext, weight: int, reason: str) -> ActionResult:
        s = self.settings
        return actions.set_route_weights(ctx.kube, ctx.safety, s.namespace, s.name,
                                         {s.stable_service: 100 - weight, s.canary_service: weight}, reason=reason)

    def entry_url(self, kube: KubeClients, default: str) -> str:
        """The route's Gateway address; ``default`` when the Gateway publishes none yet."""
        try:
            return gateway_url(kube, self.settings.namespace, self.settings.name)
        except KubernetesUnavailable:
            return default
