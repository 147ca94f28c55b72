"""A whole goldgate run whose checks use Vault, AWS Secrets Manager and Kubernetes secrets.

Planted values are resolved by the run's resolver (configured by the plugin from the
environment's ``secrets:`` section), then printed, logged, attached and put into verdict
messages by the checks. None of them may reach the Allure results, junit.xml,
verdict.json, audit.jsonl or the terminal. A reference the run cannot resolve (Vault
answers 403) makes its check ERROR with the reference and the cause, and the run NO-GO.
"""

from __future__ import annotations

import json
import pathlib
import textwrap
from collections.abc import Iterator

import pytest

from tests.secrets.conftest import AWS_API_KEY, AWS_DB_PASSWORD, PROM_TOKEN, SandboxApi
from tests.secrets.test_vault import API_TOKEN, TOKEN, _state
from tests.secrets.vault_double import VaultDouble

PLANTED = (API_TOKEN, TOKEN, AWS_DB_PASSWORD, AWS_API_KEY, PROM_TOKEN)

CHECKS = '''
import logging

import allure

from goldgate.config import SecretResolutionError, resolve_secret
from goldgate.criteria.measured import measure_and_judge
from goldgate.criteria.threshold import at_most
from goldgate.verdict import Evidence, Verdict, expect

log = logging.getLogger("trading.probe")


def test_api_key_from_vault(environment):
    key = resolve_secret(environment.http.headers["X-API-Key"])
    log.warning("sending X-Desk %s", key)
    print("header value", key)
    allure.attach(f"headers: {key}", name="request")
    expect(Verdict.failed("signal latency", 900.0, 500.0, f"slow with key {key}", unit="ms",
                          evidence=Evidence("http", "GET http://127.0.0.1:9/api/v1/signal", details={"key": key})))


def test_database_from_aws(environment):
    password = resolve_secret(environment.database.url)
    log.error("login failed for password %s", password)
    expect(Verdict.error("database reachable", f"refused with {password}"))


def test_prometheus_token_from_kubernetes(environment):
    token = resolve_secret(environment.metrics.prometheus_auth)
    raise RuntimeError(f"prometheus said 401 to {token}")


def test_whole_aws_string(environment):
    value = resolve_secret("aws-sm:trading-bot/plain-token")
    expect(Verdict.error("plain", f"value {value}"))


def test_scratch_database_denied(environment):
    expect(measure_and_judge("scratch database restores",
                             lambda: resolve_secret(environment.database.scratch_url),
                             lambda url: at_most("restore", 0.0, 1.0), (SecretResolutionError,)))
'''


@pytest.fixture
def vault() -> Iterator[VaultDouble]:
    with VaultDouble(_state()) as double:
        yield double


def test_no_planted_secret_reaches_any_output_and_a_denied_one_is_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, vault: VaultDouble, moto_url: str,
    api: SandboxApi, kubeconfig: pathlib.Path,
) -> None:
    envdir = pytester.path / "environments"
    envdir.mkdir()
    (envdir / "local.yaml").write_text(textwrap.dedent(f"""\
        name: local
        kubernetes: {{kubeconfig: {kubeconfig}, request_timeout_s: 2}}
        http:
          base_url: "http://127.0.0.1:9"
          headers: {{X-API-Key: "vault:secret/trading-bot/staging#api_token"}}
        metrics: {{source: prometheus, prometheus_url: "http://127.0.0.1:9",
                   prometheus_auth: "k8s:trading/goldgate-prometheus#token"}}
        database: {{url: "aws-sm:trading-bot/staging#db_password",
                    scratch_url: "vault:secret/forbidden/prod#api_token"}}
        secrets:
          vault: {{address: "{vault.url}"}}
          aws: {{endpoint_url: "{moto_url}", region: eu-west-1}}
        release: {{version: v9.9.9}}
    """))
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:locust -p no:hypothesispytest -p no:pytest_cov\n"
                     "junit_logging = all\nlog_level = INFO\n")
    pytester.makepyfile(test_planted=CHECKS)
    for var in ("CI", "GOLDGATE_AUDIT_POSTGRES", "GOLDGATE_AUDIT_LOG", "VAULT_ADDR", "VAULT_NAMESPACE",
                "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

    result = pytester.runpytest_subprocess("--env=local", "--alluredir=reports/allure-results", "-rA",
                                           "--log-cli-level=INFO")
    reports = pytester.path / "reports"
    written = [reports / "junit.xml", reports / "verdict.json", reports / "audit.jsonl",
               *sorted((reports / "allure-results").iterdir())]
    assert len(written) > 6
    leaks = {str(f.relative_to(pytester.path)): [p for p in PLANTED if p in f.read_text(errors="replace")]
             for f in written}
    assert {k: v for k, v in leaks.items() if v} == {}
    output = result.stdout.str() + result.stderr.str()
    assert [p for p in PLANTED if p in output] == []
    # every value was fetched (each check got past resolution, to its own failure)
    assert "slow with key ***" in output and "prometheus said 401 to ***" in output

    verdict = json.loads((reports / "verdict.json").read_text())
    assert verdict["decision"] == "NO-GO"
    denied = [c for c in verdict["criteria"] if c.get("criterion") == "scratch database restores"]
    assert denied and denied[0]["status"] == "ERROR"
    assert ("secret reference vault:secret/forbidden/prod#api_token not resolved: denied: read "
            "secret/forbidden/prod (KV v2): HTTP 403 permission denied") in denied[0]["reason"]
    assert vault.reads("/v1/secret/data/trading-bot/staging") == 1
