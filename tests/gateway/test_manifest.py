"""deploy/k8s/50-gateway.yaml: the bot's Gateway, its HTTPRoute and the canary Service, as Gateway API v1 defines them.

kubernetes-validate knows only built-in kinds, so the Gateway API documents are checked here
against the rules of the v1 CRDs the canary relies on; the Service goes through the built-in
schema like every other manifest.
"""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "50-gateway.yaml").read_text()))


def _doc(kind: str) -> dict[str, Any]:
    return next(d for d in DOCS if d["kind"] == kind)


def test_gateway_has_one_http_listener_for_same_namespace_routes() -> None:
    gw = _doc("Gateway")
    assert gw["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gw["metadata"] == {"name": "trading-bot", "namespace": "trading", "labels": {"app": "trading-bot"}}
    assert gw["spec"]["gatewayClassName"]
    (listener,) = gw["spec"]["listeners"]
    assert listener["protocol"] == "HTTP" and 1 <= listener["port"] <= 65535 and listener["name"] == "http"
    assert listener["allowedRoutes"]["namespaces"]["from"] == "Same"


def test_route_splits_between_the_stable_and_the_canary_service_all_on_stable() -> None:
    route = _doc("HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "trading-bot", "sectionName": "http"}]
    (rule,) = route["spec"]["rules"]
    refs = {r["name"]: r for r in rule["backendRefs"]}
    assert set(refs) == {"trading-bot", "trading-bot-canary"}
    assert all(0 <= r["weight"] <= 1_000_000 and r["port"] == 80 for r in refs.values())  # the CRD's bounds
    assert (refs["trading-bot"]["weight"], refs["trading-bot-canary"]["weight"]) == (100, 0)


def test_canary_service_selects_the_stable_pods_between_releases_on_the_same_ports() -> None:
    import kubernetes_validate

    canary = _doc("Service")
    kubernetes_validate.validate(canary, "1.37", strict=True)
    stable = yaml.safe_load((ROOT / "deploy" / "k8s" / "30-service.yaml").read_text())
    assert canary["spec"]["selector"] == stable["spec"]["selector"]  # narrowed to track=canary only during a canary
    assert canary["spec"]["ports"] == stable["spec"]["ports"]
