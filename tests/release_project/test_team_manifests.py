"""The team project's own ``k8s/staging.yaml`` and ``k8s/production.yaml`` (guide §5.1/5.2), laid
out unlike the reference release: "staging matches production" reads both files and holds
them equal on what must match, whatever the spelling, and names a resource edited in one."""

from __future__ import annotations

from pathlib import Path

from goldgate.criteria import drift
from goldgate.probes import cluster_specs
from goldgate.verdict import Status
from tests.release_project import builder


def _pair(project: Path) -> tuple[dict, dict]:
    return (cluster_specs.workload_from_manifests(project / "k8s/staging.yaml", "ledger-staging"),
            cluster_specs.workload_from_manifests(project / "k8s/production.yaml", "ledger"))


def test_the_team_staging_and_production_files_match(tmp_path: Path) -> None:
    builder.manifests(tmp_path)
    staging, production = _pair(tmp_path)
    verdict = drift.specs_match(staging, production, "k8s/staging.yaml", "k8s/production.yaml")
    assert verdict.status is Status.PASS, verdict.message()


def test_a_request_edited_in_production_is_named(tmp_path: Path) -> None:
    builder.manifests(tmp_path)
    path = tmp_path / "k8s/production.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("memory: 268435456", "memory: 384Mi"), encoding="utf-8")
    staging, production = _pair(tmp_path)
    verdict = drift.specs_match(staging, production, "k8s/staging.yaml", "k8s/production.yaml")
    assert verdict.status is Status.FAIL
    assert verdict.observed == "1 differences" and verdict.threshold == "identical"
    assert "container ledger.resources.requests.memory: staging" in verdict.reason and "production" in verdict.reason
