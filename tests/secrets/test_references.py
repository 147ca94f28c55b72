"""Reference shapes, the ``secrets:`` section of an environment file, and the names
config.py keeps for its existing importers."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldgate import config, secrets
from goldgate.config import EnvironmentFileError, load_environment
from goldgate.secrets import Reference, SecretResolutionError, resolve_secret
from goldgate.secrets.refs import references_in

MINIMAL = "release: {version: v1.0.0}\n"


def _load(tmp_path: Path, body: str) -> config.Environment:
    (tmp_path / "staging.yaml").write_text(body)
    return load_environment("staging", tmp_path)


@pytest.mark.parametrize("ref", [
    "env:API_TOKEN", "file:/run/secrets/token", "vault:secret/trading-bot/staging#api_token",
    "aws-sm:trading-bot/staging#db_password", "aws-sm:trading-bot/plain-token",
    "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:trading-bot-AbCdEf#url",
    "k8s:trading/goldgate-prometheus#token",
])
def test_every_reference_form_is_accepted(tmp_path: Path, ref: str) -> None:
    env = _load(tmp_path, MINIMAL + f'metrics: {{prometheus_auth: "{ref}"}}\n')
    assert env.metrics.prometheus_auth == ref


@pytest.mark.parametrize("value", [
    "vault:secret/no-key", "k8s:trading/no-key", "k8s:Trading/Upper#k", "aws-sm:#key", "plain-literal-token",
])
def test_malformed_references_are_rejected_without_echoing_them(tmp_path: Path, value: str) -> None:
    with pytest.raises(EnvironmentFileError, match=r"metrics.prometheus_auth: secrets must be references "
                                                   r"\(env:VAR, file:PATH, vault:PATH#KEY, aws-sm:") as exc:
        _load(tmp_path, MINIMAL + f'metrics: {{prometheus_auth: "{value}"}}\n')
    assert value not in str(exc.value)


def test_the_secrets_section_is_validated(tmp_path: Path) -> None:
    env = _load(tmp_path, MINIMAL + "secrets:\n  vault: {address: 'https://vault:8200', kv_version: 1, "
                "auth: kubernetes, role: goldgate-gate, read_s: 4}\n  aws: {region: eu-west-1}\n")
    assert env.secrets.vault.kv_version == 1 and env.secrets.vault.role == "goldgate-gate"
    assert env.secrets.vault.jwt_path == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    with pytest.raises(EnvironmentFileError, match=r"secrets.vault: .*auth 'kubernetes' needs secrets.vault.role"):
        _load(tmp_path, MINIMAL + "secrets: {vault: {auth: kubernetes}}\n")
    with pytest.raises(EnvironmentFileError, match=r"secrets.vault.kv_version: "):
        _load(tmp_path, MINIMAL + "secrets: {vault: {kv_version: 3}}\n")
    with pytest.raises(EnvironmentFileError, match=r"secrets.aws.token: Extra inputs are not permitted|"
                                                   r"secrets.aws.token: looks like a literal secret"):
        _load(tmp_path, MINIMAL + "secrets: {aws: {token: abcdefgh}}\n")


def test_the_shipped_templates_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "environments"
    staging = load_environment("staging", root)
    assert staging.secrets.vault.address and staging.secrets.aws.region
    fields = dict(references_in(staging.model_dump(mode="json")))
    assert fields["http.headers.Authorization"] == "vault:secret/trading-bot/staging#api_token"
    assert fields["database.url"].startswith("vault:")


def test_config_keeps_its_names() -> None:
    assert config.SecretResolutionError is secrets.SecretResolutionError
    assert config.resolve_secret is secrets.resolve_secret
    assert config.SecretRef is secrets.SecretRef
    assert config._REF_RE.match("k8s:trading/x#y")
    assert config.find_literal_secrets({"db": {"password": "pw"}, "x": "aws-sm:a#b"}) == ["db.password"]


def test_parse_and_unknown_references() -> None:
    assert Reference.parse("aws-sm:a/b") == Reference("aws-sm:a/b", "aws-sm", "a/b", None)
    assert Reference.parse("k8s:ns/name#key").key == "key"
    with pytest.raises(SecretResolutionError, match=r"not a secret reference: gcp:…"):
        resolve_secret("gcp:projects/x/secrets/y")
    with pytest.raises(SecretResolutionError, match=r"not a secret reference"):
        resolve_secret(None)  # type: ignore[arg-type]


def test_env_and_file_are_read_at_each_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text("first-value-123\n")
    assert resolve_secret(f"file:{token}") == "first-value-123"
    token.write_text("rotated-value-456\n")
    assert resolve_secret(f"file:{token}") == "rotated-value-456"
    token.write_bytes(b"\xff\xfe")
    with pytest.raises(SecretResolutionError, match=r"not UTF-8 text"):
        resolve_secret(f"file:{token}")
