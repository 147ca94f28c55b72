"""The literal-secret rule refuses values that carry a secret, never file names or password-less URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from goldgate.config import EnvironmentFileError, load_environment

BASE = "name: team\nkubernetes: {kubeconfig: /etc/kube/config}\n"
RELEASE = "release: {version: 1.0.0}\n"


def _load(tmp_path: Path, extra: str) -> object:
    # A file holds each key once (the loader refuses duplicates): extra may bring its own release.
    release = "" if extra.startswith("release:") else RELEASE
    (tmp_path / "team.yaml").write_text(BASE + release + extra, encoding="utf-8")
    return load_environment("team", tmp_path)


@pytest.mark.parametrize("extra", [
    "release: {version: 1.0.0, layout: {secrets_baseline: .secrets.baseline}}\n",
    "database: {url: 'sqlite:///x.db'}\n",
    "database: {url: 'postgresql://db.internal:5432/app', scratch_url: 'postgresql://127.0.0.1:5432/scratch'}\n",
    "database: {url: 'env:DATABASE_URL'}\n",
    "secrets: {vault: {jwt_path: /var/run/secrets/kubernetes.io/serviceaccount/token}}\n",
    "http: {headers: {Authorization: 'vault:secret/bot#token'}}\n",
])
def test_file_names_references_and_password_less_urls_are_accepted(tmp_path: Path, extra: str) -> None:
    _load(tmp_path, extra)


@pytest.mark.parametrize(("extra", "field"), [
    ("database: {url: 'postgresql://app:s3cret@db/app'}\n", "database.url"),
    ("metrics: {prometheus_url: 'https://admin:hunter22@prom.internal'}\n", "metrics.prometheus_url"),
    ("http: {headers: {Authorization: 'Bearer abcdefghijklmnop'}}\n", "http.headers.Authorization"),
    ("description: ghp_abcdefghijklmnopqrstuvwx\n", "description"),
    ("secrets: {aws: {token: abc123}}\n", "secrets.aws.token"),
    ("extra_password: pw\n", "extra_password"),
])
def test_values_that_carry_a_secret_are_refused_naming_the_field(tmp_path: Path, extra: str, field: str) -> None:
    with pytest.raises(EnvironmentFileError) as info:
        _load(tmp_path, extra)
    assert f"{field}: looks like a literal secret" in str(info.value)
    for secret in ("s3cret", "hunter22", "abcdefghijklmnop", "abc123"):
        assert secret not in str(info.value)


def test_env_check_and_the_schema_agree_on_a_sqlite_url(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        BASE + "database: {url: 'sqlite:///bot.db'}\nrelease: {version: 1.0.0, layout: "
        "{secrets_baseline: .secrets.baseline}}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "check", "--dir", str(tmp_path), "team"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok ")
