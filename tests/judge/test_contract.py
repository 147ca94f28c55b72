"""The judge's HTTP contract, as Flagger and Argo Rollouts call it, over scripted monitors.

Payloads and headers are the controllers' own:

* Flagger POSTs ``{"name", "namespace", "phase", "checksum", "metadata"}`` with
  ``Content-Type: application/json`` and no custom headers (https://docs.flagger.app/usage/webhooks;
  headers cannot be configured, fluxcd/flagger#1192, so the token rides in ``metadata``);
  its event webhook sends ``metadata.eventMessage/eventType/timestamp``
  (https://docs.flagger.app/usage/monitoring#event-webhook).
* Argo Rollouts' web provider sends the AnalysisTemplate's ``headers`` and ``jsonBody``
  with ``method: POST`` (https://argoproj.github.io/argo-rollouts/analysis/web/).

Each verdict class is produced through each endpoint; the sandbox tests do the same on pods.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from goldgate.config import Environment, load_environment
from goldgate.judge.app import create_app
from tests.judge.fakes import TOKEN, scripted_judge

ROOT = Path(__file__).resolve().parents[2]
FLAGGER_HEADERS = {"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1"}
ARGO_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}


def flagger_payload(name: str, checksum: str = "85d557f47b", phase: str = "Progressing") -> dict:
    return {"name": name, "namespace": "trading", "phase": phase, "checksum": checksum,
            "metadata": {"token": TOKEN}}


def argo_body(workload: str, revision: str = "6f9c8d7b5") -> dict:
    return {"namespace": "trading", "workload": workload, "revision": revision}


@pytest.fixture
def env() -> Environment:
    return load_environment("local", ROOT / "environments")


@pytest.fixture
def client(env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # the workload's name says which verdict its monitor produces
    judge = scripted_judge(env, tmp_path / "runs.sqlite3", lambda group: group.name.split("-")[0].upper(),
                           monkeypatch)
    with TestClient(create_app(judge, token=TOKEN, audit_log=tmp_path / "audit.jsonl")) as c:
        yield c


FLAGGER_CODES = {  # hook -> verdict -> status (goldgate.judge.flagger's table)
    "rollout": {"PASS": 200, "FAIL": 422, "ROLLBACK": 422, "INCONCLUSIVE": 409, "ERROR": 424},
    "confirm-promotion": {"PASS": 200, "FAIL": 422, "ROLLBACK": 422, "INCONCLUSIVE": 409, "ERROR": 424},
    "confirm-traffic-increase": {"PASS": 200, "FAIL": 422, "ROLLBACK": 422, "INCONCLUSIVE": 409, "ERROR": 424},
    "rollback": {"PASS": 409, "FAIL": 409, "ROLLBACK": 200, "INCONCLUSIVE": 409, "ERROR": 409},
}


def _settled(c: TestClient, url: str, payload: dict, headers: dict) -> tuple[int, dict]:
    """Call until the run's first evaluation answered (the first call may still be pending)."""
    for _ in range(40):
        r = c.post(url, content=json.dumps(payload), headers=headers)
        body = r.json()
        if body.get("evidence", {}).get("evaluations", 1) >= 1:
            return r.status_code, body
    return r.status_code, body


@pytest.mark.parametrize("hook", sorted(FLAGGER_CODES))
@pytest.mark.parametrize("verdict", ["PASS", "FAIL", "ROLLBACK", "INCONCLUSIVE", "ERROR"])
def test_flagger_hooks_answer_every_verdict_with_its_status(client: TestClient, hook: str, verdict: str) -> None:
    code, body = _settled(client, f"/v1/flagger/{hook}", flagger_payload(f"{verdict.lower()}-bot"), FLAGGER_HEADERS)
    assert body["verdict"] == verdict, body
    assert code == FLAGGER_CODES[hook][verdict], body
    assert body["run"] == f"trading/{verdict.lower()}-bot@85d557f47b"
    assert body["reason"] and set(body) == {"verdict", "reason", "run", "checks", "evidence"}
    for check in body["checks"]:
        assert set(check) >= {"name", "verdict", "value", "threshold"}
    if verdict in ("FAIL", "ROLLBACK"):
        assert any(c["verdict"] == verdict for c in body["checks"]), body["checks"]


@pytest.mark.parametrize("verdict,code", [("PASS", 200), ("FAIL", 200), ("ROLLBACK", 200), ("INCONCLUSIVE", 200),
                                          ("ERROR", 503)])
