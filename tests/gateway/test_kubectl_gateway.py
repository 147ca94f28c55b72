"""Gateway API and Ingress objects on the sandbox's API server, through kubectl and goldgate's actions.

kubectl 1.37 must discover, apply, get and patch them as on a cluster with the Gateway API
CRDs installed; the weight changes goldgate makes are actions: refused without
``--allow-mutations``, recorded (with the weights they replaced) for the audit trail.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.actions.base import ActionFailed
from goldgate.config import KubernetesTarget
from goldgate.probes.kubernetes import (
    GATEWAY_LISTENER_PORTS,
    KubeClients,
    KubernetesUnavailable,
    connect,
    gateway_url,
)
from goldgate.safety import MutationRefused, SafetyPolicy
from tests.sandbox.conftest import ApiHarness

ROOT = pathlib.Path(__file__).resolve().parents[2]
GATEWAY_YAML = ROOT / "deploy" / "k8s" / "50-gateway.yaml"
NS = "trading"


@pytest.fixture
def kube(api: ApiHarness) -> Any:
    clients = connect(KubernetesTarget(kubeconfig=str(api.kubeconfig), namespace=NS), str(api.kubeconfig))
    yield clients
    clients.close()


def _route(api: ApiHarness) -> dict[str, Any]:
    return api.call(api.store.get, "httproutes", NS, "trading-bot")


def _weights(api: ApiHarness) -> dict[str, int]:
    return {r["name"]: r["weight"] for r in _route(api)["spec"]["rules"][0]["backendRefs"]}


def test_discovery_lists_gateway_api_and_ingress(api: ApiHarness) -> None:
    out = api.kubectl("api-resources", check=True).stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["gateways"][1:] == ["gtw", "gateway.networking.k8s.io/v1", "true", "Gateway"]
    assert rows["httproutes"][1:] == ["gateway.networking.k8s.io/v1", "true", "HTTPRoute"]
    assert rows["ingresses"][1:] == ["ing", "networking.k8s.io/v1", "true", "Ingress"]


def test_kubectl_applies_gets_and_patches_the_bots_route(api: ApiHarness) -> None:
    first = api.kubectl("apply", "-f", str(GATEWAY_YAML), check=True).stdout
    assert "gateway.gateway.networking.k8s.io/trading-bot created" in first
    assert "httproute.gateway.networking.k8s.io/trading-bot created" in first
    assert "service/trading-bot-canary created" in first
    again = api.kubectl("apply", "-f", str(GATEWAY_YAML), check=True).stdout
    assert "httproute.gateway.networking.k8s.io/trading-bot unchanged" in again
    listed = api.kubectl("get", "gateway,httproute", check=True).stdout
    assert "gateway.gateway.networking.k8s.io/trading-bot" in listed and "httproute" in listed
    api.kubectl("patch", "httproute", "trading-bot", "--type=json", "-p",
                json.dumps([{"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 10},
                            {"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": 90}]),
                check=True)
    got = api.kubectl("get", "httproute", "trading-bot", "-o",
                      "jsonpath={.spec.rules[0].backendRefs[*].weight}", check=True).stdout
    assert got == "90 10"
    api.kubectl("patch", "gateway", "trading-bot", "--type=merge", "-p",
                '{"metadata":{"labels":{"tier":"edge"}}}', check=True)
    assert api.call(api.store.get, "gateways", NS, "trading-bot")["metadata"]["labels"]["tier"] == "edge"


def test_route_weights_are_an_audited_action_behind_the_safety_policy(api: ApiHarness, kube: KubeClients) -> None:
    api.kubectl("apply", "-f", str(GATEWAY_YAML), check=True)
    read_only = SafetyPolicy("local", production=False)
    with pytest.raises(MutationRefused, match="--allow-mutations"):
        actions.set_route_weights(kube, read_only, NS, "trading-bot", {"trading-bot": 90, "trading-bot-canary": 10})
    assert _weights(api) == {"trading-bot": 100, "trading-bot-canary": 0} and not read_only.actions

    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    done = actions.set_route_weights(kube, safety, NS, "trading-bot", {"trading-bot": 90, "trading-bot-canary": 10},
                                     reason="canary phase 10 %")
    assert _weights(api) == {"trading-bot": 90, "trading-bot-canary": 10}
    assert done.outcome == "done" and done.details["previous_weights"] == {"trading-bot": 100, "trading-bot-canary": 0}
    assert safety.actions[-1]["action"] == "set route weights"
    assert safety.actions[-1]["weights"] == {"trading-bot": 90, "trading-bot-canary": 10}

    with pytest.raises(ActionFailed, match=r"no rule has backendRefs \['nowhere'\].*trading-bot-canary"):
        actions.set_route_weights(kube, safety, NS, "trading-bot", {"nowhere": 5})
    assert safety.actions[-1]["outcome"] == "failed"
    with pytest.raises(ActionFailed, match="HTTP 404"):
        actions.set_route_weights(kube, safety, NS, "missing-route", {"trading-bot": 100})


def test_route_weight_patch_tests_each_name_before_replacing() -> None:
    route = {"spec": {"rules": [{"backendRefs": [{"name": "a", "weight": 100}, {"name": "b"}]}]}}
    patch, previous = actions.route_weight_patch(route, {"a": 60, "b": 40})
    assert previous == {"a": 100, "b": 1}  # Gateway API's default weight is 1
    assert patch == [
        {"op": "test", "path": "/spec/rules/0/backendRefs/0/name", "value": "a"},
        {"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": 60},
        {"op": "test", "path": "/spec/rules/0/backendRefs/1/name", "value": "b"},
        {"op": "add", "path": "/spec/rules/0/backendRefs/1/weight", "value": 40},
    ]
    with pytest.raises(actions.RouteMismatch, match="backendRefs on the route: none"):
        actions.route_weight_patch({"spec": {}}, {"a": 1})


def test_ingress_canary_weight_and_selector_pinning(api: ApiHarness, kube: KubeClients, tmp_path: pathlib.Path) -> None:
    api.kubectl("apply", "-f", str(GATEWAY_YAML), check=True)
    ingress = tmp_path / "ingress.yaml"
    ingress.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: trading-bot-canary\n"
        "  namespace: trading\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: bot.example\n    http:\n"
        "      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n"
        "            name: trading-bot-canary\n            port:\n              number: 80\n")
    assert "ingress.networking.k8s.io/trading-bot-canary created" in api.kubectl("apply", "-f", str(ingress),
                                                                                 check=True).stdout
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    actions.set_ingress_canary_weight(kube, safety, NS, "trading-bot-canary", 10)
    notes = api.call(api.store.get, "ingresses", NS, "trading-bot-canary")["metadata"]["annotations"]
    assert notes[actions.NGINX_CANARY] == "true" and notes[actions.NGINX_CANARY_WEIGHT] == "10"
    again = actions.set_ingress_canary_weight(kube, safety, NS, "trading-bot-canary", 0)
    assert again.details["previous_weight"] == "10"

    api.kubectl("apply", "-f", str(ROOT / "deploy" / "k8s" / "30-service.yaml"), check=True)
    actions.set_selector_labels(kube, safety, NS, "trading-bot", {"pod-template-hash": "abc123"})
    assert api.call(api.store.get, "services", NS, "trading-bot")["spec"]["selector"] == {
        "app": "trading-bot", "pod-template-hash": "abc123"}
    actions.set_selector_labels(kube, safety, NS, "trading-bot", {"pod-template-hash": None})
    assert api.call(api.store.get, "services", NS, "trading-bot")["spec"]["selector"] == {"app": "trading-bot"}
    assert [a["action"] for a in safety.actions] == ["set ingress canary weight"] * 2 + \
        ["set service selector labels"] * 2


def test_gateway_url_reads_status_addresses_and_the_listener_port(api: ApiHarness, kube: KubeClients) -> None:
    api.kubectl("apply", "-f", str(GATEWAY_YAML), check=True)
    with pytest.raises(KubernetesUnavailable, match=r"gateway trading/trading-bot has no status\.addresses"):
        gateway_url(kube, NS, "trading-bot")

    api.kubectl("patch", "gateway", "trading-bot", "--subresource=status", "--type=merge", "-p",
                '{"status":{"addresses":[{"type":"IPAddress","value":"10.0.0.7"}]}}', check=True)
    assert gateway_url(kube, NS, "trading-bot") == "http://10.0.0.7:80"  # the listener's own port
    table = api.kubectl("get", "gateway", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    assert table[1].split()[:4] == ["trading-bot", "trading", "10.0.0.7", "Unknown"]

    api.kubectl("annotate", "gateway", "trading-bot", f"{GATEWAY_LISTENER_PORTS}=http=41234", check=True)
    assert gateway_url(kube, NS, "trading-bot") == "http://10.0.0.7:41234"
    with pytest.raises(KubernetesUnavailable, match="HTTP 404"):
        gateway_url(kube, NS, "no-such-route")
