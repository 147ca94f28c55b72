"""The sandbox's Gateway API data path: status as real implementations publish it, requests by weight.

Two stand-in Deployments (``web`` stable, ``web-canary``) answer with their pod's name, so
every response says which backendRef served it.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import pathlib
import urllib.error
import urllib.request
from functools import partial
from typing import Any

import pytest

from goldgate.sandbox.controllers.gateway import CONTROLLER_NAME, LISTENER_PORTS
from tests.sandbox.test_controllers_harness import (
    NS,
    ClusterHarness,
    deployment,
    fast_timing,
    run_scenario,
    service,
    standin_container,
)

pytestmark = pytest.mark.sandbox
_fast_sandbox = fast_timing(drain_s=0.5)
run = partial(run_scenario, timeout_s=90)


def gateway(name: str = "web") -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"gatewayClassName": "any", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}}


def route(stable: int, canary: int, *, canary_service: str = "web-canary") -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"parentRefs": [{"name": "web", "sectionName": "http"}],
                     "rules": [{"backendRefs": [{"name": "web", "port": 80, "weight": stable},
                                                {"name": canary_service, "port": 80, "weight": canary}]}]}}


def canary_parts() -> tuple[dict[str, Any], dict[str, Any]]:
    dep = deployment("web-canary", replicas=1, image="sandbox/exec", container=standin_container())
    svc = service("web-canary")
    return dep, svc


def fetch(url: str) -> str:
    req = urllib.request.Request(url, headers={"Connection": "close"})  # noqa: S310 - loopback http only
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - loopback http only
            return r.read().decode()
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        return f"failed: {exc}"


async def _ready_pair(h: ClusterHarness, stable: int, canary: int) -> int:
    """Stable 'web' (3 pods, its Service pinned to app=web without the canary) and the canary; the gateway's port."""
    h.create("deployments", deployment(replicas=3, image="sandbox/exec", container=standin_container()))
    dep, svc = canary_parts()
    h.create("deployments", dep)
    h.create("services", service())
    h.create("services", svc)
    h.create("gateways", gateway())
    h.create("httproutes", route(stable, canary))
    await h.wait_for(lambda: h.rollout_complete() and h.rollout_complete("web-canary"), what="pods Ready")

    def port() -> int | None:
        gw = h.store.find("gateways", NS, "web") or {}
        note = (gw["metadata"].get("annotations") or {}).get(LISTENER_PORTS, "")
        proxy = h.cluster.gateways.proxies.get((NS, "web", "http")) if h.cluster.gateways else None
        ready = proxy is not None and sum(len(b.endpoints) for b in proxy.routes) == 4
        return int(note.split("=")[1]) if note and ready else None

    return await h.wait_for(port, what="gateway programmed with 4 endpoints")


def served_by(answers: list[str]) -> collections.Counter[str]:
    return collections.Counter("canary" if a.startswith("web-canary") else
                               "stable" if a.startswith("web-") else a for a in answers)


def test_gateway_status_names_its_address_and_the_route_is_accepted(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            port = await _ready_pair(h, 90, 10)
            gw = h.store.get("gateways", NS, "web")
            assert gw["status"]["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]
            conds = {c["type"]: c["status"] for c in gw["status"]["conditions"]}
            assert conds == {"Accepted": "True", "Programmed": "True"}
            listener = gw["status"]["listeners"][0]
            assert listener["attachedRoutes"] == 1 and listener["supportedKinds"][0]["kind"] == "HTTPRoute"
            assert gw["metadata"]["annotations"][LISTENER_PORTS] == f"http={port}"
            parent = h.store.get("httproutes", NS, "web")["status"]["parents"][0]
            assert parent["controllerName"] == CONTROLLER_NAME
            assert {c["type"]: c["status"] for c in parent["conditions"]} == {"Accepted": "True",
                                                                             "ResolvedRefs": "True"}
            assert gw["spec"]["listeners"][0]["port"] == 80  # the spec is never rewritten

    run(scenario())


def test_requests_follow_the_route_weights_and_a_patch_moves_them(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            port = await _ready_pair(h, 90, 10)
            # Each side has only its own pods (app=web vs app=web-canary), so an answer names its backendRef.
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(100)]
            assert served_by(answers) == {"stable": 90, "canary": 10}

            def weights(obj: dict[str, Any]) -> None:
                refs = obj["spec"]["rules"][0]["backendRefs"]
                refs[0]["weight"], refs[1]["weight"] = 50, 50

            h.store.mutate("httproutes", NS, "web", weights)
            await asyncio.sleep(0.3)
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(40)]
            assert served_by(answers) == {"stable": 20, "canary": 20}

    run(scenario())


def test_weight_zero_gets_nothing_and_a_missing_backend_is_reported(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            port = await _ready_pair(h, 100, 0)
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(30)]
            assert served_by(answers) == {"stable": 30}
            broken = route(50, 50, canary_service="nowhere")
            current = h.store.get("httproutes", NS, "web")
            current["spec"] = copy.deepcopy(broken["spec"])
            h.store.update("httproutes", current)

            def resolved() -> dict[str, Any] | None:
                conds = h.store.get("httproutes", NS, "web")["status"]["parents"][0]["conditions"]
                found = next(c for c in conds if c["type"] == "ResolvedRefs")
                return found if found["status"] == "False" else None

            cond = await h.wait_for(resolved, what="ResolvedRefs False")
            assert cond["reason"] == "BackendNotFound" and "nowhere" in cond["message"]
            # Half the requests name a backend without endpoints: closed unanswered, like a 503.
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(10)]
            counts = served_by(answers)
            assert counts["stable"] == 5 and sum(v for k, v in counts.items() if k.startswith("failed")) == 5

    run(scenario())


def test_deleting_the_gateway_closes_its_listener(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            port = await _ready_pair(h, 100, 0)
            h.store.delete("gateways", NS, "web")
            await h.wait_for(lambda: not h.cluster.gateways.proxies, what="listener closed")
            await asyncio.sleep(0.2)
            assert (await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/")).startswith("failed")
            conds = h.store.get("httproutes", NS, "web")["status"]["parents"][0]["conditions"]
            assert next(c for c in conds if c["type"] == "Accepted")["reason"] == "NoMatchingParent"

    run(scenario())


def test_a_garbage_weight_is_reported_and_gets_no_traffic(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            port = await _ready_pair(h, 100, 0)

            def garbage(obj: dict[str, Any]) -> None:
                obj["spec"]["rules"][0]["backendRefs"][1]["weight"] = "lots"

            h.store.mutate("httproutes", NS, "web", garbage)

            def refused() -> dict[str, Any] | None:
                conds = h.store.get("httproutes", NS, "web")["status"]["parents"][0]["conditions"]
                found = next(c for c in conds if c["type"] == "ResolvedRefs")
                return found if found["status"] == "False" else None

            cond = await h.wait_for(refused, what="ResolvedRefs False")
            assert "web-canary: weight 'lots' is not an integer" in cond["message"]
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(10)]
            assert served_by(answers) == {"stable": 10}

    run(scenario())
