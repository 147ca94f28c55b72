"""deploy/judge/: the judge's manifests read only, and the examples speak the judge's words."""

from __future__ import annotations

from pathlib import Path

import yaml

from goldgate.criteria.judge import CONTROLLER_VERDICTS
from goldgate.judge import flagger

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "judge"


def _docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def test_the_judge_role_never_mutates_and_reads_one_secret() -> None:
    role = next(d for d in _docs("10-role.yaml") if d["kind"] == "Role")
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
        if "secrets" in rule["resources"]:
            assert rule["resourceNames"] == ["goldgate-prometheus"] and rule["verbs"] == ["get"]


def test_deployment_runs_goldgate_serve_with_its_token_from_a_secret() -> None:
    deploy = next(d for d in _docs("20-deployment.yaml") if d["kind"] == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "goldgate-judge" and container["args"][0] == "serve"
    token = next(e for e in container["env"] if e["name"] == "GOLDGATE_JUDGE_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["name"] == "goldgate-judge"
    assert deploy["spec"]["strategy"]["type"] == "Recreate"


def test_examples_call_known_hooks_and_read_known_verdicts() -> None:
    canary = _docs("examples/flagger-canary.yaml")[0]
    for hook in canary["spec"]["analysis"]["webhooks"]:
        assert hook["url"].rsplit("/", 1)[1] in flagger.HOOKS and hook["type"] in flagger.HOOKS
    web = _docs("examples/argo-analysistemplate.yaml")[0]["spec"]["metrics"][0]
    for word in ("PASS", "FAIL", "ROLLBACK"):
        assert word in web["successCondition"] + web["failureCondition"] and word in CONTROLLER_VERDICTS
    assert "INCONCLUSIVE" not in web["successCondition"] + web["failureCondition"]
