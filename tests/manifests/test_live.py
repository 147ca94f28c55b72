"""The workload rules on what a real cluster serves and what kubectl itself writes.

A sandbox cluster (``GOLDGATE_SANDBOX_DIR``, else a temporary folder) serves the bot's
Deployment through the Kubernetes API; the real kubectl removes its readiness probe with
``kubectl patch``, and the same rules then FAIL ``readiness-probe``. kubectl's own
``--dry-run=client -o yaml`` output (``create deployment``, ``run``) is judged as a user's
first manifest would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldgate.config import KubernetesTarget
from goldgate.criteria import spec_rules
from goldgate.probes import cluster_specs
from goldgate.probes.kubernetes import connect
from goldgate.probes.manifests import parse
from goldgate.verdict import Status
from goldgate.workload_policy import Policy
from tests.manifests.helpers import judged

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
KUBECTL = Path(sys.executable).with_name("kubectl")
NS, NAME = "trading", "trading-bot"
REMOVE_READINESS = json.dumps([{"op": "remove", "path": "/spec/template/spec/containers/0/readinessProbe"}])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    from goldgate.sandbox import lifecycle

    state = Path(os.environ.get("GOLDGATE_SANDBOX_DIR") or tmp_path_factory.mktemp("sandbox"))
    info = lifecycle.ensure_running(state, [])
    kube = connect(KubernetesTarget(), str(info.kubeconfig))
    try:
        yield kube, Path(info.kubeconfig)
    finally:
        kube.close()
        if info.started:
            lifecycle.stop(state)


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def _live(kube: Any) -> list[spec_rules.RuleResult]:
    served = cluster_specs.read_deployment(kube, NS, NAME)
    return spec_rules.judge_document({**served, "kind": served.get("kind") or "Deployment"}, Policy())


def test_removing_the_readiness_probe_with_kubectl_fails_readiness_probe(cluster: tuple[Any, Path]) -> None:
    kube, kubeconfig = cluster
    before = {r.rule: r.verdict.status for r in _live(kube) if r.verdict is not None}
    assert before["readiness-probe"] is Status.PASS and before["liveness-probe"] is Status.PASS, before
    patch = kubectl(kubeconfig, "-n", NS, "patch", "deployment", NAME, "--type=json", "-p", REMOVE_READINESS)
    assert patch.returncode == 0, patch.stderr
    try:
        after = _live(kube)
        readiness = next(r for r in after if r.rule == "readiness-probe")
        assert readiness.verdict.status is Status.FAIL
        assert (readiness.verdict.observed, readiness.container) == ("absent", "trading-bot")
        verdict = spec_rules.all_rules_pass(after, "sandbox")
        assert verdict.status is Status.FAIL
        assert verdict.reason.startswith("FAIL readiness-probe: Deployment/trading-bot container trading-bot")
    finally:
        served = cluster_specs.read_deployment(kube, NS, NAME)
        if served["spec"]["template"]["spec"]["containers"][0].get("readinessProbe") is None:
            probe = {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 10, "periodSeconds": 5}
            restore = json.dumps([{"op": "add", "path": "/spec/template/spec/containers/0/readinessProbe",
                                   "value": probe}])
            kubectl(kubeconfig, "-n", NS, "patch", "deployment", NAME, "--type=json", "-p", restore)


def test_kubectl_create_deployment_output(cluster: tuple[Any, Path]) -> None:
    _, kubeconfig = cluster
    out = kubectl(kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=80",
                  "--dry-run=client", "-o", "yaml")
    assert out.returncode == 0, out.stderr
    status = judged([f for f in _findings(out.stdout)])
    # kubectl writes no probes, no resources and no tag; replicas and the default strategy are fine
    assert status[("liveness-probe", "nginx")] == status[("readiness-probe", "nginx")] == "FAIL"
    assert status[("cpu-request", "nginx")] == status[("memory-limit", "nginx")] == "FAIL"
    assert status[("image-pinned", "nginx")] == "FAIL"
    assert status[("replicas", "")] == status[("max-surge", "")] == status[("max-unavailable", "")] == "PASS"
    assert status[("rolling-update", "")] == "PASS"


def test_kubectl_run_output_is_a_bare_pod(cluster: tuple[Any, Path]) -> None:
    _, kubeconfig = cluster
    out = kubectl(kubeconfig, "run", "bot", "--image=trading-bot:v1.2.0", "--port=8080", "--dry-run=client",
                  "-o", "yaml")
    assert out.returncode == 0, out.stderr
    found = _findings(out.stdout)
    assert {f.kind for f in found} == {"Pod"}
    status = judged(found)
    assert "replicas" not in {rule for rule, _ in status}
    assert status[("image-pinned", "bot")] == "PASS" and status[("liveness-probe", "bot")] == "FAIL"
    assert status[("termination-grace", "")] == "PASS"


def test_kubectl_get_list_is_judged_item_by_item(cluster: tuple[Any, Path]) -> None:
    _, kubeconfig = cluster
    out = kubectl(kubeconfig, "-n", NS, "get", "deployments,services", "-o", "yaml")
    assert out.returncode == 0, out.stderr
    found = _findings(out.stdout)
    assert {"Deployment", "Service"} <= {f.kind for f in found}
    assert all(f.field.startswith("items[") for f in found if f.field)


def _findings(text: str) -> list[Any]:
    from goldgate.checks.manifests import judge_file

    return judge_file(parse("kubectl.yaml", text.encode()), Policy())
