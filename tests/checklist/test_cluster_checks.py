"""Cluster-side checks of the checklist on recorded API objects and loopback servers:
drift between Deployment specs, rollouts in progress, NetworkPolicies, Services, the
bot's Prometheus targets and listening ports."""

from __future__ import annotations

import copy
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from goldgate.config import Timeouts
from goldgate.criteria import drift, infrastructure, operational
from goldgate.probes import cluster_specs, targets
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.cluster_specs import RolloutState, ServiceState
from goldgate.probes.host import ListeningPorts, listening_ports
from goldgate.sandbox.release import K8S_SOURCE, PROJECT_SOURCE
from goldgate.verdict import Status

FAST = Timeouts(connect_s=0.5, read_s=1, retries=0, backoff_s=0)
SPEC_DIR = K8S_SOURCE if K8S_SOURCE.is_dir() and any(K8S_SOURCE.glob("*.yaml")) else PROJECT_SOURCE / "deploy/k8s"


@pytest.fixture
def production() -> dict:
    return cluster_specs.deployment_from_manifests(SPEC_DIR, "trading-bot")


def _as_served(spec: dict) -> dict:
    """What the API server returns: defaults filled, image and env values changed."""
    served = copy.deepcopy(spec)
    c = served["spec"]["template"]["spec"]["containers"][0]
    c["image"] = "registry.io/trading-bot:v1.2.0-rc3"  # images are excluded from the comparison
    c["env"] = [{"name": "DATABASE_URL", "value": "postgresql://staging"}]
    c["livenessProbe"] = {**c["livenessProbe"], "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
    c["resources"]["limits"]["cpu"] = "1"  # 1000m and 1 are the same quantity
    return served


def test_identical_specs_match_despite_images_env_values_and_defaults(production: dict) -> None:
    staging = _as_served(production)
    prod = copy.deepcopy(production)
    prod["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "DATABASE_URL", "value": "postgresql://prod"}]
    verdict = drift.specs_match(staging, prod, "staging", "production")
    assert verdict.status is Status.PASS, verdict.message()


@pytest.mark.parametrize(("change", "named"), [
    (lambda d: d["spec"].update(replicas=2), "replicas: staging 2, production 3"),
    (lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1), "strategy.maxUnavailable"),
    (lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"].update(memory="512Mi"),
     "resources.limits.memory"),
    (lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"].update(periodSeconds=30),
     "readinessProbe"),
    (lambda d: d["spec"]["template"]["spec"]["containers"][0].update(env=[{"name": "FEATURE_X", "value": "1"}]),
     "env names"),
])
def test_each_drift_is_named(production: dict, change, named: str) -> None:
    staging = copy.deepcopy(production)
    change(staging)
    verdict = drift.specs_match(staging, production, "staging", "production")
    assert verdict.status is Status.FAIL
    assert named in verdict.reason


def test_missing_reference_manifest_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnavailable, match=str(tmp_path / "nope")):
        cluster_specs.deployment_from_manifests(tmp_path / "nope", "trading-bot")
    (tmp_path / "svc.yaml").write_text("kind: Service\nmetadata: {name: trading-bot}\n")
    with pytest.raises(ArtifactUnavailable, match="no workload named 'trading-bot'"):
        cluster_specs.deployment_from_manifests(tmp_path, "trading-bot")


def test_rollout_in_progress_is_named() -> None:
    settled = RolloutState("trading-bot", 4, 4, 3, 3, 3, 3)
    rolling = RolloutState("risk-engine", 7, 7, 3, 1, 2, 4)
    assert operational.no_rollout_in_progress([settled], "trading", "api").status is Status.PASS
    verdict = operational.no_rollout_in_progress([settled, rolling], "trading", "api")
    assert verdict.status is Status.FAIL
    assert "deployment/risk-engine: 1/3 updated" in verdict.reason
    unobserved = RolloutState("trading-bot", 5, 4, 3, 3, 3, 3)
    assert operational.no_rollout_in_progress([unobserved], "trading", "api").status is Status.FAIL


