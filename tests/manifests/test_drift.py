""""Staging matches production" on normalised specs: spellings of one value are not drift,
the difference that matters leads the message, containers are matched by name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldgate.criteria import drift
from goldgate.probes import cluster_specs
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.verdict import Status
from tests.manifests.helpers import FIXTURES

REFERENCE = yaml.safe_load((FIXTURES / "pass" / "deployment-guide.yaml").read_text())


def _c(doc: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][i]


def _match(staging: dict[str, Any]) -> Any:
    return drift.specs_match(staging, REFERENCE, "staging", "production")


def test_spellings_of_one_value_are_not_drift() -> None:
    staging = copy.deepcopy(REFERENCE)
    _c(staging)["resources"] = {"requests": {"cpu": 0.25, "memory": 268435456}, "limits": {"cpu": "1000m", "memory": "0.5Gi"}}
    _c(staging)["livenessProbe"]["httpGet"]["port"] = 8080  # the named port "http" is 8080
    _c(staging)["readinessProbe"]["httpGet"]["port"] = "http"
    staging["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": "25%", "maxUnavailable": "25%"}  # 1 and 0 of 3
    _c(staging)["image"] = "registry.io/web:2.4.1-rc1"
    verdict = _match(staging)
    assert verdict.status is Status.PASS, verdict.reason


def test_key_difference_leads_and_nothing_is_cut_off() -> None:
    staging = copy.deepcopy(REFERENCE)
    staging["spec"]["template"]["metadata"]["labels"]["tier"] = "canary"
    _c(staging)["env"] = [{"name": f"FLAG_{i}", "value": "1"} for i in range(12)]
    staging["spec"]["strategy"] = {"type": "Recreate"}
    verdict = _match(staging)
    assert verdict.status is Status.FAIL
    lines = verdict.reason.split("; ")
    assert lines[0] == "strategy.type: staging 'Recreate', production 'RollingUpdate'"
    assert lines[-1].startswith("labels.tier")
    assert verdict.observed == f"{len(lines)} differences"


def test_probe_and_resource_differences_come_before_env_and_labels() -> None:
    staging = copy.deepcopy(REFERENCE)
    staging["spec"]["template"]["metadata"]["labels"]["extra"] = "x"
    _c(staging)["resources"]["limits"]["memory"] = "1Gi"
    _c(staging)["readinessProbe"]["periodSeconds"] = 30
    lines = _match(staging).reason.split("; ")
    assert lines[0].startswith("container web.readinessProbe.periodSeconds: staging 30, production 5")
    assert lines[1] == "container web.resources.limits.memory: staging '1Gi', production '512Mi'"
    assert lines[2].startswith("labels.extra")


def test_containers_are_matched_by_name_and_unmatched_ones_named() -> None:
    staging = copy.deepcopy(REFERENCE)
    sidecar = copy.deepcopy(_c(staging))
    sidecar["name"] = "proxy"
    staging["spec"]["template"]["spec"]["containers"].insert(0, sidecar)  # order does not matter
    verdict = _match(staging)
    assert verdict.status is Status.FAIL
    assert verdict.reason == "containers: container 'proxy' only in staging"


def test_duplicate_container_names_are_an_error() -> None:
    staging = copy.deepcopy(REFERENCE)
    staging["spec"]["template"]["spec"]["containers"].append(copy.deepcopy(_c(staging)))
    verdict = _match(staging)
    assert verdict.status is Status.ERROR
    assert "containers[1].name: duplicate container name 'web'" in verdict.reason


@pytest.mark.parametrize("broken", [
    {"kind": "Deployment", "spec": []},
    {"kind": "Deployment", "metadata": "web", "spec": {"template": {"spec": {"containers": "web"}}}},
    "not a spec",
])
def test_malformed_spec_is_an_error_naming_the_side(broken: Any) -> None:
    verdict = _match(broken)
    assert verdict.status is Status.ERROR
    assert verdict.reason.startswith("staging spec staging:")


def test_reference_may_be_any_workload_kind(tmp_path: Path) -> None:
    (tmp_path / "ledger.yaml").write_text((FIXTURES / "pass" / "statefulset.yaml").read_text())
    ref = cluster_specs.workload_from_manifests(tmp_path, "ledger")
    assert ref["kind"] == "StatefulSet" and ref["_source"].endswith("ledger.yaml#0")
    assert drift.specs_match(copy.deepcopy(ref), ref, "a", "b").status is Status.PASS
    (tmp_path / "broken.yaml").write_bytes(b"kind: Pod\n\xff\xfe")
    with pytest.raises(ArtifactUnavailable, match="not UTF-8"):
        cluster_specs.workload_from_manifests(tmp_path, "ledger")
