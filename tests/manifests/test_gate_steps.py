"""The gate's workload-spec step on a release folder: a breach is a test failure naming the rule,
a missing folder a probe error, a healthy folder a PASS — the words of the feature, the rules
of ``goldgate check manifests``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from goldgate.config import load_environment
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.verdict import CriterionBreached, ProbeError, Status
from steps.spec import manifests_meet_rules
from tests.manifests.helpers import FIXTURES, ROOT

RULES = "liveness-probe, readiness-probe, probe-port, replicas, max-surge, max-unavailable"


def _release(project: Path) -> ReleaseInputs:
    return ReleaseInputs("test", project, None, None, None, None, None, None)


def _project(tmp_path: Path, doc: dict) -> Path:
    (tmp_path / "deploy" / "k8s").mkdir(parents=True)
    (tmp_path / "deploy" / "k8s" / "20-deployment.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


ENV = load_environment("local", ROOT / "environments")
GOOD = yaml.safe_load((FIXTURES / "pass" / "deployment-guide.yaml").read_text())


def test_healthy_release_passes(tmp_path: Path) -> None:
    manifests_meet_rules(_release(_project(tmp_path, GOOD)), ENV, RULES)


def test_release_without_readiness_probe_fails_naming_rule_value_and_threshold(tmp_path: Path) -> None:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    del doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    with pytest.raises(CriterionBreached) as exc:
        manifests_meet_rules(_release(_project(tmp_path, doc)), ENV, RULES)
    verdict = exc.value.verdict
    assert verdict.status is Status.FAIL
    assert verdict.reason.startswith("FAIL readiness-probe: ")
    assert "container web" in verdict.reason and "observed absent, expected a readinessProbe" in verdict.reason


def test_missing_folder_is_a_probe_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="no such file or folder"):
        manifests_meet_rules(_release(tmp_path), ENV, RULES)


def test_unknown_rule_in_the_feature_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown workload rule"):
        manifests_meet_rules(_release(tmp_path), ENV, "liveness-probe, has-wings")
