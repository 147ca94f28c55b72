"""Canary traffic routers, one module per mechanism, behind one small interface.

* :mod:`~goldgate.rollout.routers.gateway_api` — Gateway API HTTPRoute backendRef weights
* :mod:`~goldgate.rollout.routers.ingress`     — NGINX Ingress ``canary`` / ``canary-weight``
* :mod:`~goldgate.rollout.routers.replicas`    — the replica-ratio fallback (no router)

:func:`router_for` picks one from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goldgate.rollout.routers.base import (
    ROUTER_KINDS,
    PhaseSplit,
    RouterSettings,
    TrafficRouter,
    router_settings,
)
from goldgate.rollout.routers.gateway_api import GatewayApiRouter
from goldgate.rollout.routers.ingress import IngressRouter
from goldgate.rollout.routers.replicas import ReplicaRatio

if TYPE_CHECKING:
    from goldgate.config import Environment
    from goldgate.probes.kubernetes import KubeClients

__all__ = ["PhaseSplit", "RouterSettings", "TrafficRouter", "UnknownRouter", "entry_url", "router_for"]


class UnknownRouter(ValueError):  # noqa: N818 - reads as the condition
    """``strategy.router.kind`` names no router goldgate has; the message lists those it has."""


def router_for(env: Environment) -> TrafficRouter:
    """The environment's router; the replica-ratio fallback when it names none.

    Raises :class:`UnknownRouter` for a mechanism goldgate cannot drive (a service mesh)
    or a router kind that needs ``strategy.router`` and has none: splitting by replica
    ratio instead would silently put another share of traffic at risk than the one asked for.
    """
    settings = router_settings(env)
    traffic = getattr(env.strategy, "canary_traffic", "replicas")
    if settings is None:
        if traffic != "replicas":
            raise UnknownRouter(f"{env.source_file}: strategy.canary_traffic {traffic!r} needs strategy.router "
                                "(the HTTPRoute or canary Ingress that carries the weights)")
        return ReplicaRatio("no strategy.router configured")
    if settings.kind == "gateway-api":
        return GatewayApiRouter(settings)
    if settings.kind == "ingress":
        return IngressRouter(settings)
    if settings.kind == "replicas":
        return ReplicaRatio("strategy.router.kind is 'replicas'")
    raise UnknownRouter(f"{env.source_file}: strategy.router.kind {settings.kind!r}: "
                        f"goldgate routes canary traffic by {', '.join(ROUTER_KINDS)}")


def entry_url(env: Environment, kube: KubeClients, default: str) -> str:
    """Where the bot's clients enter: the router's address (a route's Gateway), else ``default``.

    Generated rollout traffic must take the same path as users' requests, or a weight set on
    a route would split nothing. An environment whose router cannot be used keeps ``default``;
    the canary itself reports why it does not run.
    """
    try:
        return router_for(env).entry_url(kube, default)
    except UnknownRouter:
        return default
