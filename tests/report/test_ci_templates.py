"""deploy/ci: pipelines validate against their CI's JSON schema, manifests against Kubernetes.

The workflow schemas are the SchemaStore ones vendored by check-jsonschema (PyPI); the
Kubernetes manifests go through kubernetes-validate in strict mode. Beyond schema
validity, the pipelines must run the guide's stages in order and let goldgate decide.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from goldgate.config import load_environment

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "deploy" / "ci"
MANIFESTS = sorted((CI / "kubernetes").glob("*.yaml"))

GUIDE_STAGES = ["gate", "deploy-staging", "smoke", "rollout", "monitor", "tag"]


def _schema_check(builtin: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("builtin", "name"), [("vendor.github-workflows", "github-actions.yml"),
                                               ("vendor.gitlab-ci", "gitlab-ci.yml")])
def test_pipeline_matches_its_schema(builtin: str, name: str) -> None:
    done = _schema_check(builtin, CI / name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert _schema_check("vendor.github-workflows", broken).returncode != 0


def _goldgate_runs(script: str) -> list[str]:
    return re.findall(r"pytest --env=\S+ -m (\"[^\"]+\"|\S+)", script)


def test_github_workflow_runs_the_guide_stages_in_order() -> None:
    wf = yaml.safe_load((CI / "github-actions.yml").read_text())
    jobs = wf["jobs"]
    order = list(jobs)
    assert order == ["gate", "deploy-staging", "smoke-staging", "rollout-production", "monitor-production", "tag"]
    for before, after in itertools.pairwise(order):
        assert jobs[after]["needs"] == before
    markers = {}
    for name, job in jobs.items():
        scripts = "\n".join(step.get("run", "") for step in job["steps"])
        runs = _goldgate_runs(scripts)
        if not runs:
            continue
        markers[name] = runs[0]
        assert "goldgate verdict" in scripts, f"{name}: the decision must come from goldgate verdict"
        report_steps = [s for s in job["steps"] if s.get("run") == "goldgate report"]
        assert report_steps and report_steps[0]["if"] == "always()", f"{name}: publish the report on failure too"
        assert any("upload-artifact" in s.get("uses", "") and s["if"] == "always()" for s in job["steps"])
    assert markers == {"gate": "gate", "smoke-staging": "smoke", "rollout-production": "rollout",
                       "monitor-production": '"monitoring or smoke"'}
    rollout = "\n".join(s.get("run", "") for s in jobs["rollout-production"]["steps"])
    assert "--allow-mutations" in rollout and '--change="$CHANGE_TICKET"' in rollout
    assert jobs["rollout-production"]["environment"] == "production"


def test_gitlab_pipeline_runs_the_guide_stages_in_order() -> None:
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert pipeline["stages"] == GUIDE_STAGES
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "stage" in v}
    assert [j["stage"] for j in jobs.values()] == GUIDE_STAGES
    template = pipeline[".goldgate"]
    assert template["artifacts"]["when"] == "always"
    assert "reports/allure-report/" in template["artifacts"]["paths"]
    assert template["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert any("goldgate report" in line for line in template["after_script"])
    for name, job in jobs.items():
        script = "\n".join(job["script"])
        if "pytest" in script:
            assert job["extends"] == ".goldgate"
            assert script.rstrip().endswith("goldgate verdict"), name
    assert "--allow-mutations" in "\n".join(jobs["rollout-production"]["script"])


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_against_kubernetes(manifest: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("kubernetes-validate")), "--strict", "--quiet", str(manifest)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _docs() -> list[dict]:
    return [d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]


def test_gate_identity_only_reads() -> None:
    docs = _docs()
    read = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "goldgate-read")
    verbs = {v for rule in read["rules"] for v in rule["verbs"]}
    assert verbs <= {"get", "list", "watch"}
    assert not any("pods/exec" in rule["resources"] for rule in read["rules"])
    # Secrets: only get, only on named ones (tests/secrets/test_kubernetes.py pins which)
    assert all(rule.get("resourceNames") and rule["verbs"] == ["get"] for rule in read["rules"]
               if "secrets" in rule["resources"])
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    gate_roles = {b["roleRef"]["name"] for b in bindings if any(s["name"] == "goldgate-gate" for s in b["subjects"])}
    assert gate_roles == {"goldgate-read"}


def test_rollback_role_is_separate_and_narrow() -> None:
    docs = _docs()
    rollback = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "goldgate-rollback")
    for rule in rollback["rules"]:
        assert set(rule["verbs"]) <= {"patch", "update"}
        assert rule["resourceNames"], "mutations are limited to the bot's own objects"
    binding = next(d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == "goldgate-rollback")
    assert [s["name"] for s in binding["subjects"]] == ["goldgate-rollout"]
    jobs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Job"}
    assert jobs["goldgate-gate"]["spec"]["template"]["spec"]["serviceAccountName"] == "goldgate-gate"
    assert "--allow-mutations" not in jobs["goldgate-gate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert jobs["goldgate-rollout"]["spec"]["template"]["spec"]["serviceAccountName"] == "goldgate-rollout"


def test_in_cluster_environment_is_a_valid_goldgate_environment(tmp_path: Path) -> None:
    cm = next(d for d in _docs() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "goldgate-environments")
    (tmp_path / "production.yaml").write_text(cm["data"]["production.yaml"])
    env = load_environment("production", tmp_path)
    assert env.production and env.kubernetes.kubeconfig == "in-cluster"


def test_dockerfile_copies_only_what_exists_and_runs_unprivileged() -> None:
    text = (CI / "Dockerfile").read_text()
    sources = [part for line in text.splitlines() if line.startswith("COPY ")
               for part in line.split()[1:-1] if not part.startswith("--")]
    missing = [s for s in sources if not (ROOT / s).exists() and s != "README.md"]
    assert missing == []
    assert re.search(r"^USER 10001$", text, re.M)
    assert "requirements.lock" in text
