"""Fixtures for the reporting tests: tiny synthetic goldgate projects run with pytester."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldgate import verdict as verdict_module

LOCAL_ENV = """\
name: local
kubernetes: {kubeconfig: sandbox}
http: {base_url: "http://127.0.0.1:9"}
release: {version: v9.9.9, previous_version: v9.9.8}
"""

#: Synthetic checks that call expect() the way real steps do, one per outcome.
CHECKS = {
    "passing": '''
        from goldgate.verdict import Evidence, Verdict, expect

        def test_error_rate_within_budget():
            expect(Verdict.passed("error rate", 0.002, 0.01,
                   evidence=Evidence("prometheus", "sum(rate(http_requests_total{code=~'5..'}[5m]))", 300, 1200)))
    ''',
    "breach": '''
        from goldgate.verdict import Evidence, Verdict, expect

        def test_p95_latency():
            expect(Verdict.failed("p95 latency", 812.0, 500.0, "p95 above the §8.1 alert threshold", unit="ms",
                   evidence=Evidence("scrape", "http://127.0.0.1:9/metrics", 60, 400)))
    ''',
    "rollback": '''
        from goldgate.verdict import Evidence, Verdict, expect

        def test_error_rate_rollback():
            expect(Verdict.failed("error rate", 0.034, 0.01, "above the §6.1 automatic rollback threshold",
                   rollback=True, evidence=Evidence("prometheus", "error ratio", 300, 2400)))
    ''',
    "error": '''
        from goldgate.verdict import Verdict, expect

        def test_prometheus_reachable():
            expect(Verdict.error("error rate", "GET http://127.0.0.1:9/api/v1/query: connection refused", threshold=0.01))
    ''',
    "inconclusive": '''
        from goldgate.verdict import Verdict, expect

        def test_too_little_traffic():
            expect(Verdict.inconclusive("error rate", "12 requests, 200 needed", observed=0.0, threshold=0.01))
    ''',
}


@pytest.fixture
def gg_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., pytest.Pytester]:
    """A goldgate project in pytester's folder: environments/local.yaml plus the given checks."""
    # The outer session's verdict sink must not see the inner run's verdicts.
    monkeypatch.setattr(verdict_module, "_sinks", [])
    for var in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "GOLDGATE_AUDIT_POSTGRES", "GOLDGATE_REASON", "GOLDGATE_AUDIT_LOG"):
        monkeypatch.delenv(var, raising=False)

    def _make(*checks: str, env: str = LOCAL_ENV, extra_envs: dict[str, str] | None = None) -> pytest.Pytester:
        pytester.makeini("[pytest]\ngoldgate = true\naddopts = -p no:cacheprovider -p no:locust -p no:hypothesispytest -p no:pytest_cov\n")
        envdir = pytester.path / "environments"
        envdir.mkdir(exist_ok=True)
        (envdir / "local.yaml").write_text(env, encoding="utf-8")
        for name, body in (extra_envs or {}).items():
            (envdir / f"{name}.yaml").write_text(body, encoding="utf-8")
        for check in checks:
            pytester.makepyfile(**{f"test_{check}": textwrap.dedent(CHECKS[check])})
        return pytester

    return _make


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
