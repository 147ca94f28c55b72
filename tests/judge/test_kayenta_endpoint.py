"""``POST /judge`` with a Kayenta RemoteJudgeRequest (kayenta-judge's RemoteJudgeRequest:
canaryConfig, scoreThresholds, metricSetPairList) answers a CanaryJudgeResult."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from goldgate.config import load_environment
from goldgate.judge.app import create_app
from tests.judge.fakes import TOKEN, scripted_judge

ROOT = Path(__file__).resolve().parents[2]


def _pair(name: str, control_mean: float, experiment_mean: float, n: int = 30) -> dict:
    rng = random.Random(name)
    return {"name": name, "id": f"{name}-id", "tags": {"app": "trading-bot"},
            "values": {"control": [rng.gauss(control_mean, 1) for _ in range(n)],
                       "experiment": [rng.gauss(experiment_mean, 1) for _ in range(n)]},
            "attributes": {}, "scopes": {}}


def test_remote_judge_scores_and_classifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = load_environment("local", ROOT / "environments")
    judge = scripted_judge(env, tmp_path / "k.sqlite3", lambda g: "PASS", monkeypatch)
    request = {
        "canaryConfig": {"name": "trading-bot", "judge": {"name": "goldgate-remote-judge-v1"},
                         "classifier": {"groupWeights": {"latency": 50, "errors": 50}},
                         "metrics": [{"name": "p95", "groups": ["latency"],
                                      "analysisConfigurations": {"canary": {"direction": "increase"}}},
                                     {"name": "error_rate", "groups": ["errors"],
                                      "analysisConfigurations": {"canary": {"critical": True}}},
                                     {"name": "cpu", "groups": ["latency"]}]},
        "scoreThresholds": {"pass": 95.0, "marginal": 75.0},
        "metricSetPairList": [_pair("p95", 100, 100), _pair("error_rate", 1, 5),
                              {"name": "cpu", "values": {"control": [], "experiment": [1.0]}}],
    }
    with TestClient(create_app(judge, token=TOKEN)) as c:
        r = c.post("/judge", json=request, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    body = r.json()
    labels = {m["name"]: m["classification"] for m in body["results"]}
    assert labels == {"p95": "Pass", "error_rate": "High", "cpu": "Nodata"}
    assert body["score"]["classification"] == "Fail" and body["score"]["score"] == 0.0
    assert "critical" in body["score"]["classificationReason"]
