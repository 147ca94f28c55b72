"""The ``secrets:`` section of an environment file: where Vault and AWS Secrets Manager are.

Everything here is optional. Unset fields fall back to the variables the vendors' own
tools read (``VAULT_ADDR``, ``VAULT_NAMESPACE``, ``VAULT_CACERT``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``, the AWS credential chain), so a CI job that already talks to Vault
or AWS needs no extra settings. Timeouts default to the environment's ``timeouts``: a
secret store is probed like every other endpoint, bounded in time and attempts.

Kubernetes Secrets (``k8s:`` references) need no section: they are read with the run's
own ``kubernetes`` target (kubeconfig, context, request timeout).

No field here holds a credential; the Vault token comes from ``VAULT_TOKEN`` or, in the
cluster, from the pod's service-account token exchanged at Vault's Kubernetes auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SERVICE_ACCOUNT_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bounds(_Model):
    """Per-store overrides of the environment's ``timeouts`` (None = the environment's)."""

    connect_s: float | None = Field(None, gt=0, le=60, description="connect timeout of this store in seconds (default: timeouts.connect_s)")
    read_s: float | None = Field(None, gt=0, le=600, description="read timeout of this store in seconds (default: timeouts.read_s)")
    retries: int | None = Field(None, ge=0, le=10, description="retries on connection failures and 5xx/throttling (default: timeouts.retries)")


class VaultSettings(Bounds):
    """HashiCorp Vault: address, namespace, KV mount and how goldgate logs in."""

    address: str | None = Field(None, description="Vault URL (default: $VAULT_ADDR)")
    namespace: str | None = Field(None, description="Vault Enterprise namespace (default: $VAULT_NAMESPACE)")
    mount: str | None = Field(
        None, description="KV mount; unset: the reference's first path segment is the mount, "
        "as in `vault kv get secret/trading-bot/staging`")
    kv_version: Literal[1, 2] = Field(2, description="KV secrets engine version of the mount")
    auth: Literal["token", "kubernetes"] = Field(
        "token", description="token: $VAULT_TOKEN; kubernetes: log in with the pod's service-account token")
    role: str | None = Field(None, description="Vault role for Kubernetes auth")
    auth_path: str = Field("kubernetes", description="mount path of the Kubernetes auth method")
    jwt_path: str = Field(SERVICE_ACCOUNT_JWT, description="service-account token file for Kubernetes auth")
    ca_bundle: str | None = Field(None, description="CA file to verify Vault's TLS certificate (default: $VAULT_CACERT)")

    @model_validator(mode="after")
    def _kubernetes_needs_role(self) -> VaultSettings:
        if self.auth == "kubernetes" and not self.role:
            raise ValueError("secrets.vault.auth 'kubernetes' needs secrets.vault.role")
        return self


class AwsSettings(Bounds):
    """AWS Secrets Manager: region and endpoint; credentials come from the standard chain."""

    region: str | None = Field(None, description="default: $AWS_REGION / $AWS_DEFAULT_REGION / the profile's")
    endpoint_url: str | None = Field(None, description="default: $AWS_ENDPOINT_URL (VPC endpoints, test servers)")
    profile: str | None = Field(None, description="named profile of the shared config (default: $AWS_PROFILE)")


class SecretsConfig(_Model):
    """Where ``vault:`` and ``aws-sm:`` references are fetched from."""

    vault: VaultSettings = Field(default_factory=VaultSettings, description="HashiCorp Vault that vault: references are read from")
    aws: AwsSettings = Field(default_factory=AwsSettings, description="AWS Secrets Manager that aws-sm: references are read from")


@dataclass(frozen=True)
class Limits:
    """The bounds one store is probed with: a dead store costs at most
    ``(retries + 1) * (connect_s + read_s)`` plus the backoff, never a hang."""

    connect_s: float
    read_s: float
    retries: int
    backoff_s: float

    @classmethod
    def of(cls, override: Bounds, timeouts: Any) -> Limits:
        """The store's own bounds where set, the environment's ``timeouts`` elsewhere."""
        return cls(
            connect_s=override.connect_s if override.connect_s is not None else timeouts.connect_s,
            read_s=override.read_s if override.read_s is not None else timeouts.read_s,
            retries=override.retries if override.retries is not None else timeouts.retries,
            backoff_s=timeouts.backoff_s,
        )
