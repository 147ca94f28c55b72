"""Named sandbox faults: ``goldgate sandbox up --fault NAME`` plants one bad release.

Each fault is applied once, at :meth:`Cluster.start`, to the manifests before they are
stored (so revision 1 of the Deployment already carries it) — or to anything else in
the :class:`FaultContext`. To add a fault, add one entry to :data:`FAULTS`: a name,
a one-line description for ``goldgate sandbox faults``, and an apply function.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from goldgate.sandbox.store import Store

BOT_NAMESPACE = "trading"
BOT_DEPLOYMENT = "trading-bot"


@dataclass
class FaultContext:
    """What a fault may change: the manifests about to be applied, the store, the state dir."""

    objects: list[dict[str, Any]]
    store: Store
    state_dir: pathlib.Path
    notes: list[str] = field(default_factory=list)

    def bot_deployment(self) -> dict[str, Any]:
        for obj in self.objects:
            meta = obj.get("metadata", {})
            if obj.get("kind") == "Deployment" and meta.get("name") == BOT_DEPLOYMENT:
                return obj
        raise LookupError(f"no Deployment {BOT_DEPLOYMENT!r} in the sandbox manifests")

    def bot_container(self) -> dict[str, Any]:
        containers = self.bot_deployment()["spec"]["template"]["spec"]["containers"]
        return next((c for c in containers if c.get("name") == BOT_DEPLOYMENT), containers[0])

    def set_env(self, **values: str) -> None:
        container = self.bot_container()
        env = [e for e in container.get("env") or [] if e.get("name") not in values]
        env.extend({"name": k, "value": v} for k, v in values.items())
        container["env"] = env


@dataclass(frozen=True)
class Fault:
    description: str
    apply: Callable[[FaultContext], None]


def _env_fault(**values: str) -> Callable[[FaultContext], None]:
    return lambda ctx: ctx.set_env(**values)


def _memory_leak(ctx: FaultContext) -> None:
    ctx.set_env(FAULT_MEMORY_GROWTH_MB_PER_S="20")
    resources = ctx.bot_container().setdefault("resources", {})
    resources.setdefault("limits", {})["memory"] = "256Mi"
    resources.setdefault("requests", {})["memory"] = "128Mi"


FAULTS: dict[str, Fault] = {
    "error-rate": Fault("the bot answers 3 % of requests with HTTP 500 (FAULT_ERROR_RATE=0.03)",
                        _env_fault(FAULT_ERROR_RATE="0.03")),
    "latency": Fault("every request is delayed by 600 ms (FAULT_LATENCY_MS=600)",
                     _env_fault(FAULT_LATENCY_MS="600")),
    "never-ready": Fault("pods never pass their readiness probe (FAULT_NEVER_READY=true)",
                         _env_fault(FAULT_NEVER_READY="true")),
    "crash-loop": Fault("the bot exits at start: pods go into CrashLoopBackOff "
                        "(FAULT_CRASH_AT_START=true)", _env_fault(FAULT_CRASH_AT_START="true")),
    "memory-leak": Fault("resident memory grows 20 MB/s under a 256Mi limit until OOMKilled",
                         _memory_leak),
    "disk-pressure": Fault("the bot reports 5 % free disk (FAULT_DISK_FREE_PERCENT=5)",
                           _env_fault(FAULT_DISK_FREE_PERCENT="5")),
    "network-io": Fault("every /api/ answer carries 20 kB of padding: network I/O per request leaves "
                        "its baseline (FAULT_RESPONSE_PADDING_BYTES=20000)",
                        _env_fault(FAULT_RESPONSE_PADDING_BYTES="20000")),
    "stall": Fault("the bot freezes for 5 s every 20 s (FAULT_STALL_EVERY_S=20, FAULT_STALL_S=5)",
                   _env_fault(FAULT_STALL_EVERY_S="20", FAULT_STALL_S="5")),
}


def _release_faults() -> dict[str, Fault]:
    """Faults of the reference release project (:mod:`goldgate.sandbox.release_faults`).

    They change no cluster object: the gate stage plants them when it materialises the
    release. Registered here so ``up --fault`` accepts them and ``faults`` lists them.
    """
    from goldgate.sandbox.release_faults import RELEASE_FAULTS

    return {name: Fault(f"release: {f.description}", lambda ctx: None) for name, f in RELEASE_FAULTS.items()}


FAULTS.update(_release_faults())


def list_faults() -> list[tuple[str, str]]:
    """(name, description) of every fault, sorted by name."""
    return sorted((name, fault.description) for name, fault in FAULTS.items())


def apply_faults(names: list[str], ctx: FaultContext) -> None:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        known = ", ".join(sorted(FAULTS))
        raise ValueError(f"unknown sandbox fault(s) {', '.join(unknown)}; known: {known}")
    for name in names:
        FAULTS[name].apply(ctx)
