"""Kubernetes target discovery through the official client against the sandbox API server.

The pods are objects in the sandbox's store whose published port mapping points at real
reference bots, so discovery, selection and scraping are all exercised end to end.
"""

from __future__ import annotations

import json

import pytest

from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.scrape import KubernetesTargets, ScrapeSource
from tests.metrics.conftest import Fleet, send_traffic
from tests.sandbox.conftest import ApiHarness, api, make_pod  # noqa: F401 - api is a fixture

pytestmark = pytest.mark.sandbox
PORTS = "sandbox.goldgate.io/ports"


def bot_pod(name: str, version: str, host_port: int, *, phase: str = "Running") -> dict:
    pod = make_pod(name, labels={"app": "trading-bot", "version": version, "pod-template-hash": version})
    pod["metadata"]["annotations"] = {PORTS: json.dumps({"8080": host_port})}
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "name": "http"}]
    pod["status"]["phase"] = phase
    pod["status"]["podIP"] = "127.0.0.1"
    return pod


def test_discovers_selected_running_pods_and_scrapes_them(api: ApiHarness, fleet: Fleet) -> None:  # noqa: F811
    from kubernetes import client

    api.create("pods", bot_pod("trading-bot-stable-1", "v1", fleet.healthy.port))
    api.create("pods", bot_pod("trading-bot-canary-1", "v2", fleet.errors.port))
    api.create("pods", bot_pod("trading-bot-canary-2", "v2", fleet.slow.port, phase="Pending"))
    discovery = KubernetesTargets(client.CoreV1Api(api.client()), namespace="trading",
                                  default_port=8080, port_map_annotation=PORTS)
    canary = Selector({"app": "trading-bot", "pod-template-hash": "v2"})
    targets = discovery.targets(canary)
    assert [(t.key, t.url) for t in targets] == [
        ("trading-bot-canary-1", f"http://127.0.0.1:{fleet.errors.port}/metrics")]
    assert targets[0].labels["version"] == "v2"

    src = ScrapeSource(discovery)
    window = src.start(canary)
    send_traffic(fleet.errors.url, 200)
    window.scrape()
    m = window.observation().request_counts()
    assert m.counts.total == 200 and m.series[0]["pod"] == "trading-bot-canary-1"


def test_api_server_unreachable_is_an_error(fleet: Fleet) -> None:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = "http://127.0.0.1:9"
    configuration.retries = 0
    discovery = KubernetesTargets(client.CoreV1Api(client.ApiClient(configuration)),
                                  timeout_s=(0.5, 1.0))
    m = ScrapeSource(discovery).request_counts(0.01, Selector({"app": "trading-bot"}))
    assert m.failed and "target discovery failed" in m.error
