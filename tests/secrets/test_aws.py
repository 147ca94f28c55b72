"""``aws-sm:SECRET_ID[#KEY]`` through boto3 against moto's server mode.

``moto.server.ThreadedMotoServer`` on 127.0.0.1 is a real HTTP endpoint: boto3 signs and
sends its requests unchanged, with botocore's own timeouts and retry mode. These tests are
also the proof that the pinned stack works together: the venv pins python-dateutil 4.0.0
while botocore declares ``python-dateutil<3`` (scripts/setup.sh installs the lock with
``--no-deps``), and every request below goes through botocore's date handling.
"""

from __future__ import annotations

import boto3
import pytest
import requests

from goldgate.config import Timeouts
from goldgate.report import redact
from goldgate.secrets import AwsSettings, SecretResolutionError, SecretResolver, SecretsConfig
from tests.secrets.blackhole import Blackhole, closed_port
from tests.secrets.conftest import AWS_API_KEY as API_KEY
from tests.secrets.conftest import AWS_DB_PASSWORD as DB_PASSWORD

FAST = Timeouts(connect_s=0.5, read_s=0.5, retries=2, backoff_s=0.01)


pytestmark = pytest.mark.usefixtures("aws_env")


def _resolver(endpoint: str | None, **aws: object) -> SecretResolver:
    return SecretResolver(SecretsConfig(aws=AwsSettings(endpoint_url=endpoint, **aws)), timeouts=FAST)


def test_a_json_key_and_the_whole_string_each_fetched_once(moto_url: str) -> None:
    r = _resolver(moto_url)
    assert r.resolve("aws-sm:trading-bot/staging#db_password") == DB_PASSWORD
    assert r.resolve("aws-sm:trading-bot/staging#api_key") == API_KEY
    assert r.resolve("aws-sm:trading-bot/staging#port") == "5432"
    assert r.resolve("aws-sm:trading-bot/plain-token") == API_KEY + "-plain"
    backend = r._backends["aws-sm"]
    assert backend.requests == 2  # type: ignore[attr-defined]
    assert DB_PASSWORD not in redact.redact(f"pw {DB_PASSWORD}")


def test_region_and_endpoint_from_the_standard_variables(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    assert _resolver(None).resolve("aws-sm:trading-bot/staging#api_key") == API_KEY
    arn = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="eu-west-1").describe_secret(SecretId="trading-bot/staging")["ARN"]
    assert _resolver(None).resolve(f"aws-sm:{arn}#api_key") == API_KEY
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(SecretResolutionError, match=r"no AWS region: set secrets.aws.region or AWS_REGION"):
        _resolver(moto_url).resolve("aws-sm:trading-bot/staging#api_key")
    assert _resolver(moto_url, region="eu-west-1").resolve("aws-sm:trading-bot/staging#api_key") == API_KEY


@pytest.mark.parametrize(("ref", "cause"), [
    ("aws-sm:trading-bot/absent#x",
     r"^secret reference aws-sm:trading-bot/absent#x not resolved: missing path: no secret trading-bot/absent "
     r"at http://127.0.0.1:\d+$"),
    ("aws-sm:trading-bot/staging#nope",
     r"^secret reference aws-sm:trading-bot/staging#nope not resolved: missing key: 'nope' is not in secret "
     r"trading-bot/staging \(keys there: api_key, db_password, port\)$"),
    ("aws-sm:trading-bot/plain-token#k", r"missing key: secret trading-bot/plain-token is not JSON"),
    ("aws-sm:trading-bot/list#k", r"missing key: secret trading-bot/list is JSON but not an object"),
])
def test_failures_name_the_reference_and_the_cause(moto_url: str, ref: str, cause: str) -> None:
    with pytest.raises(SecretResolutionError, match=cause) as exc:
        _resolver(moto_url).resolve(ref)
    message = str(exc.value)
    assert API_KEY not in message and DB_PASSWORD not in message
    assert redact.redact(message) == message


def test_a_denied_read_is_reported_as_denied(moto_url: str) -> None:
    """moto enforces IAM once its auth is switched on: a user without a policy gets 403."""
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.create_user(UserName="goldgate-nobody")
    key = iam.create_access_key(UserName="goldgate-nobody")["AccessKey"]
    requests.post(f"{moto_url}/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
    try:
        r = _resolver(moto_url)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            mp.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            with pytest.raises(SecretResolutionError, match=r"denied: get secret trading-bot/staging: HTTP 40[03] "
                                                            r"AccessDenied"):
                r.resolve("aws-sm:trading-bot/staging#api_key")
    finally:
        requests.post(f"{moto_url}/moto-api/reset-auth", data=b"inf", timeout=5).raise_for_status()


def test_no_credentials_in_the_chain(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(SecretResolutionError, match=r"no AWS credentials in the standard chain"):
        _resolver(moto_url).resolve("aws-sm:trading-bot/staging#api_key")


@pytest.mark.timeout(30)
def test_a_blackholed_endpoint_costs_bounded_attempts_once_per_run() -> None:
    with Blackhole() as hole:
        r = _resolver(hole.url)
        with pytest.raises(SecretResolutionError, match=r"unreachable: http://127.0.0.1:\d+: read timeout "
                                                        r"\(3 attempts\)"):
            r.resolve("aws-sm:trading-bot/staging#api_key")
        assert len(hole.accepted) == 3
        with pytest.raises(SecretResolutionError, match="unreachable"):
            r.resolve("aws-sm:trading-bot/staging#db_password")
        assert len(hole.accepted) == 3


def test_a_refused_endpoint_is_unreachable() -> None:
    with pytest.raises(SecretResolutionError, match=r"unreachable: http://127.0.0.1:\d+: connection failed"):
        _resolver(f"http://127.0.0.1:{closed_port()}").resolve("aws-sm:trading-bot/staging#api_key")
