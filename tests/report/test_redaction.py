"""Canary secrets planted in a run must not surface in any report, log or audit record."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from goldgate.report import redact
from goldgate.report.redact import Redactor

KUBE_TOKEN = "CANARYkubeToken-7f3a9c1e5b"
DB_PASSWORD = "CanaryDbPw-51d2e8"
API_KEY = "canary-apikey-93be1f77"
UNREGISTERED_TOKEN = "unregisteredCanaryTok-4411"
CANARIES = (KUBE_TOKEN, DB_PASSWORD, API_KEY, UNREGISTERED_TOKEN)

KUBECONFIG = f"""\
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:9"}}}}]
contexts: [{{name: ctx, context: {{cluster: c, user: deployer}}}}]
current-context: ctx
users: [{{name: deployer, user: {{token: {KUBE_TOKEN}}}}}]
"""

CHECKS = f'''
import logging

import allure

from goldgate.config import resolve_secret
from goldgate.verdict import Evidence, Verdict, expect

log = logging.getLogger("trading.probe")


def test_database_reachable(environment):
    url = resolve_secret(environment.database.url)
    log.warning("connecting to %s", url)
    print("database url:", url)
    expect(Verdict.error("database reachable", f"cannot connect to {{url}}: connection refused"))


def test_api_answers(environment):
    headers = {{name: resolve_secret(ref) for name, ref in environment.http.headers.items()}}
    allure.attach(f"X-API-Key: {{headers['X-API-Key']}}", name="request headers")
    log.info("sent headers %s", headers)
    expect(Verdict.failed("signal latency", 900.0, 500.0, f"slow; request carried {{headers}}", unit="ms",
                          evidence=Evidence("http", "GET http://127.0.0.1:9/api/v1/signal", details=headers)))


def test_kube_error_echoes_token(environment):
    token = open(environment.kubernetes.kubeconfig).read().split("token: ")[1].split("}}")[0]
    log.error("401 from API server for Authorization: Bearer %s", token)
    raise RuntimeError(f"API server said: invalid bearer token {{token}}")


def test_server_echo_never_registered():
    print("upstream answered: Authorization: Bearer {UNREGISTERED_TOKEN}")
    expect(Verdict.error("upstream", "rejected Authorization: Bearer {UNREGISTERED_TOKEN}"))
'''


def _planted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    kubeconfig = pytester.path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    envdir = pytester.path / "environments"
    envdir.mkdir()
    (envdir / "local.yaml").write_text(textwrap.dedent(f"""\
        name: local
        kubernetes: {{kubeconfig: {kubeconfig}}}
        http:
          base_url: "http://127.0.0.1:9"
          headers: {{X-API-Key: "env:CANARY_API_KEY"}}
        database: {{url: "env:CANARY_DATABASE_URL"}}
        release: {{version: v9.9.9}}
    """), encoding="utf-8")
    pytester.makeini("[pytest]\ngoldgate = true\naddopts = -p no:cacheprovider -p no:locust -p no:hypothesispytest -p no:pytest_cov\njunit_logging = all\nlog_level = INFO\n")
    pytester.makepyfile(test_canaries=CHECKS)
    monkeypatch.setenv("CANARY_DATABASE_URL", f"postgresql://bot:{DB_PASSWORD}@127.0.0.1:9/trading")
    monkeypatch.setenv("CANARY_API_KEY", API_KEY)
    for var in ("CI", "GOLDGATE_AUDIT_POSTGRES", "GOLDGATE_AUDIT_LOG"):
        monkeypatch.delenv(var, raising=False)
    return pytester


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def test_no_canary_reaches_any_output(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _planted(pytester, monkeypatch)
    result = p.runpytest_subprocess("--alluredir=reports/allure-results", "-rA", "--log-cli-level=INFO")
    assert result.ret == 1
    result.assert_outcomes(failed=2, errors=2)
    reports = p.path / "reports"
    written = [reports / "junit.xml", reports / "verdict.json", reports / "audit.jsonl",
               *sorted((reports / "allure-results").iterdir())]
    assert len(written) > 6
    leaks = {str(f.relative_to(p.path)): _leaks(f.read_text(encoding="utf-8", errors="replace")) for f in written}
    assert {k: v for k, v in leaks.items() if v} == {}
    assert _leaks(result.stdout.str() + result.stderr.str()) == []
    # The masks are where the secrets were, so the reports still say what happened.
    junit = (reports / "junit.xml").read_text(encoding="utf-8")
    assert "postgresql://bot:***@127.0.0.1:9/trading" in junit
    assert "Bearer ***" in result.stdout.str()
    assert "connecting to postgresql://bot:***@127.0.0.1:9/trading" in result.stdout.str()


def test_registered_values_and_shapes_are_masked() -> None:
    r = Redactor()
    r.register("postgresql://svc:p%40ss-word-1@db:5432/x")
    text = r.redact("dsn=postgresql://svc:p%40ss-word-1@db:5432/x pw p@ss-word-1")
    assert "p@ss-word-1" not in text and "p%40ss-word-1" not in text
    assert r.redact("Authorization: Bearer abc.def.ghi-123") == "Authorization: Bearer ***"
    assert r.redact("https://user:hunter22@host/path") == "https://user:***@host/path"
    assert r.redact('{"X-API-Key": "k-123456"}') == '{"X-API-Key": "***"}'
    assert r.redact("GET /q?api_key=abcdef&x=1") == "GET /q?api_key=***&x=1"
    assert r.redact("error rate 0.034 vs threshold 0.01") == "error rate 0.034 vs threshold 0.01"


def test_short_values_are_not_registered() -> None:
    r = Redactor()
    r.register("on")
    assert r.known == 0 and r.redact("on call") == "on call"


def test_kubeconfig_users_are_registered(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG, encoding="utf-8")
    assert redact.register_kubeconfig_secrets(path) == 1
    assert KUBE_TOKEN not in redact.redact(f"token={KUBE_TOKEN} and {KUBE_TOKEN}")
    assert redact.register_kubeconfig_secrets(tmp_path / "absent") == 0


def test_resolve_secret_registers_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from goldgate.config import resolve_secret

    monkeypatch.setenv("GG_TEST_SECRET", "resolved-secret-6d1f")
    assert resolve_secret("env:GG_TEST_SECRET") == "resolved-secret-6d1f"
    assert redact.redact("value resolved-secret-6d1f here") == "value *** here"


def test_allure_result_files_are_clean_before_the_session_end_pass(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run killed before its end must not have left a secret in allure-results already."""
    from goldgate import verdict as verdict_module
    from goldgate.report import session

    monkeypatch.setattr(verdict_module, "_sinks", [])
    monkeypatch.setattr(session.redact, "redact_tree", lambda *a, **k: [])
    (pytester.path / "environments").mkdir()
    (pytester.path / "environments" / "local.yaml").write_text(
        'name: local\nhttp: {base_url: "http://127.0.0.1:9"}\nrelease: {version: v9.9.9}\n')
    pytester.makepyfile(test_leak=f'''
        from goldgate.verdict import Verdict, expect

        def test_db():
            expect(Verdict.error("database", "refused: postgresql://bot:{DB_PASSWORD}@127.0.0.1:9/x"))
    ''')
    pytester.runpytest("-p", "no:cacheprovider", "--env=local", "--alluredir=results")
    files = list((pytester.path / "results").glob("*-result.json"))
    assert files
    assert not any(DB_PASSWORD in f.read_text(encoding="utf-8") for f in files)
