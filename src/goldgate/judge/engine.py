"""Sequential evidence per run, gathered in the background, answered at once.

A controller calls the judge every analysis interval and gives each call a few seconds.
The §6.1 triggers cannot be judged in that time from nothing: the error-rate test needs
hundreds of requests, a p95 needs a window. So the judge keeps one
:class:`~goldgate.rollout.monitor.RollbackMonitor` per run (``namespace/workload@revision``)
and evaluates it in the background every ``strategy.evaluation_interval_s``, exactly as a
goldgate rollout would; a call only reads the latest evaluation (well under the 2 s the
controllers allow). The first call of a run opens it and waits briefly for its first
evaluation; until evidence accumulates the answer is INCONCLUSIVE, never PASS.

After every evaluation the run is written to the :class:`~goldgate.judge.store.RunStore`:
the pods it watches, the error-rate test's state (the same snapshot ``goldgate watch``
resumes from), the trading monitor's snapshot (its record cursor and the comparisons'
sequential tests), the evaluation count and the last answer. A judge restarted mid-run
answers the run's last verdict at once and continues the same sequential tests, trading
ones included, and the run's window: the latency window, the pods' restart counts at its start
(a restart before the judge's restart still counts, never re-baselined) and OOM kills since it
opened (:meth:`~goldgate.rollout.monitor.RollbackMonitor.snapshot`). A snapshot it cannot
continue starts that evidence again from the restart, said with the reason. A run nobody
asked about for ``judge.idle_run_s`` stops being evaluated; its record stays.

Blocking probe calls run on a bounded thread pool (``judge.workers``); one evaluation per
run at a time. Every decision is made by :func:`goldgate.criteria.judge.judge_triggers`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from goldgate.config import Environment
from goldgate.criteria.judge import JUDGE, controller_verdict, judge_triggers
from goldgate.criteria.measured import probe_failed
from goldgate.judge.runs import RunKey
from goldgate.judge.store import RunStore
from goldgate.judge.targets import RunTarget, resolve_target
from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable
from goldgate.rollout.monitor import Assessment, Group, RollbackMonitor
from goldgate.rollout.trading_monitor import trading_monitor
from goldgate.verdict import Verdict

__all__ = ["Judge", "Run", "answer_body", "judge_monitor"]

#: The longest a call of a new run waits, opening included, for its first evaluation: well inside
#: the 2 s a controller's call is given, leaving the rest to a loaded machine's scheduling.
FIRST_ANSWER_S = 1.2
#: How long a call waits for a new run's Kubernetes reads before answering "not evaluated yet".
OPEN_BUDGET_S = 0.7
#: Verdicts of earlier evaluations shown in the evidence.
HISTORY = 20


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """JSON-safe value for the body (non-finite floats as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def judge_monitor(env: Environment, kube: KubeClients, source: Any, group: Group, *,
                  baseline: Group | None = None) -> RollbackMonitor:
    """A run's triggers: the §6.1 ones and, for a bot that trades, the trading ones.

    The trading triggers are those of a goldgate rollout (:mod:`goldgate.rollout.trading_monitor`):
    pre-trade limits and the drawdown always, the comparisons with the stable version (signal
    agreement, trade rate, rejects) where one runs beside the release, and a closed market or
    too few bars holding the run INCONCLUSIVE. A controller's rollout is thus judged on what the
    release trades, not only on how it answers requests.
    """
    return RollbackMonitor(env, kube, source, group, baseline=baseline,
                           trading=trading_monitor(env, kube, group, baseline))


def answer_body(key: RunKey | str, verdict: Verdict, checks: list[Verdict], evidence: dict[str, Any]) -> dict[str, Any]:
    """The JSON every endpoint answers: verdict, reason, run, checks and evidence."""
    return {
        "verdict": controller_verdict(verdict),
        "reason": verdict.reason or verdict.message(),
        "run": str(key),
        "checks": [{"name": v.criterion, "verdict": controller_verdict(v), "value": _plain(v.observed),
                    "threshold": _plain(v.threshold), "reason": v.reason} for v in checks],
        "evidence": _plain(evidence),
    }


@dataclass
class Run:
    """One run's monitor and what it has concluded so far."""

    key: RunKey
    target: RunTarget
    monitor: RollbackMonitor
    started_at: float
    offset_s: float = 0.0
    evaluations: int = 0
    restored: bool = False
    last: dict[str, Any] | None = None
    history: list[str] = field(default_factory=list)
    last_called: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    first: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    finished: str = ""
    #: what became of the stored trading evidence on a restart (said in the evidence)
    trading_note: str = ""
    #: what became of the stored window (latency, pod restarts, OOM kills) on a restart
    window_note: str = ""

    def record(self) -> dict[str, Any]:
        trading = getattr(self.monitor, "trading", None)
        return {"key": str(self.key), "target": self.target.to_dict(), "started_at": self.started_at,
                "elapsed_s": round(self.offset_s + self.monitor.elapsed_s, 3), "evaluations": self.evaluations,
                "error_rate": self.monitor.error_rate.snapshot(), "history": self.history[-HISTORY:],
                "last": self.last, "finished": self.finished,
                "trading": trading.snapshot() if trading is not None else None,
                "monitor": _window_snapshot(self.monitor)}


def _restore_trading(monitor: Any, stored: Any) -> str:
    """Continue the run's trading evidence from the store; the sentence the evidence says about it."""
    trading = getattr(monitor, "trading", None)
    if trading is None:
        return ""
    why = trading.restore(stored) if stored is not None else "nothing was stored for it"
    if why:
        return f"trading evidence starts again from the restart: {why}"
    return f"trading evidence continued from {trading.restored_bars} bars before the restart"


def _window_snapshot(monitor: Any) -> dict[str, Any] | None:
    """The monitor's window as plain JSON; None (a restart then starts the window again, and says
    so) when it cannot be taken: storing a run must never stop its evaluations."""
    if not hasattr(monitor, "snapshot"):
        return None
    try:
        return monitor.snapshot()
    except Exception:
        return None


def _restore_window(monitor: Any, stored: Any) -> tuple[bool, str]:
    """Continue the run's window (latency, pod restarts, OOM kills) from the store: whether it
    continued and the sentence the evidence says about it."""
    if not hasattr(monitor, "restore"):
        return False, ""
    why = monitor.restore(stored) if stored is not None else "nothing was stored for it"
    if why:
        return False, f"latency window, pod restarts and OOM kills count from the restart: {why}"
    return True, (f"latency window, pod restart counts and OOM kills continued from the window opened at "
                  f"{_iso(monitor.window_opened_wall)} (restart counts not re-baselined)")


class Judge:
    """Runs by key, their background evaluation and their answers."""

    def __init__(self, env: Environment, kube: KubeClients, source: Any, store: RunStore, *,
                 interval_s: float | None = None, workers: int | None = None,
                 monitor_factory: Callable[..., RollbackMonitor] = judge_monitor) -> None:
        self.env = env
        self.kube = kube
        self.source = source
        self.store = store
        self.interval_s = float(interval_s or env.strategy.evaluation_interval_s)
        self.idle_s = env.judge.idle_run_s
        self.pool = ThreadPoolExecutor(max_workers=workers or env.judge.workers, thread_name_prefix="judge-eval")
        # Opening a run (a few Kubernetes reads) never queues behind the background evaluations.
        self.open_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="judge-open")
        self._monitor_factory = monitor_factory
        self._runs: dict[str, Run] = {}
        self._opening: dict[str, asyncio.Future[Run]] = {}
        self._closing = False
        self.evaluation_seconds: list[float] = []  # the latest 1000, for the quantiles
        self.evaluations_total = 0
        self.evaluation_total_s = 0.0

    # ------------------------------------------------------------------ runs
    @property
    def active_runs(self) -> int:
        return sum(1 for r in self._runs.values() if r.task is not None and not r.task.done())

    def open_run(self, key: RunKey, *, exact_revision: bool, baseline: str | None = None,
                 fields: tuple[str, str] = ("workload", "revision")) -> Run:
        """Build (or restore from the store) the run's monitor; blocking (Kubernetes reads)."""
        stored = self.store.load(str(key))
        if stored and stored.get("target"):
            target = RunTarget.from_dict(stored["target"])
        else:
            target = resolve_target(self.kube, key, exact_revision=exact_revision, baseline=baseline, fields=fields)
        monitor = self._monitor_factory(self.env, self.kube, self.source, target.group, baseline=target.baseline)
        run = Run(key, target, monitor, started_at=time.time())
        if stored:
            monitor.error_rate.restore(stored.get("error_rate") or {})
            run.offset_s = float(stored.get("elapsed_s") or 0.0)
            run.evaluations = int(stored.get("evaluations") or 0)
            run.started_at = float(stored.get("started_at") or run.started_at)
            run.history = list(stored.get("history") or [])
            run.last = stored.get("last")
            run.finished = str(stored.get("finished") or "")
            run.restored = True
            run.trading_note = _restore_trading(monitor, stored.get("trading"))
            if run.last:  # answered at once after a restart: say that it is the stored answer
                evidence = {**(run.last.get("evidence") or {}), "restored": True}
                run.last = {**run.last, "evidence": evidence}
                run.first.set()
        monitor.start()
        if stored:
            continued, run.window_note = _restore_window(monitor, stored.get("monitor"))
            if continued:  # the monitor's window already covers the time before the restart
                run.offset_s = 0.0
        self.store.save(str(key), run.record())
        return run

    def evaluate(self, run: Run) -> dict[str, Any]:
        """One more evaluation of the run's triggers, its answer stored; blocking."""
        with run.lock:
            t0 = time.monotonic()
            try:
                assessment: Assessment | None = run.monitor.evaluate()
                verdict = judge_triggers(assessment.verdicts)
                checks = list(assessment.verdicts)
            except KubernetesUnavailable as exc:
                assessment, verdict, checks = None, probe_failed(JUDGE, str(exc), rollback=True), []
            except Exception as exc:  # a probe's unexpected failure is "could not measure", never a crash
                assessment, verdict = None, probe_failed(JUDGE, f"{type(exc).__name__}: {exc}", rollback=True)
                checks = []
            run.evaluations += 1
            run.history.append(controller_verdict(verdict))
            run.last = answer_body(run.key, verdict, checks, self._evidence(run, assessment))
            self.store.save(str(run.key), run.record())
            took = time.monotonic() - t0
            self.evaluation_seconds.append(took)
            self.evaluations_total += 1
            self.evaluation_total_s += took
            del self.evaluation_seconds[:-1000]
            run.first.set()
            return run.last

    def _evidence(self, run: Run, assessment: Assessment | None) -> dict[str, Any]:
        er = run.monitor.error_rate.snapshot()
        return {
            "group": str(run.target.group),
            "baseline": str(run.target.baseline) if run.target.baseline else None,
            "evaluations": run.evaluations,
            "elapsed_s": round(run.offset_s + run.monitor.elapsed_s, 3),
            "started_at": _iso(run.started_at),
            "evaluated_at": _iso(time.time()),
            "interval_s": self.interval_s,
            "requests": er.get("requests"),
            "errors": er.get("errors"),
            "restored": run.restored,
            "history": run.history[-HISTORY:],
            "notes": list(run.target.notes) + list(run.monitor.notes) + (
                ["restored from the store: the error-rate test continues"] if run.restored else [])
            + ([run.window_note] if run.window_note else []) + ([run.trading_note] if run.trading_note else []),
            "summary": assessment.summary() if assessment is not None else "",
            "environment": self.env.name,
        }

    def pending_answer(self, run: Run) -> dict[str, Any]:
        """The answer before the first evaluation finished: nothing evaluated is never a pass."""
        return answer_body(run.key, judge_triggers([]), [], self._evidence(run, None))

    # ------------------------------------------------------------------ async front
    async def answer(self, key: RunKey, *, exact_revision: bool, baseline: str | None = None,
                     fields: tuple[str, str] = ("workload", "revision")) -> dict[str, Any]:
        """The run's current answer; opens the run on its first call. Raises BadRequestError (4xx)."""
        called = time.monotonic()
        run = self._runs.get(str(key))
        if run is None:
            opening = asyncio.ensure_future(self._open(key, exact_revision=exact_revision, baseline=baseline,
                                                       fields=fields))
            opening.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved either way
            try:
                run = await asyncio.wait_for(asyncio.shield(opening), OPEN_BUDGET_S)
            except TimeoutError:  # a slow API: answer now, the run keeps opening for the next call
                return answer_body(key, judge_triggers([]), [], {
                    "evaluations": 0, "environment": self.env.name,
                    "notes": [f"opening the run: Kubernetes has not answered within {OPEN_BUDGET_S:g}s"]})
        run.last_called = time.monotonic()
        if (run.task is None or run.task.done()) and not run.finished and not self._closing:
            run.task = asyncio.get_running_loop().create_task(self._loop(run))
        while not run.first.is_set() and time.monotonic() - called < FIRST_ANSWER_S:
            await asyncio.sleep(0.02)  # no thread parked per waiting call: 100 new runs cost nothing
        return run.last or self.pending_answer(run)

    async def _open(self, key: RunKey, **kw: Any) -> Run:
        name = str(key)
        pending = self._opening.get(name)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Run] = loop.create_future()
        self._opening[name] = fut
        try:
            run = await loop.run_in_executor(self.open_pool, lambda: self.open_run(key, **kw))
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            self._opening.pop(name, None)
        self._runs[name] = run
        fut.set_result(run)
        return run

    async def _loop(self, run: Run) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing and not run.finished:
            if time.monotonic() - run.last_called > self.idle_s:
                # idle: forget it here (its record stays in the store; a later call restores it)
                if self._runs.get(str(run.key)) is run:
                    del self._runs[str(run.key)]
                return
            t0 = time.monotonic()
            await loop.run_in_executor(self.pool, self.evaluate, run)
            await asyncio.sleep(max(0.05, self.interval_s - (time.monotonic() - t0)))

    def finish(self, namespace: str, workload: str, why: str) -> list[str]:
        """Stop evaluating every run of a workload (the controller promoted or rolled it back)."""
        done = []
        for name, run in list(self._runs.items()):
            if run.key.namespace == namespace and run.key.workload == workload and not run.finished:
                run.finished = why
                if run.task is not None:
                    run.task.cancel()
                with run.lock:
                    self.store.save(name, run.record())
                done.append(name)
        return done

    async def close(self) -> None:
        self._closing = True
        tasks = [r.task for r in self._runs.values() if r.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.open_pool.shutdown(wait=True, cancel_futures=True)
