"""The numbers the workload rules hold a manifest to: the ``policy:`` section of an environment.

Guide §7.2 (replicas 3, maxSurge 1, maxUnavailable 0), §7.1 (spread across availability
zones) and §7.3 (30-second connection draining, no stickiness) are the defaults, so an
environment file only states what differs. Pure schema, no I/O: the environment loader
validates it like every other section.
"""

from __future__ import annotations

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
