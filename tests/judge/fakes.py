"""A scripted rollback monitor: the judge's HTTP contract tested without a cluster.

The judge only uses the monitor's public surface (``start``, ``evaluate`` -> Assessment,
``error_rate``, ``notes``, ``elapsed_s``), so a monitor that replays prepared trigger
verdicts exercises every verdict class and status code in milliseconds; the sandbox tests
(test_sandbox.py) do the same against real pods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.config import Environment
from goldgate.criteria.watch_error_rate import WatchErrorRate
from goldgate.judge import engine as engine_module
from goldgate.judge.engine import Judge
from goldgate.judge.store import RunStore
from goldgate.judge.targets import RunTarget
from goldgate.rollout.monitor import ERROR_RATE, HEALTH, P95_BUDGET, Assessment, Group, watch_plan
from goldgate.verdict import Verdict

TOKEN = "judge-test-token-0123456789"


def triggers(kind: str) -> tuple[Verdict, ...]:
    """The trigger verdicts of one evaluation whose judge verdict is ``kind``."""
    health = Verdict.passed(HEALTH, 0, 0, rollback=True)
    if kind == "PASS":
        return (Verdict.passed(ERROR_RATE, 0.002, 0.01, rollback=True), health)
    if kind == "ROLLBACK":
        return (Verdict.failed(ERROR_RATE, 0.031, 0.01, "error rate 3.1 % over 400 requests", rollback=True), health)
    if kind == "FAIL":
        return (Verdict.passed(ERROR_RATE, 0.002, 0.01, rollback=True), health,
                Verdict.failed(P95_BUDGET, 0.61, 0.5, "p95 610 ms over 400 requests"))
    if kind == "ERROR":
        return (Verdict.error(ERROR_RATE, "http://127.0.0.1:9/metrics: connection refused", rollback=True), health)
    return (Verdict.inconclusive(ERROR_RATE, "12 requests, fewer than 50", rollback=True), health)


class ScriptedMonitor:
    def __init__(self, env: Environment, script: Callable[[Group], str], group: Group) -> None:
        self.error_rate = WatchErrorRate(watch_plan(env))
        self.notes: list[str] = []
        self.script = script
        self.group = group
        self._t0 = time.monotonic()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._t0

    def start(self) -> None:
        self._t0 = time.monotonic()

    def evaluate(self) -> Assessment:
        kind = self.script(self.group)
        self.error_rate.observe(100, 3 if kind == "ROLLBACK" else 0, 1.0)
        return Assessment(str(self.group), round(self.elapsed_s, 3), triggers(kind))


def scripted_judge(env: Environment, state: Path, script: Callable[[Group], str], monkeypatch: Any,
                   *, interval_s: float = 0.05, store: Any = None) -> Judge:
    """A Judge whose runs resolve without Kubernetes and whose monitors follow ``script``."""

    def resolve(kube: Any, key: Any, **kw: Any) -> RunTarget:
        if key.workload == "missing":
            from goldgate.judge.runs import BadRequestError

            raise BadRequestError(kw.get("fields", ("workload",))[0], f"no Deployment {key.namespace}/missing",
                                  status=404)
        return RunTarget(Group(f"{key.workload}@{key.revision}", {"app": key.workload}, key.namespace), None)

    monkeypatch.setattr(engine_module, "resolve_target", resolve)
    return Judge(env, kube=None, source=None, store=store or RunStore(state), interval_s=interval_s,  # type: ignore[arg-type]
                 monitor_factory=lambda env, kube, source, group, **kw: ScriptedMonitor(env, script, group))
