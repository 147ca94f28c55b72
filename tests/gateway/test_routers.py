"""Which router the environment picks, its defaults, and how each realises a phase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldgate.config import Environment, load_environment
from goldgate.rollout.routers import UnknownRouter, router_for
from goldgate.rollout.routers.base import canary_pods
from goldgate.rollout.routers.gateway_api import GatewayApiRouter
from goldgate.rollout.routers.ingress import IngressRouter
from goldgate.rollout.routers.replicas import ReplicaRatio

ROOT = Path(__file__).resolve().parents[2]


def env_with(router: Any = None, traffic: str | None = None) -> Environment:
    env = load_environment("local", ROOT / "environments")
    update: dict[str, Any] = {"router": router}  # local.yaml names the sandbox's route: start from none
    if traffic is not None:
        update["canary_traffic"] = traffic
    return env.model_copy(update={"strategy": env.strategy.model_copy(update=update)})


def test_no_router_is_the_replica_ratio_fallback_and_says_so() -> None:
    router = router_for(env_with())
    assert isinstance(router, ReplicaRatio)
    split = router.split(3, 10)
    assert (split.canary_pods, split.stable_pods, round(split.effective_weight)) == (1, 3, 25)
    assert "fallback: no strategy.router configured" in split.mechanism


def test_a_named_route_gets_the_gateway_api_router_with_defaults() -> None:
    router = router_for(env_with({"name": "trading-bot"}))
    assert isinstance(router, GatewayApiRouter)
    s = router.settings
    assert (s.kind, s.name, s.namespace, s.stable_service, s.canary_service) == (
        "gateway-api", "trading-bot", "trading", "trading-bot", "trading-bot-canary")
    split = router.split(3, 10)
    assert (split.canary_pods, split.stable_pods, split.effective_weight) == (1, 3, 10.0)
    assert split.stable_serves and not router.split(3, 100).stable_serves
    assert router.describe() == "HTTPRoute trading/trading-bot (stable trading-bot, canary trading-bot-canary)"


def test_ingress_router_from_the_router_kind_or_canary_traffic() -> None:
    assert isinstance(router_for(env_with({"kind": "ingress", "name": "bot-canary"})), IngressRouter)
    chosen = router_for(env_with({"name": "bot-canary"}, traffic="ingress"))
    assert isinstance(chosen, IngressRouter) and chosen.settings.name == "bot-canary"


@pytest.mark.parametrize(("router", "traffic", "message"), [
    (None, "ingress", "strategy.canary_traffic 'ingress' needs strategy.router"),
    ({"name": "x"}, "service-mesh", "strategy.router.kind 'service-mesh'"),
    ({"kind": "linkerd", "name": "x"}, None, "strategy.router.kind 'linkerd': goldgate routes canary traffic by"),
])
def test_a_router_goldgate_cannot_drive_is_refused_naming_the_file(router: Any, traffic: str | None,
                                                                   message: str) -> None:
    with pytest.raises(UnknownRouter, match=message) as info:
        router_for(env_with(router, traffic))
    assert "local.yaml" in str(info.value)


@pytest.mark.parametrize(("replicas", "weight", "pods"), [(3, 10, 1), (3, 50, 2), (3, 100, 3), (10, 10, 1),
                                                          (10, 25, 3), (1, 1, 1)])
def test_canary_pods_cover_the_weight_share(replicas: int, weight: int, pods: int) -> None:
    assert canary_pods(replicas, weight) == pods


def test_canary_pods_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="weight"):
        canary_pods(3, 0)
    with pytest.raises(ValueError, match="replicas"):
        canary_pods(0, 10)
