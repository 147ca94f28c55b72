"""Rolling updates of real processes: maxSurge/maxUnavailable hold at every observed step."""

from __future__ import annotations

import asyncio
import json
import pathlib
import urllib.request
from functools import partial
from typing import Any

import pytest

from goldgate.sandbox.controllers.deployment import REVISION
from tests.sandbox.test_controllers_harness import (
    NS,
    REAL_MANIFESTS,
    ClusterHarness,
    condition,
    deployment,
    fast_timing,
    is_ready,
    run_scenario,
    standin_container,
)

pytestmark = pytest.mark.sandbox


_fast_sandbox = fast_timing(drain_s=0.3)


run = partial(run_scenario, timeout_s=120)


@pytest.mark.parametrize(("surge", "unavailable", "max_surge", "max_unav"), [
    (1, 0, 1, 0),
    ("34%", "34%", 2, 1),
])
def test_rolling_update_of_processes_honours_the_strategy(
        tmp_path: pathlib.Path, surge: Any, unavailable: Any, max_surge: int, max_unav: int) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3, image="sandbox/exec",
                                               container=standin_container(),
                                               surge=surge, unavailable=unavailable))
            await h.wait_for(h.rollout_complete, what="first rollout")
            totals: list[int] = []
            ready: list[int] = []

            def check(event: Any) -> None:
                if event.resource == "pods":
                    pods = h.pods("app=web")
                    totals.append(len(pods))
                    ready.append(sum(1 for p in pods if is_ready(p)))

            unsubscribe = h.store.subscribe(check)

            def change(d: dict[str, Any]) -> None:
                c = d["spec"]["template"]["spec"]["containers"][0]
                c["env"] = [{"name": "RELEASE", "value": "2"}]
            h.mutate_deploy(change)
            await h.wait_for(lambda: h.rollout_complete() and len(h.pods(
                "app=web", include_terminating=True)) == 3, timeout=40, what="second rollout")
            unsubscribe()
            assert max(totals) == 3 + max_surge, totals
            assert min(ready) >= 3 - max_unav, ready
            d = h.deploy()
            assert d["metadata"]["annotations"][REVISION] == "2"
            assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
            scaled = [e["message"] for e in h.events("ScalingReplicaSet")]
            assert any(m.startswith("Scaled down replica set") for m in scaled)
    run(scenario())


def version(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as r:
        return json.loads(r.read())["version"]


@pytest.mark.slow
def test_real_bot_rolls_from_v1_2_0_to_v1_3_0(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path, manifests=REAL_MANIFESTS) as h:
            await h.wait_for(lambda: h.rollout_complete("trading-bot"), timeout=30)
            h.set_image("trading-bot:v1.3.0", name="trading-bot")
            await h.wait_for(lambda: h.rollout_complete("trading-bot") and len(
                h.pods("app=trading-bot", include_terminating=True)) == 3, timeout=60)
            for p in h.pods("app=trading-bot"):
                host = json.loads(p["metadata"]["annotations"]["sandbox.goldgate.io/ports"])["8080"]
                assert await asyncio.to_thread(version, host) == "v1.3.0"
            assert NS == "trading"
    run(scenario())
