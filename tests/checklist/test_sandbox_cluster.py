"""The cluster-side checklist probes against a real sandbox cluster: the healthy sandbox
matches the repository's manifests, has its Service endpoints, its NetworkPolicy, no
rollout in progress, and its pods are up as Prometheus file-SD targets.

"Staging matches production" on two live Deployments: the release under test and
production, which the sandbox applies from the release's ``deploy/k8s/production.yaml``
into ``trading-production``; a production edited with ``kubectl patch`` is a FAIL naming
the field and both values, and ``kubectl apply -f`` of the release's own staging.yaml and
production.yaml gives two Deployments that match."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldgate.config import KubernetesTarget, Timeouts
from goldgate.criteria import drift, infrastructure, operational
from goldgate.probes import cluster_specs, targets
from goldgate.probes.kubernetes import connect
from goldgate.sandbox.release import K8S_SOURCE
from goldgate.verdict import Status

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
NS, LABELS = "trading", {"app": "trading-bot"}
PRODUCTION_NS, STAGING_NS = "trading-production", "trading-staging"
KUBECTL = Path(sys.executable).with_name("kubectl")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    from goldgate.sandbox import lifecycle

    state = tmp_path_factory.mktemp("sandbox-state")
    info = lifecycle.ensure_running(state, [])
    kube = connect(KubernetesTarget(), str(info.kubeconfig))
    try:
        yield kube, state
    finally:
        kube.close()
        if info.started:
            lifecycle.stop(state)


def test_healthy_sandbox_passes_the_cluster_checks(cluster: tuple[Any, Path]) -> None:
    kube, state = cluster
    here = cluster_specs.read_deployment(kube, NS, "trading-bot")
    reference = cluster_specs.deployment_from_manifests(K8S_SOURCE, "trading-bot")
    verdicts = [
        drift.specs_match(here, reference, "sandbox", str(K8S_SOURCE)),
        infrastructure.services_available(cluster_specs.services(kube, NS), NS, kube.server),
        infrastructure.network_policy_selects(cluster_specs.network_policies(kube, NS), LABELS, NS),
        operational.no_rollout_in_progress(cluster_specs.rollouts(kube, NS), NS, kube.server),
        infrastructure.targets_up(
            targets.from_file_sd(state / "prometheus" / "targets.json", {**LABELS, "namespace": NS},
                                 Timeouts(connect_s=1, read_s=2, retries=1, backoff_s=0.1)),
            "file-sd", LABELS),
    ]
    assert [v.status for v in verdicts] == [Status.PASS] * 5, [v.message() for v in verdicts]


def test_drifted_reference_is_named(cluster: tuple[Any, Path]) -> None:
    kube, _state = cluster
    here = cluster_specs.read_deployment(kube, NS, "trading-bot")
    reference = copy.deepcopy(cluster_specs.deployment_from_manifests(K8S_SOURCE, "trading-bot"))
    reference["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi"
    verdict = drift.specs_match(here, reference, "sandbox", "production")
    assert verdict.status is Status.FAIL
    assert "resources.limits.memory: staging '1Gi', production '2Gi'" in verdict.reason


def kubectl(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from goldgate.sandbox import lifecycle

    return subprocess.run([str(KUBECTL), "--kubeconfig", str(state / lifecycle.KUBECONFIG_FILE), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def _live_pair(kube: Any, staging: tuple[str, str] = (NS, "trading-bot")) -> Any:
    here = cluster_specs.read_deployment(kube, *staging)
    production = cluster_specs.read_deployment(kube, PRODUCTION_NS, "trading-bot")
    return drift.specs_match(here, production, f"{kube.server} {staging[0]}/{staging[1]}",
                             f"{kube.server} {PRODUCTION_NS}/trading-bot")


def test_production_runs_beside_the_release_and_matches_it(cluster: tuple[Any, Path]) -> None:
    kube, _state = cluster
    verdict = _live_pair(kube)
    assert verdict.status is Status.PASS, verdict.message()
    assert verdict.provenance == "measured"
    assert f"{NS}/trading-bot vs {kube.server} {PRODUCTION_NS}/trading-bot" in verdict.message()


def test_production_patched_with_kubectl_is_staging_drifted_from_production(cluster: tuple[Any, Path]) -> None:
    """The rehearsal "staging drifted from production": production's memory limit and its
    readiness probe's period edited on the live cluster, then put back."""
    kube, state = cluster
    path = "/spec/template/spec/containers/0"
    drifted = json.dumps([{"op": "replace", "path": f"{path}/resources/limits/memory", "value": "2Gi"},
                          {"op": "replace", "path": f"{path}/readinessProbe/periodSeconds", "value": 7}])
    restore = json.dumps([{"op": "replace", "path": f"{path}/resources/limits/memory", "value": "1Gi"},
                          {"op": "replace", "path": f"{path}/readinessProbe/periodSeconds", "value": 5}])
    patch = kubectl(state, "-n", PRODUCTION_NS, "patch", "deployment", "trading-bot", "--type=json", "-p", drifted)
    assert patch.returncode == 0, patch.stderr
    try:
        verdict = _live_pair(kube)
        assert verdict.status is Status.FAIL, verdict.message()
        assert verdict.observed == "2 differences" and verdict.threshold == "identical"
        assert "resources.limits.memory: staging '1Gi', production '2Gi'" in verdict.reason
        assert "readinessProbe.periodSeconds: staging 5, production 7" in verdict.reason
        assert f"{PRODUCTION_NS}/trading-bot" in verdict.message()
    finally:
        undo = kubectl(state, "-n", PRODUCTION_NS, "patch", "deployment", "trading-bot", "--type=json", "-p", restore)
    assert undo.returncode == 0, undo.stderr
    assert _live_pair(kube).status is Status.PASS


def test_kubectl_apply_of_the_release_staging_and_production_files_match(cluster: tuple[Any, Path]) -> None:
    """Guide §5.1/5.2 as written: ``kubectl apply -f k8s/staging.yaml`` and ``k8s/production.yaml``."""
    kube, state = cluster
    staging, production = K8S_SOURCE / "staging.yaml", K8S_SOURCE / "production.yaml"
    try:
        for path in (staging, production):
            applied = kubectl(state, "apply", "-f", str(path))
            assert applied.returncode == 0, applied.stderr
        verdict = _live_pair(kube, (STAGING_NS, "trading-bot-staging"))
        assert verdict.status is Status.PASS, verdict.message()
        assert f"{STAGING_NS}/trading-bot-staging vs" in verdict.message()
    finally:
        kubectl(state, "delete", "-f", str(staging), "--wait=false")
