"""The in-cluster locust manifests are valid Kubernetes 1.37 and agree with each other."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import yaml

from goldgate.load.plan import LoadPlan

from ..conftest import ROOT

DEPLOY = ROOT / "deploy" / "load"


def _docs() -> list[dict]:
    return [d for p in sorted(DEPLOY.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def test_manifests_validate_strictly() -> None:
    docs = _docs()
    assert {d["kind"] for d in docs} == {"ConfigMap", "Deployment", "Service"}
    for doc in docs:
        kubernetes_validate.validate(doc, "1.37", strict=True)


def test_workers_plan_and_master_agree() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _docs()}
    raw = json.loads(docs[("ConfigMap", "goldgate-load-plan")]["data"]["plan.json"])
    plan = LoadPlan(target_url="http://trading-bot.trading.svc.cluster.local",
                    **{k: v for k, v in raw.items() if k != "results_dir"} | {"think_time_s": tuple(raw["think_time_s"])})
    workers = docs[("Deployment", "locust-worker")]["spec"]["replicas"]
    master_args = docs[("Deployment", "locust-master")]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert plan.workers == workers
    assert f"--expect-workers={workers}" in master_args
    assert master_args[master_args.index("-u") + 1] == str(plan.locust_users)
    assert Path(master_args[1]).name == "locustfile.py"
