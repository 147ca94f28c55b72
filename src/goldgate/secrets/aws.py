"""``aws-sm:SECRET_ID[#KEY]``: an AWS Secrets Manager secret, read through boto3.

Credentials come from boto3's standard chain (variables, shared config and profile, SSO,
the pod's IRSA web identity, the instance role), so nothing in the environment file is a
credential. Region and endpoint come from ``secrets.aws`` or ``AWS_REGION`` /
``AWS_ENDPOINT_URL``. With ``#KEY`` the SecretString is a JSON object and KEY one of its
keys (what the console's "key/value" secrets store); without it, the whole SecretString.

Requests are bounded by botocore's connect/read timeouts and its standard retry mode
(``retries + 1`` attempts in total, throttling and 5xx only). Each secret is fetched once
per run; a failure is remembered for the run too.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import boto3
import botocore.config
import botocore.exceptions as aws_errors

from goldgate.secrets.errors import SecretResolutionError, unresolved
from goldgate.secrets.refs import Reference
from goldgate.secrets.settings import AwsSettings, Limits

_DENIED = {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId",
           "ExpiredTokenException", "InvalidSignatureException", "SignatureDoesNotMatch"}
_MISSING = {"ResourceNotFoundException"}


def _error_code(response: dict[str, Any]) -> str:
    """The AWS error code; endpoints that answer a JSON-protocol call with an XML error body
    (some proxies and emulators) leave only the HTTP status in ``Code``, the name in the body."""
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    if not code or code.isdigit():
        found = re.search(r"<Code>([A-Za-z.]+)</Code>", str(error.get("Message", "")))
        if found:
            return found.group(1)
    return code


class AwsSecretsManagerBackend:
    """Reads secrets from one region's Secrets Manager endpoint for one run."""

    def __init__(self, settings: AwsSettings, limits: Limits, environ: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.limits = limits
        self.environ = dict(os.environ if environ is None else environ)
        self._client: Any = None
        self._strings: dict[str, str | SecretResolutionError] = {}
        self.requests = 0

    def read(self, ref: Reference) -> str:
        text = self._secret_string(ref)
        if ref.key is None:
            return text
        try:
            document = json.loads(text)
        except ValueError:
            raise unresolved(ref.text, f"missing key: secret {ref.location} is not JSON, so it has no key {ref.key!r} "
                                       "(drop #KEY to use the whole string)") from None
        if not isinstance(document, dict):
            raise unresolved(ref.text, f"missing key: secret {ref.location} is JSON but not an object")
        if ref.key not in document:
            keys = ", ".join(sorted(document)) or "none"
            raise unresolved(ref.text, f"missing key: {ref.key!r} is not in secret {ref.location} (keys there: {keys})")
        value = document[ref.key]
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    # ------------------------------------------------------------------ fetching
    def _secret_string(self, ref: Reference) -> str:
        cached = self._strings.get(ref.location)
        if isinstance(cached, SecretResolutionError):
            raise unresolved(ref.text, str(cached))
        if cached is not None:
            return cached
        try:
            text = self._fetch(ref.location)
        except SecretResolutionError as exc:
            self._strings[ref.location] = exc
            raise unresolved(ref.text, str(exc)) from None
        self._strings[ref.location] = text
        return text

    def _fetch(self, secret_id: str) -> str:
        client = self._connect()
        where = client.meta.endpoint_url
        self.requests += 1
        try:
            answer = client.get_secret_value(SecretId=secret_id)
        except aws_errors.ClientError as exc:
            code = _error_code(exc.response)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _MISSING:
                raise SecretResolutionError(f"missing path: no secret {secret_id} at {where}") from None
            if code in _DENIED or status in (401, 403):
                raise SecretResolutionError(f"denied: get secret {secret_id}: HTTP {status} {code}") from None
            raise SecretResolutionError(f"get secret {secret_id}: HTTP {status} {code}") from None
        except aws_errors.NoCredentialsError:
            raise SecretResolutionError(
                "no AWS credentials in the standard chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, web identity, "
                "instance role)") from None
        except (aws_errors.ConnectTimeoutError, aws_errors.ReadTimeoutError) as exc:
            kind = "connect timeout" if isinstance(exc, aws_errors.ConnectTimeoutError) else "read timeout"
            raise SecretResolutionError(f"unreachable: {where}: {kind} ({self.limits.retries + 1} attempts)") from None
        except aws_errors.SSLError:
            raise SecretResolutionError(f"unreachable: {where}: TLS verification failed") from None
        except aws_errors.EndpointConnectionError:
            raise SecretResolutionError(
                f"unreachable: {where}: connection failed ({self.limits.retries + 1} attempts)") from None
        except aws_errors.BotoCoreError as exc:
            raise SecretResolutionError(f"get secret {secret_id}: {type(exc).__name__}") from None
        if "SecretString" in answer:
            return str(answer["SecretString"])
        if "SecretBinary" in answer:
            try:
                return bytes(answer["SecretBinary"]).decode("utf-8")
            except UnicodeDecodeError:
                raise SecretResolutionError(f"secret {secret_id} is binary, not UTF-8 text") from None
        raise SecretResolutionError(f"secret {secret_id} has no current value")

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        s = self.settings
        region = s.region or self.environ.get("AWS_REGION") or self.environ.get("AWS_DEFAULT_REGION")
        endpoint = s.endpoint_url or self.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or self.environ.get(
            "AWS_ENDPOINT_URL")
        config = botocore.config.Config(
            connect_timeout=self.limits.connect_s,
            read_timeout=self.limits.read_s,
            retries={"mode": "standard", "total_max_attempts": self.limits.retries + 1},
        )
        try:
            session = boto3.session.Session(profile_name=s.profile, region_name=region)
            self._client = session.client("secretsmanager", endpoint_url=endpoint or None, config=config)
        except aws_errors.ProfileNotFound:
            raise SecretResolutionError(f"AWS profile {s.profile!r} is not in the shared config") from None
        except aws_errors.NoRegionError:
            raise SecretResolutionError("no AWS region: set secrets.aws.region or AWS_REGION") from None
        except ValueError as exc:  # a malformed endpoint URL
            raise SecretResolutionError(f"AWS endpoint: {exc}") from None
        return self._client
