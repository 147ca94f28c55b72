"""The settings every client is built with: where the Kubernetes API is, how long a call may take.

They are sections of an environment file (``kubernetes:`` and ``timeouts:``) and are
validated with it by :class:`goldgate.config.Environment`; they live here, on the ground
floor, because the secret stores and the probes need them without needing the rest of the
environment (a ``k8s:`` secret reference is read with the run's kubeconfig and timeout).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KubernetesTarget(_Settings):
    """Where the bot runs. ``kubeconfig: sandbox`` means the embedded sandbox cluster."""

    kubeconfig: str = Field("sandbox", description="'sandbox', 'in-cluster', or a kubeconfig path")
    context: str | None = Field(None, description="kubeconfig context to use (default: the kubeconfig's current context)")
    namespace: str = Field("trading", description="namespace of the bot's Deployment and Service")
    deployment: str = Field("trading-bot", description="the bot's Deployment")
    service: str = Field("trading-bot", description="the bot's Service (its load balancer is http.base_url 'service')")
    container: str = Field("trading-bot", description="the bot's container in the pod template")
    label_selector: str = Field("app=trading-bot", description="labels that select the bot's pods")
    request_timeout_s: float = Field(10.0, gt=0, le=300, description="timeout of one Kubernetes API request in seconds")

    @property
    def is_sandbox(self) -> bool:
        return self.kubeconfig == "sandbox"


class Timeouts(_Settings):
    """Every probe call is bounded: a blackholed endpoint costs at most its timeout."""

    connect_s: float = Field(3.0, gt=0, le=60, description="connect timeout of every probe call in seconds")
    read_s: float = Field(10.0, gt=0, le=600, description="read timeout of every probe call in seconds")
    retries: int = Field(2, ge=0, le=10, description="retries of idempotent reads after a connection failure")
    backoff_s: float = Field(0.5, ge=0, le=30, description="pause before the first retry in seconds (doubles each retry)")
