"""Start locust headless in processes of its own, keep the run bounded, collect the results.

Why a subprocess and files: locust monkey-patches the interpreter with gevent at import,
which would change how every other part of pytest behaves. So the runner only builds a
command line, hands the plan over as a JSON file, and reads what the locust processes
write (one JSON line per request, see :mod:`goldgate.load.records`).

Bounds, each enforced twice (inside locust and here):

* duration — locust's ``--run-time`` and a hard deadline here after which the process
  group is terminated, then killed;
* request count — each locust process holds a fixed share of ``max_requests`` and stops
  sending when it is used up; the runner stops the run when the total is reached;
* Ctrl-C or SIGTERM — caught here (whatever disposition this process inherited), the groups
  are stopped, the interrupt re-raised;
* early abort — a callback sees the live counts every poll and may end the run when a
  breach is already certain (k6's ``abortOnFail``).

Every locust process (standalone, or a master with N workers on loopback) runs in a
process group of its own created for the run, starts with default signal dispositions
(:func:`goldgate.children.with_default_signals`: a run started from ``nohup`` or a shell's
``&`` inherits SIGINT ignored), and the ``finally`` of :meth:`LoadRunner.run` stops those
groups — SIGTERM, then SIGKILL: no process outlives the run, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from goldgate.children import stop_on_signals, with_default_signals
from goldgate.load.plan import LoadPlan
from goldgate.load.records import RequestRecord, Tail, read_results_dir, read_summaries
from goldgate.load.stats import LoadStats, summarize


def default_locustfile() -> Path:
    """``load/locustfile.py`` of the checkout: ``GOLDGATE_LOCUSTFILE``, else beside the source
    tree (editable install), else under the working directory (the suite's image)."""
    configured = os.environ.get("GOLDGATE_LOCUSTFILE")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parents[3] / "load" / "locustfile.py"
    return beside if beside.is_file() else Path.cwd() / "load" / "locustfile.py"


POLL_S = 0.25
STARTUP_GRACE_S = 20.0  # locust's own import and start, on a busy machine
STOP_GRACE_S = 5.0


class LoadRunError(Exception):
    """The generator could not run (locust missing, crashed, no results); the message says why."""


@dataclass(frozen=True)
class LiveCounts:
    """What the run has recorded so far; handed to the early-abort callback every poll."""

    requests: int
    errors: int
    slow: int
    elapsed_s: float
    planned: int


AbortCheck = Callable[[LiveCounts], str | None]


@dataclass
class LoadResult:
    """A finished run: its plan, every recorded request, and how and why it ended."""

    plan: LoadPlan
    records: list[RequestRecord]
    started: float
    elapsed_s: float
    stop_reason: str
    aborted: str | None
    cpu_percent: dict[int, list[float]]
    summaries: list[dict[str, object]]
    results_dir: Path
    html_report: Path | None
    exit_codes: list[int | None] = field(default_factory=list)
    _stats: LoadStats | None = field(default=None, repr=False)

    @property
    def stats(self) -> LoadStats:
        if self._stats is None:
            window = self.plan.duration_s if self.plan.model == "open" and not self.aborted else None
            first = self.records[0].t if self.records else self.started
            self._stats = summarize(self.records, started=first, elapsed_s=window or max(self.elapsed_s, 1e-9))
        return self._stats

    @property
    def dropped(self) -> int:
        return sum(int(s.get("dropped", 0) or 0) for s in self.summaries)  # type: ignore[call-overload]

    def generator_cpu(self) -> float | None:
        """Median CPU of the busiest generating process, in percent of one core."""
        medians = [statistics.median(v[1:] or v) for v in self.cpu_percent.values() if v]
        return max(medians) if medians else None

    def evidence_details(self) -> dict[str, object]:
        return {
            "model": self.plan.model, "target": self.plan.target_url, "label": self.plan.label,
            "rate_rps": self.plan.rate_rps if self.plan.model == "open" else None,
            "users": self.plan.users if self.plan.model == "closed" else None,
            "duration_s": self.plan.duration_s, "max_requests": self.plan.max_requests,
            "workers": self.plan.workers, "elapsed_s": round(self.elapsed_s, 2),
            "stop_reason": self.stop_reason, "aborted": self.aborted,
            "requests": self.stats.requests, "dropped_arrivals": self.dropped,
            "generator_cpu_percent": self.generator_cpu(),
            "send_lag_p95_ms": self.stats.send_lag_p95_ms,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoadRunner:
    """Runs one :class:`LoadPlan` with locust and returns a :class:`LoadResult`.

    >>> result = LoadRunner(LoadPlan("http://127.0.0.1:8080", rate_rps=40, duration_s=10)).run()
    >>> result.stats.p95_ms, result.stats.requests          # doctest: +SKIP
    """

    def __init__(self, plan: LoadPlan, *, results_dir: Path | None = None,
                 abort_check: AbortCheck | None = None, slow_ms: float | None = None,
                 locustfile: Path | None = None, python: str = sys.executable,
                 headers: dict[str, str] | None = None) -> None:
        self.plan = plan
        self.results_dir = Path(results_dir) if results_dir else Path(tempfile.mkdtemp(prefix="goldgate-load-"))
        self.abort_check = abort_check
        self.slow_ms = slow_ms
        self.locustfile = locustfile or default_locustfile()
        self._headers = dict(headers or {})
        self.python = python
        self._procs: list[subprocess.Popen[bytes]] = []
        self._groups: list[int] = []

    # ------------------------------------------------------------------ command lines
    @property
    def user_class(self) -> str:
        return "ArrivalRateUser" if self.plan.model == "open" else "TradingBotUser"

    @property
    def locust_run_time_s(self) -> int:
        """locust's own limit: the timetable plus time for the last answers to arrive."""
        extra = self.plan.timeout_s + 1 if self.plan.model == "open" else 0
        return max(1, int(self.plan.duration_s + extra + 0.999))

    def _base_cmd(self) -> list[str]:
        return [self.python, "-m", "locust", "-f", str(self.locustfile), self.user_class,
                "--loglevel", "WARNING", "--skip-log-setup"]

    def commands(self, master_port: int | None = None) -> list[list[str]]:
        """The locust command lines: one standalone, or a master followed by its workers."""
        p = self.plan
        html = str(self.results_dir / "locust-report.html")
        head = ["-H", p.target_url, "--headless", "-u", str(p.locust_users),
                "-r", str(max(p.spawn_rate, p.locust_users) if p.model == "open" else p.spawn_rate),
                "-t", f"{self.locust_run_time_s}s", "--stop-timeout", str(int(p.timeout_s) + 1),
                "--html", html, "--only-summary"]
        if p.workers == 0:
            return [[*self._base_cmd(), *head]]
        port = master_port or _free_port()
        master = [*self._base_cmd(), *head, "--master", "--master-bind-host", "127.0.0.1",
                  "--master-bind-port", str(port), "--expect-workers", str(p.workers),
                  "--expect-workers-max-wait", str(int(STARTUP_GRACE_S))]
        worker = [*self._base_cmd(), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        return [master, *([worker] * p.workers)]

    # ------------------------------------------------------------------ the run
    def run(self) -> LoadResult:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        plan_file = self.plan.write(self.results_dir / "plan.json", results_dir=str(self.results_dir))
        env = {**os.environ, "GOLDGATE_LOAD_PLAN": str(plan_file), "PYTHONUNBUFFERED": "1"}
        if self._headers:
            # Secret-bearing headers travel in the child's environment only: never in the
            # plan file, the log or the evidence.
            env["GOLDGATE_LOAD_HEADERS"] = json.dumps(self._headers)
        log = (self.results_dir / "locust.log").open("ab")
        started = time.time()
        t0 = time.monotonic()
        try:
            with stop_on_signals():
                stop_reason, aborted, cpu = self._start_and_watch(env, log, t0)
        except KeyboardInterrupt:
            self._stop()
            raise
        finally:
            self._stop()
            log.close()
        elapsed = time.monotonic() - t0
        records = read_results_dir(self.results_dir)
        result = LoadResult(
            plan=self.plan, records=records, started=started, elapsed_s=elapsed,
            stop_reason=stop_reason, aborted=aborted, cpu_percent=cpu,
            summaries=read_summaries(self.results_dir), results_dir=self.results_dir,
            html_report=(self.results_dir / "locust-report.html") if (self.results_dir / "locust-report.html").is_file() else None,
            exit_codes=[p.returncode for p in self._procs],
        )
        if not records:
            raise LoadRunError(
                f"locust recorded no request against {self.plan.target_url} ({stop_reason}); "
                f"last log lines: {self.log_tail()}"
            )
        return result

    def _start_and_watch(self, env: dict[str, str], log: Any, t0: float) -> tuple[str, str | None,
                                                                                  dict[int, list[float]]]:
        for i, cmd in enumerate(self.commands()):
            # A session (and process group) per locust process: a Ctrl-C on the terminal
            # reaches only pytest, which then stops the run in order (master first).
            proc = subprocess.Popen(with_default_signals(cmd), env=env, cwd=self.results_dir, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            self._procs.append(proc)
            self._groups.append(proc.pid)
            if i == 0 and self.plan.workers:
                time.sleep(0.3)  # let the master bind before the workers connect
        return self._watch(t0)

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = (self.results_dir / "locust.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def _generators(self) -> list[subprocess.Popen[bytes]]:
        return self._procs[1:] if self.plan.workers else self._procs[:1]

    def _watch(self, t0: float) -> tuple[str, str | None, dict[int, list[float]]]:
        plan = self.plan
        tail = Tail(self.results_dir)
        requests = errors = slow = 0
        planned = plan.planned_requests or plan.max_requests
        deadline = t0 + self.locust_run_time_s + STARTUP_GRACE_S + STOP_GRACE_S
        cpu: dict[int, list[float]] = {}
        watched = {p.pid: psutil.Process(p.pid) for p in self._generators()}
        for proc in watched.values():
            with contextlib.suppress(psutil.Error):
                proc.cpu_percent(None)
        next_cpu = time.monotonic() + 0.5
        while True:
            time.sleep(POLL_S)
            for rec in tail.poll():
                requests += 1
                errors += not rec.ok
                slow += self.slow_ms is not None and rec.ms >= self.slow_ms
            now = time.monotonic()
            if now >= next_cpu:
                next_cpu = now + 0.5
                for pid, proc in watched.items():
                    with contextlib.suppress(psutil.Error):
                        cpu.setdefault(pid, []).append(proc.cpu_percent(None))
            if self.abort_check is not None:
                reason = self.abort_check(LiveCounts(requests, errors, slow, now - t0, planned))
                if reason:
                    return "aborted early", reason, cpu
            if requests >= plan.max_requests:
                return f"request cap of {plan.max_requests} reached", None, cpu
            if plan.model == "open" and len(list(self.results_dir.glob("summary-*.json"))) >= plan.processes:
                return "timetable complete", None, cpu
            if self._procs[0].poll() is not None:
                code = self._procs[0].returncode
                return ("duration elapsed" if code == 0 else f"locust exited with status {code}"), None, cpu
            if now >= deadline:
                return "hard duration limit reached", None, cpu

    def _stop(self) -> None:
        """Stop in order, then make sure: SIGTERM the master (it tells its workers to quit;
        load/locustfile.py writes the HTML report on locust's ``quitting`` event, which
        locust itself writes only on a normal end or an interrupt), then the workers, then
        SIGKILL every process group of the run. SIGTERM, not SIGINT: it cannot have been
        inherited as ignored."""
        groups, self._groups = self._groups, []
        if not groups:
            return
        end = time.monotonic() + STOP_GRACE_S
        for i, proc in enumerate(self._procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            share = end if i else min(end, time.monotonic() + STOP_GRACE_S / 2)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.05, share - time.monotonic()))
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)


def run_together(runners: list[LoadRunner]) -> list[LoadResult]:
    """Run several plans at the same time (a release beside its baseline), so both sides
    see the same machine and the same moment; results in the order given.

    Each runner still bounds and cleans up its own processes; an exception in any of
    them is re-raised here after all have finished.
    """
    import threading

    results: list[LoadResult | BaseException | None] = [None] * len(runners)

    def _one(i: int) -> None:
        try:
            results[i] = runners[i].run()
        except BaseException as exc:  # re-raised below, in the caller's thread
            results[i] = exc

    threads = [threading.Thread(target=_one, args=(i,), daemon=True) for i in range(len(runners))]
    for t in threads:
        t.start()
    try:
        with stop_on_signals():
            for t in threads:
                t.join()
    except KeyboardInterrupt:
        for r in runners:
            r._stop()
        raise
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, LoadResult)]