def test_argo_web_provider_gets_200_for_every_verdict_but_error(client: TestClient, verdict: str, code: int) -> None:
    status, body = _settled(client, "/v1/argo", argo_body(f"{verdict.lower()}-bot"), ARGO_HEADERS)
    assert (status, body["verdict"]) == (code, verdict), body
    if verdict == "ROLLBACK":
        assert "error rate" in body["reason"] and "0.031" in json.dumps(body["checks"])


def test_event_and_post_rollout_are_recorded_in_the_audit_trail(client: TestClient, tmp_path: Path) -> None:
    from goldgate.report.audit import verify

    event = {"name": "pass-bot", "namespace": "trading", "phase": "Progressing",
             "metadata": {"eventMessage": "Advance pass-bot.trading canary weight 10", "eventType": "Normal",
                          "timestamp": "1733472000000"}}
    # the event webhook is one URL for all canaries (--event-webhook): the token rides in the URL
    assert client.post("/v1/flagger/event", json=event, headers=FLAGGER_HEADERS).status_code == 401
    assert client.post(f"/v1/flagger/event?token={TOKEN}", json=event, headers=FLAGGER_HEADERS).status_code == 200
    done = flagger_payload("pass-bot", phase="Succeeded")
    r = client.post("/v1/flagger/post-rollout", json=done, headers=FLAGGER_HEADERS)
    assert r.status_code == 200 and r.json()["recorded"] == "post-rollout"
    count, problems = verify(tmp_path / "audit.jsonl")
    assert count == 2 and not problems
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert "canary weight 10" in lines[0] and TOKEN not in "".join(lines)


@pytest.mark.parametrize("method,url,payload,headers,code,field", [
    ("post", "/v1/flagger/promote-now", flagger_payload("pass-bot"), FLAGGER_HEADERS, 404, "hook"),
    ("post", "/v1/flagger/rollout", "{not json", FLAGGER_HEADERS, 400, "body"),
    ("post", "/v1/flagger/rollout", {"namespace": "trading", "checksum": "a1", "metadata": {"token": TOKEN}},
     FLAGGER_HEADERS, 400, "name"),
    ("post", "/v1/flagger/rollout", {**flagger_payload("pass-bot"), "checksum": ""}, FLAGGER_HEADERS, 400,
     "checksum"),
    ("post", "/v1/flagger/rollout", {**flagger_payload("pass-bot"), "metadata": {}}, FLAGGER_HEADERS, 401,
     "Authorization"),
    ("post", "/v1/flagger/rollout", flagger_payload("Bad_Name"), FLAGGER_HEADERS, 400, "name"),
    ("post", "/v1/flagger/rollout", flagger_payload("missing"), FLAGGER_HEADERS, 404, "name"),
    ("post", "/v1/argo", argo_body("pass-bot"), {"Content-Type": "application/json"}, 401, "Authorization"),
    ("post", "/v1/argo", argo_body("pass-bot"), {**ARGO_HEADERS, "Authorization": "Bearer wrong"}, 401,
     "Authorization"),
    ("post", "/v1/argo", {"namespace": "trading", "workload": "pass-bot"}, ARGO_HEADERS, 400, "revision"),
    ("post", "/v1/argo", [1, 2], ARGO_HEADERS, 400, "body"),
    ("post", "/v1/argo", "x" * 300_000, ARGO_HEADERS, 413, "body"),
    ("post", "/v1/argo", "", ARGO_HEADERS, 400, "body"),
    ("post", "/judge", {"scoreThresholds": {"pass": 95, "marginal": 75}}, ARGO_HEADERS, 400, "metricSetPairList"),
    ("get", "/v1/runs/trading/never-called/abc123", None, ARGO_HEADERS, 404, "run"),
    ("get", "/v1/nothing-here", None, ARGO_HEADERS, 404, "path"),
])
def test_bad_requests_get_a_4xx_naming_the_field(client: TestClient, method: str, url: str, payload: object,
                                                 headers: dict, code: int, field: str) -> None:
    if method == "get":
        r = client.get(url, headers=headers)
    else:
        content = payload if isinstance(payload, str) else json.dumps(payload)
        r = client.post(url, content=content, headers=headers)
    assert r.status_code == code, r.text
    body = r.json()
    assert body["field"] == field and body["error"], body
    assert "Traceback" not in r.text and body.get("verdict") != "PASS"


