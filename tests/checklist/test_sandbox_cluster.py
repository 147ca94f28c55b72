"""The cluster-side checklist probes against a real sandbox cluster: the healthy sandbox
matches the repository's manifests, has its Service endpoints, its NetworkPolicy, no
rollout in progress, and its pods are up as Prometheus file-SD targets."""

from __future__ import annotations

import copy
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
