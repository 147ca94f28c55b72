"""``goldgate env check --resolve``: every reference of a file resolved as a run would, listed
with its field path, never with its value; exit 0 only when all resolve."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from tests.secrets.conftest import AWS_API_KEY, AWS_DB_PASSWORD, PROM_TOKEN, SandboxApi
from tests.secrets.test_vault import API_TOKEN, TOKEN, _state
from tests.secrets.vault_double import VaultDouble

GOLDGATE = pathlib.Path(sys.executable).with_name("goldgate")
PLANTED = (API_TOKEN, TOKEN, AWS_API_KEY, AWS_DB_PASSWORD, PROM_TOKEN, "CanaryEnvVar-19fe")


@pytest.fixture
def vault() -> Iterator[VaultDouble]:
    with VaultDouble(_state()) as double:
        yield double


def _write(tmp_path: pathlib.Path, vault: VaultDouble, moto_url: str, kubeconfig: pathlib.Path,
           extra: str = "") -> pathlib.Path:
    envdir = tmp_path / "environments"
    envdir.mkdir(exist_ok=True)
    (envdir / "staging.yaml").write_text(textwrap.dedent(f"""\
        name: staging
        kubernetes: {{kubeconfig: {kubeconfig}, request_timeout_s: 2}}
        http:
          base_url: "http://127.0.0.1:9"
          headers: {{X-API-Key: "vault:secret/trading-bot/staging#api_token", X-Desk: "env:GG_DESK_TOKEN"}}
        metrics: {{source: prometheus, prometheus_url: "http://127.0.0.1:9", prometheus_auth: "k8s:trading/goldgate-prometheus#token"}}
        database: {{url: "aws-sm:trading-bot/staging#db_password"{extra}}}
        timeouts: {{connect_s: 0.5, read_s: 1, retries: 1, backoff_s: 0.01}}
        secrets:
          vault: {{address: "{vault.url}"}}
          aws: {{endpoint_url: "{moto_url}", region: eu-west-1}}
        release: {{version: v1.2.0}}
    """))
    return envdir


def _run(envdir: pathlib.Path, tmp_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULT_"))}
    env.update(VAULT_TOKEN=TOKEN, GG_DESK_TOKEN="CanaryEnvVar-19fe", HOME=str(tmp_path), AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run([str(GOLDGATE), "env", "check", "--resolve", "--dir", str(envdir), "staging"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def test_all_references_resolve(tmp_path: pathlib.Path, vault: VaultDouble, moto_url: str, api: SandboxApi,
                                kubeconfig: pathlib.Path) -> None:
    done = _run(_write(tmp_path, vault, moto_url, kubeconfig), tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "  resolved http.headers.X-API-Key = vault:secret/trading-bot/staging#api_token" in out
    assert "  resolved http.headers.X-Desk = env:GG_DESK_TOKEN" in out
    assert "  resolved metrics.prometheus_auth = k8s:trading/goldgate-prometheus#token" in out
    assert "  resolved database.url = aws-sm:trading-bot/staging#db_password" in out
    assert "4 of 4 secret references resolved" in out
    assert [p for p in PLANTED if p in out] == []


def test_one_unresolved_reference_fails_the_check_and_says_why(
    tmp_path: pathlib.Path, vault: VaultDouble, moto_url: str, api: SandboxApi, kubeconfig: pathlib.Path,
) -> None:
    envdir = _write(tmp_path, vault, moto_url, kubeconfig,
                    extra=', scratch_url: "vault:secret/forbidden/prod#api_token"')
    done = _run(envdir, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert ("  FAILED   database.scratch_url = vault:secret/forbidden/prod#api_token — denied: read "
            "secret/forbidden/prod (KV v2): HTTP 403 permission denied") in out
    assert "4 of 5 secret references resolved" in out
    assert [p for p in PLANTED if p in out] == []
