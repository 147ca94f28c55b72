"""What one load run does, written down before it starts and handed to locust as a file.

The plan is the contract between the pytest process and the locust processes: the runner
writes it as JSON, the locustfile reads it (``GOLDGATE_LOAD_PLAN``). Keeping it a plain
dataclass means the pytest side can build, validate and report it without importing
locust, and a distributed run hands the same plan to every worker.

Two traffic models:

* ``closed`` — locust's own user model: ``users`` virtual users, each sending a request,
  waiting for the answer, thinking, sending the next. Throughput falls when the server
  slows down, so a stalling server is measured by fewer, not slower, requests
  (coordinated omission).
* ``open`` — constant arrival rate: ``rate_rps`` requests per second are scheduled on a
  fixed timetable whatever the server does, and latency is measured from the *intended*
  send time. See ``load/locustfile.py`` for why this runs inside locust.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from goldgate.config import LoadProfile

Model = Literal["open", "closed"]

#: Most requests one open-model process keeps in flight; beyond it arrivals are dropped
#: (and counted), so a dead server cannot make the generator exhaust its memory.
DEFAULT_MAX_IN_FLIGHT = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class PlanError(ValueError):
    """A plan that must not run; the message says which field and why."""


@dataclass(frozen=True)
class LoadPlan:
    """Bounded traffic for one target: model, rate or users, duration and a request cap."""

    target_url: str
    model: Model = "open"
    rate_rps: float = 20.0
    duration_s: float = 10.0
    max_requests: int = 20_000
    users: int = 10
    spawn_rate: float = 10.0
    think_time_s: tuple[float, float] = (0.05, 0.2)
    weights: dict[str, int] = field(default_factory=lambda: {"signal": 10, "order": 2, "health": 1, "ready": 1})
    workers: int = 0
    timeout_s: float = 10.0
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    label: str = "release"

    def __post_init__(self) -> None:
        if self.model not in ("open", "closed"):
            raise PlanError(f"model must be 'open' or 'closed', got {self.model!r}")
        if not (self.rate_rps > 0 and math.isfinite(self.rate_rps)):
            raise PlanError(f"rate_rps must be a positive number, got {self.rate_rps!r}")
        if not (self.duration_s > 0 and math.isfinite(self.duration_s)):
            raise PlanError(f"duration_s must be a positive number, got {self.duration_s!r}")
        if self.max_requests < 1:
            raise PlanError(f"max_requests must be at least 1, got {self.max_requests}")
        if self.users < 1 or self.workers < 0:
            raise PlanError("users must be >= 1 and workers >= 0")
        if not self.weights or any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise PlanError(f"weights need at least one positive weight, got {self.weights}")
        unknown = set(self.weights) - {"signal", "order", "health", "ready"}
        if unknown:
            raise PlanError(f"unknown request kinds in weights: {sorted(unknown)}")
        if urlsplit(self.target_url).scheme not in ("http", "https") or not urlsplit(self.target_url).hostname:
            raise PlanError(f"target_url must be an http(s) URL, got {self.target_url!r}")

    @classmethod
    def from_profile(cls, profile: LoadProfile, target_url: str, **overrides: Any) -> LoadPlan:
        """The environment's load profile, with the feature's numbers as overrides."""
        base: dict[str, Any] = {
            "target_url": target_url,
            "rate_rps": profile.rate_rps,
            "duration_s": profile.duration_s,
            "max_requests": profile.max_requests,
            "users": profile.users,
            "spawn_rate": profile.spawn_rate,
            "think_time_s": tuple(profile.think_time_s),
            "weights": dict(profile.weights),
        }
        base.update(overrides)
        return cls(**base)

    def with_(self, **changes: Any) -> LoadPlan:
        return replace(self, **changes)

    @property
    def processes(self) -> int:
        """Processes that generate traffic: the workers, or the one standalone locust."""
        return max(1, self.workers)

    @property
    def planned_requests(self) -> int | None:
        """Requests the run will send if the generator keeps up (open model only)."""
        if self.model != "open":
            return None
        return min(self.max_requests, math.floor(self.rate_rps * self.duration_s))

    @property
    def request_budget_per_process(self) -> int:
        """Each generating process's share of the hard cap; the shares never sum above it."""
        return max(1, self.max_requests // self.processes)

    @property
    def locust_users(self) -> int:
        """Open model: one scheduling user per generating process; closed: the users."""
        return self.processes if self.model == "open" else self.users

    @property
    def target_is_loopback(self) -> bool:
        return (urlsplit(self.target_url).hostname or "") in LOOPBACK_HOSTS

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["think_time_s"] = list(self.think_time_s)
        return out

    def write(self, path: Path, **extra: Any) -> Path:
        """Write the plan (and runner-only fields such as the results folder) for locust."""
        path.write_text(json.dumps({**self.to_dict(), **extra}, indent=2), encoding="utf-8")
        return path
