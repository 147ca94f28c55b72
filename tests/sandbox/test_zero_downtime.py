"""Zero downtime: steady HTTP load through the Service proxy during rolling updates.

Uses the bot's real manifests (3 replicas, maxSurge 1 / maxUnavailable 0) in an
in-process cluster; the load is a keep-alive client, like locust's, bounded in time.
"""

from __future__ import annotations

import asyncio
import collections
import pathlib
import threading
import time
from functools import partial
from typing import Any

import pytest
import requests

from tests.sandbox.test_controllers_harness import (
    NS,
    REAL_MANIFESTS,
    ClusterHarness,
    condition,
    fast_timing,
    is_ready,
    run_scenario,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
MAX_LOAD_S = 90


_fast_sandbox = fast_timing(drain_s=1.0)


class SteadyLoad:
    """One keep-alive client hitting /version every ~10 ms until stopped (or MAX_LOAD_S)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.versions: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_S
        with requests.Session() as session:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    r = session.get(self.url, timeout=(2, 5))
                    if r.status_code != 200:
                        self.failures.append(f"HTTP {r.status_code}")
                    else:
                        self.versions[r.json()["version"]] += 1
                except requests.RequestException as exc:
                    self.failures.append(type(exc).__name__ + ": " + str(exc)[:120])
                time.sleep(0.01)

    async def __aenter__(self) -> SteadyLoad:
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Joined from a worker thread: the Service proxy runs in this event loop, so a
        # blocking join here would stall the request in flight until it timed out.
        self._stop.set()
        await asyncio.to_thread(self._thread.join, 10)


def service_url(h: ClusterHarness) -> str | None:
    svc = h.store.find("services", NS, "trading-bot") or {}
    ingress = (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    return f"http://127.0.0.1:{ingress[0]['ports'][0]['port']}/version" if ingress else None


run = partial(run_scenario, timeout_s=150)


def test_rolling_update_under_load_loses_no_request(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path, manifests=REAL_MANIFESTS) as h:
            await h.wait_for(lambda: h.rollout_complete("trading-bot"), timeout=30)
            url = await h.wait_for(lambda: service_url(h))
            async with SteadyLoad(url) as load:
                await asyncio.sleep(0.5)
                h.set_image("registry.io/trading-bot:v1.3.0", name="trading-bot")
                await h.wait_for(lambda: h.rollout_complete("trading-bot") and len(
                    h.pods("app=trading-bot", include_terminating=True)) == 3, timeout=60,
                    what="rollout to v1.3.0 with old pods gone")
                await asyncio.sleep(0.5)
            assert not load.failures, f"{len(load.failures)} failed requests: {load.failures[:5]}"
            assert load.versions["v1.2.0"] > 0 and load.versions["v1.3.0"] > 0, load.versions
            assert sum(load.versions.values()) > 100
    run(scenario())


def test_broken_rollout_stalls_with_old_pods_serving(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path, manifests=REAL_MANIFESTS) as h:
            await h.wait_for(lambda: h.rollout_complete("trading-bot"), timeout=30)
            url = await h.wait_for(lambda: service_url(h))
            async with SteadyLoad(url) as load:
                def broken(d: dict[str, Any]) -> None:
                    d["spec"]["progressDeadlineSeconds"] = 4
                    d["spec"]["template"]["spec"]["containers"][0]["image"] = \
                        "trading-bot:v1.3.0-broken"
                h.mutate_deploy(broken, name="trading-bot")
                await h.wait_for(lambda: condition(h.deploy("trading-bot"), "Progressing")
                                 .get("reason") == "ProgressDeadlineExceeded", timeout=30,
                                 what="ProgressDeadlineExceeded")
            d = h.deploy("trading-bot")
            assert condition(d, "Progressing")["status"] == "False"
            assert d["status"]["updatedReplicas"] == 1 and d["status"]["availableReplicas"] == 3
            pods = h.pods("app=trading-bot")
            old = [p for p in pods if p["spec"]["containers"][0]["image"] == "trading-bot:v1.2.0"]
            new = [p for p in pods if p not in old]
            assert len(old) == 3 and all(is_ready(p) for p in old)
            assert len(new) == 1 and not is_ready(new[0])
            assert not load.failures, load.failures[:5]
            assert set(load.versions) == {"v1.2.0"}, load.versions
    run(scenario())