def test_rate_limit_per_client(env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = env.model_copy(update={"judge": env.judge.model_copy(update={"rate_limit_per_minute": 3})})
    judge = scripted_judge(env, tmp_path / "r.sqlite3", lambda g: "PASS", monkeypatch)
    with TestClient(create_app(judge, token=TOKEN)) as c:
        codes = [c.post("/v1/argo", json=argo_body("pass-bot"), headers=ARGO_HEADERS).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_health_and_metrics_of_the_judge_itself(client: TestClient) -> None:
    _settled(client, "/v1/argo", argo_body("pass-bot"), ARGO_HEADERS)
    assert client.get("/health").json()["status"] == "ok"
    text = client.get("/metrics").text
    assert 'goldgate_judge_requests_total{endpoint="argo",code="200"}' in text
    assert 'goldgate_judge_verdicts_total{endpoint="argo",verdict="PASS"}' in text
    assert "pass-bot" not in text  # no run names in the judge's own metrics


def test_restart_keeps_the_run_evidence(env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "runs.sqlite3"
    judge = scripted_judge(env, state, lambda g: "INCONCLUSIVE", monkeypatch)
    with TestClient(create_app(judge, token=TOKEN)) as c:
        for _ in range(5):
            before = c.post("/v1/argo", json=argo_body("slow-bot"), headers=ARGO_HEADERS).json()
    assert before["evidence"]["evaluations"] >= 1 and before["evidence"]["requests"] >= 100
    judge2 = scripted_judge(env, state, lambda g: "INCONCLUSIVE", monkeypatch)
    with TestClient(create_app(judge2, token=TOKEN)) as c:
        after = c.post("/v1/argo", json=argo_body("slow-bot"), headers=ARGO_HEADERS).json()
        status = c.get("/v1/runs/trading/slow-bot/6f9c8d7b5", headers=ARGO_HEADERS)
    assert after["evidence"]["restored"] is True
    assert after["evidence"]["evaluations"] >= before["evidence"]["evaluations"]
    assert after["evidence"]["requests"] >= before["evidence"]["requests"]
    assert status.status_code == 200 and status.json()["run"] == "trading/slow-bot@6f9c8d7b5"


def test_serve_refuses_to_start_without_its_token(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from goldgate.cli import main

    monkeypatch.delenv("GOLDGATE_JUDGE_TOKEN", raising=False)
    assert main(["serve", "--env", "local", "--environments-dir", str(ROOT / "environments")]) == 2
    err = capsys.readouterr().err
    assert "judge.token" in err and "GOLDGATE_JUDGE_TOKEN" in err and "Traceback" not in err
    assert main(["serve", "--env", "local", "--no-token", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_kayenta_malformed_metric_settings_are_a_400(client: TestClient) -> None:
    request = {"scoreThresholds": {"pass": 95, "marginal": 75},
               "canaryConfig": {"metrics": [{"name": "m", "analysisConfigurations": "oops"}]},
               "metricSetPairList": [{"name": "m", "values": {"control": [1.0], "experiment": [1.0]}}]}
    r = client.post("/judge", json=request, headers=ARGO_HEADERS)
    assert r.status_code == 400 and r.json()["field"].startswith("canaryConfig.metrics[m]")


def test_a_slow_api_never_makes_a_call_wait_past_its_budget(env: Environment, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from goldgate.judge import engine as engine_module

    judge = scripted_judge(env, tmp_path / "slow.sqlite3", lambda g: "PASS", monkeypatch)
    resolve = engine_module.resolve_target

    def slow(*a: object, **kw: object) -> object:
        time.sleep(2.5)
        return resolve(*a, **kw)

    monkeypatch.setattr(engine_module, "resolve_target", slow)
    with TestClient(create_app(judge, token=TOKEN)) as c:
        t0 = time.monotonic()
        first = c.post("/v1/argo", json=argo_body("pass-bot"), headers=ARGO_HEADERS)
        took = time.monotonic() - t0
        time.sleep(2.5)
        later = _settled(c, "/v1/argo", argo_body("pass-bot"), ARGO_HEADERS)
    assert took < 2.0 and first.json()["verdict"] == "INCONCLUSIVE" and "opening" in first.text
    assert later[1]["verdict"] == "PASS"