def test_network_policy_must_select_the_bot() -> None:
    policy = {"metadata": {"name": "trading-bot"}, "spec": {"podSelector": {"matchLabels": {"app": "trading-bot"}}}}
    other = {"metadata": {"name": "db"}, "spec": {"podSelector": {"matchLabels": {"app": "postgres"}}}}
    expr = {"metadata": {"name": "expr"}, "spec": {"podSelector": {"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["trading-bot", "risk"]}]}}}
    labels = {"app": "trading-bot"}
    assert infrastructure.network_policy_selects([policy], labels, "trading").status is Status.PASS
    assert infrastructure.network_policy_selects([expr], labels, "trading").status is Status.PASS
    verdict = infrastructure.network_policy_selects([other], labels, "trading")
    assert verdict.status is Status.FAIL and "none of the 1 NetworkPolicies in trading" in verdict.reason
    assert infrastructure.network_policy_selects([], labels, "trading").status is Status.FAIL


def test_services_need_ready_endpoints() -> None:
    ok = ServiceState("trading-bot", 3, 0, {"app": "trading-bot"})
    empty = ServiceState("trading-bot-preview", 0, 2, {"app": "trading-bot", "track": "preview"})
    assert infrastructure.services_available([ok], "trading", "api").status is Status.PASS
    verdict = infrastructure.services_available([ok, empty], "trading", "api")
    assert verdict.status is Status.FAIL and "service/trading-bot-preview: 0 ready endpoints (2 not ready)" in verdict.reason
    assert infrastructure.services_available([], "trading", "api").status is Status.FAIL


# ----------------------------------------------------------------------------- monitoring targets
class _Metrics(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path.split("?")[0], (404, "not found"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def loopback() -> Iterator[tuple[str, dict[str, tuple[int, str]]]]:
    routes: ClassVar[dict[str, tuple[int, str]]] = {}
    handler = type("H", (_Metrics,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()
    server.server_close()
    thread.join(5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_file_sd_targets_are_scraped(loopback, tmp_path: Path) -> None:
    address, routes = loopback
    routes["/metrics"] = (200, "# TYPE up gauge\nup 1\n")
    labels = {"app": "trading-bot", "namespace": "trading"}
    sd = tmp_path / "targets.json"
    sd.write_text(json.dumps([{"targets": [address], "labels": {**labels, "pod": "a"}},
                              {"targets": ["127.0.0.1:1"], "labels": {"app": "other", "namespace": "trading"}}]))
    found = targets.from_file_sd(sd, labels, FAST)
    assert infrastructure.targets_up(found, str(sd), labels).status is Status.PASS
    dead = f"127.0.0.1:{_closed_port()}"
    sd.write_text(json.dumps([{"targets": [address, dead], "labels": labels}]))
    verdict = infrastructure.targets_up(targets.from_file_sd(sd, labels, FAST), str(sd), labels)
    assert verdict.status is Status.FAIL and f"{dead} down" in verdict.reason
    sd.write_text("[]")
    assert infrastructure.targets_up(targets.from_file_sd(sd, labels, FAST), str(sd), labels).status is Status.FAIL
    with pytest.raises(ArtifactUnavailable, match="file-SD targets not found"):
        targets.from_file_sd(tmp_path / "absent.json", labels, FAST)


def test_prometheus_api_targets(loopback) -> None:
    address, routes = loopback
    labels = {"app": "trading-bot", "namespace": "trading"}
    active = [{"labels": {**labels, "instance": "10.0.0.1:8080"}, "health": "up"},
              {"labels": {**labels, "instance": "10.0.0.2:8080"}, "health": "down", "lastError": "connection refused"}]
    routes["/api/v1/targets"] = (200, json.dumps({"status": "success", "data": {"activeTargets": active}}))
    verdict = infrastructure.targets_up(targets.from_prometheus(f"http://{address}", labels, FAST), address, labels)
    assert verdict.status is Status.FAIL and "10.0.0.2:8080 down (connection refused)" in verdict.reason
    with pytest.raises(ArtifactUnavailable, match="cannot read Prometheus targets"):
        targets.from_prometheus(f"http://127.0.0.1:{_closed_port()}", labels, FAST)


# ----------------------------------------------------------------------------- host ports
def test_only_allowed_ports_listen() -> None:
    lp = ListeningPorts("ssh://bot-1", {22: ["0.0.0.0"], 8080: ["0.0.0.0"], 5432: ["127.0.0.1"]})
    verdict = infrastructure.only_allowed_ports(lp, [22, 8080])
    assert verdict.status is Status.FAIL and "unexpected listening ports 5432 (127.0.0.1)" in verdict.reason
    assert infrastructure.only_allowed_ports(lp, [22, 8080, 5432]).status is Status.PASS


def test_testinfra_sees_a_port_we_open() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        seen = listening_ports("local://")
        assert port in seen.ports
        verdict = infrastructure.only_allowed_ports(seen, sorted(set(seen.ports) - {port}))
        assert verdict.status is Status.FAIL and str(port) in verdict.reason
