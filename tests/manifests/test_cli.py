"""``goldgate check manifests`` as a pipeline runs it: paths, stdin, --env, formats, exit codes.

SARIF: no SARIF 2.1.0 JSON schema is available offline here (check-jsonschema's vendored
store has none), so the structure is validated against the parts of the 2.1.0 schema a
consumer relies on, written out below as a JSON schema of its own.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest

from goldgate.checks import manifests as check
from goldgate.checks.output import CheckInputError
from goldgate.workload_policy import Policy
from tests.manifests.helpers import FIXTURES, ROOT, cli

# The SARIF 2.1.0 properties goldgate emits, with the constraints the standard puts on them.
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                   "rules": {"type": "array", "items": {"type": "object", "required": ["id"],
                                                                         "properties": {"id": {"type": "string"}}}}}}}},
                "invocations": {"type": "array", "items": {"type": "object", "required": ["executionSuccessful"],
                                                            "properties": {"executionSuccessful": {"type": "boolean"}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
                        "message": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "properties": {"artifactLocation": {
                                "type": "object", "properties": {"uri": {"type": "string"}}}}},
                            "logicalLocations": {"type": "array", "items": {
                                "type": "object", "properties": {"fullyQualifiedName": {"type": "string"}}}}}}},
                        "properties": {"type": "object"},
                    }}},
            }}},
    },
}


def test_exit_codes_follow_the_policy_tools() -> None:
    assert cli(str(FIXTURES / "pass")).returncode == 0
    assert cli(str(FIXTURES / "pass"), str(FIXTURES / "fail" / "recreate.yaml")).returncode == 1
    assert cli(str(FIXTURES / "fail" / "duplicate-container-names.yaml")).returncode == 2
    assert cli(str(ROOT / "deploy" / "k8s" / "10-configmap.yaml")).returncode == 2  # nothing to judge


def test_text_names_file_document_workload_container_field_observed_expected() -> None:
    run = cli(str(FIXTURES / "fail" / "sidecar-without-readiness.yaml"))
    assert run.returncode == 1
    [line] = [x for x in run.stdout.splitlines() if x.startswith("FAIL")]
    assert "sidecar-without-readiness.yaml#0 Deployment/web container sidecar" in line
    assert "spec.template.spec.containers[1].readinessProbe" in line
    assert "observed absent, expected a readinessProbe with" in line


def test_stdin_and_folders(tmp_path: Path) -> None:
    run = cli("-", stdin=(FIXTURES / "fail" / "one-replica.yaml").read_text())
    assert run.returncode == 1 and "FAIL replicas: -#0 Deployment/web" in run.stdout
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "web.yml").write_text((FIXTURES / "pass" / "statefulset.yaml").read_text())
    (tmp_path / "README.md").write_text("not a manifest")
    assert cli(str(tmp_path)).returncode == 0


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = cli(str(tmp_path / "nope.yaml"))
    assert run.returncode == 2
    assert run.stderr.strip() == f"goldgate check manifests: {tmp_path / 'nope.yaml'}: no such file or folder"
    assert "Traceback" not in run.stderr + run.stdout


def test_empty_folder_is_inconclusive(tmp_path: Path) -> None:
    run = cli(str(tmp_path), "--format", "json")
    assert run.returncode == 2
    [finding] = json.loads(run.stdout)
    assert finding["status"] == "INCONCLUSIVE" and finding["rule"] == "workload-present"


def test_json_carries_every_location_field() -> None:
    run = cli(str(FIXTURES / "fail" / "both-zero.yaml"), "--format", "json")
    rows = {r["rule"]: r for r in json.loads(run.stdout)}
    surge = rows["max-surge"]
    assert (surge["status"], surge["document"], surge["kind"], surge["name"]) == ("FAIL", 0, "Deployment", "web")
    assert surge["field"] == "spec.strategy.rollingUpdate.maxSurge"
    assert (surge["observed"], surge["expected"]) == ("0", "at least 1")
    assert "forces maxUnavailable to 1" in rows["max-unavailable"]["message"]


def test_sarif_is_well_formed() -> None:
    run = cli(str(FIXTURES / "fail"), "--format", "sarif")
    assert run.returncode == 1
    log = json.loads(run.stdout)
    jsonschema.validate(log, SARIF_SUBSET, format_checker=jsonschema.FormatChecker())
    driver = log["runs"][0]["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    results = log["runs"][0]["results"]
    assert results and all(r["ruleId"] in ids for r in results)
    assert {"error"} <= {r["level"] for r in results}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".yaml") for r in results)


def test_env_policy_is_read_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = argparse.Namespace(paths=[], env="local", environments=str(ROOT / "environments"))
    assert check.policy_for(args) == Policy()  # no policy: section yet → the guide's values

    class Section:
        workloads = Policy(min_replicas=5)

    class WithPolicy:
        policy = Section()

    monkeypatch.setattr("goldgate.config.load_environment", lambda name, directory: WithPolicy())
    assert check.policy_for(args).min_replicas == 5
    WithPolicy.policy = Policy(min_replicas=4)  # type: ignore[assignment]
    assert check.policy_for(args).min_replicas == 4


def test_unknown_env_is_one_line() -> None:
    run = cli(str(FIXTURES / "pass"), "--env", "nowhere")
    assert run.returncode == 2
    assert "unknown environment 'nowhere'" in run.stderr and "Traceback" not in run.stderr
    with pytest.raises(CheckInputError):
        check.policy_for(argparse.Namespace(env="nowhere", environments=str(ROOT / "environments")))
