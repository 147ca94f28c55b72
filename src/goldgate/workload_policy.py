"""The numbers the workload rules hold a manifest to: ``policy.workloads`` of an environment.

Guide §7.2 (replicas 3, maxSurge 1, maxUnavailable 0), §7.1 (spread across availability
zones) and §7.3 (30-second connection draining, no stickiness) are the defaults, so an
environment file only states what differs. Pure schema, no I/O: the environment loader
validates it like every other section.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Policy(BaseModel):
    """Thresholds of ``goldgate check manifests`` and the workload-spec gate features."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_replicas: int = Field(3, ge=1, description="§7.2 replicas: 3, the smallest quorum")
    max_unavailable: int = Field(0, ge=0, description="§7.2 maxUnavailable: 0 during a rolling update")
    min_surge: int = Field(1, ge=1, description="§7.2 maxSurge: 1 extra pod during a rolling update")
    drain_s: float = Field(30, ge=0, le=3600, description="§7.3 connection draining: 30-second drain timeout")
    zone_key: str = Field("topology.kubernetes.io/zone", min_length=1,
                          description="§7.1 multi-AZ: the node label that names the availability zone")
    session_affinity: str = Field("None", min_length=1, description="§7.3 stickiness: None")
    forbidden_tags: tuple[str, ...] = Field(("latest",), description="image tags that do not pin a release (latest always counts)")


#: The name it reads as beside the environment's other policy sections.
WorkloadPolicy = Policy


def policy_of(env: Any) -> Policy:
    """The workload policy in force: ``policy.workloads`` (beside the release policy's other
    sections), or a ``policy:`` that is this model itself, else the guide's values."""
    section = getattr(env, "policy", None)
    for candidate in (section, getattr(section, "workloads", None)):
        if isinstance(candidate, Policy):
            return candidate
    return Policy()
