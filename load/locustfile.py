"""The trading bot's load: locust users for the closed model, a timetable for the open one.

Run by goldgate's runner (``goldgate.load.runner``) in a process of its own — locust
monkey-patches the interpreter with gevent, so it is never imported into pytest. The
runner hands over a JSON plan through ``GOLDGATE_LOAD_PLAN`` (see
``goldgate.load.plan.LoadPlan``); without one the file still works by hand::

    locust -f load/locustfile.py -H http://127.0.0.1:8080 --headless -u 10 -r 10 -t 20s

Two users, one per traffic model:

* :class:`TradingBotUser` — locust's closed model: each user sends, waits for the
  answer, thinks (``load.think_time_s``), sends again; the request kind is drawn from
  ``load.weights``.
* :class:`ArrivalRateUser` — the open model: one user per generating process that owns
  a fixed timetable (``rate_rps`` / processes arrivals per second) and spawns one
  greenlet per scheduled arrival, whether or not earlier requests have answered.
  Latency is measured from the *intended* send time, so a server stall costs every
  request that should have been sent during it — coordinated omission is corrected,
  not hidden.

Why the open model lives inside locust rather than in a separate asyncio generator: one
driver for both models means one traffic mix, one recorder, one HTML report, and the
distributed mode (``--load-workers N``: master + workers) works for both without a second
orchestration. gevent spawns a greenlet per arrival for a few microseconds, far below
the rates a release gate needs; the generator's own lateness is recorded per request
(``lag``) so the runner can call a starved generator INCONCLUSIVE instead of blaming the
server for it.

Every request is written by :class:`Recorder` as one JSON line to
``<results>/requests-<pid>.jsonl``; each process also holds a hard share of the
request cap and writes ``summary-<pid>.json`` when its work is done.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from goldgate.load.mix import TrafficMix

_DEFAULT_PLAN: dict[str, Any] = {
    "model": "closed", "rate_rps": 20.0, "duration_s": 20.0, "max_requests": 20_000,
    "think_time_s": [0.05, 0.2], "weights": {"signal": 10, "order": 2, "health": 1, "ready": 1},
    "workers": 0, "timeout_s": 10.0, "max_in_flight": 2000, "results_dir": "",
}
FLUSH_EVERY_S = 0.2


def _load_plan() -> dict[str, Any]:
    path = os.environ.get("GOLDGATE_LOAD_PLAN")
    if not path:
        return dict(_DEFAULT_PLAN)
    return {**_DEFAULT_PLAN, **json.loads(Path(path).read_text(encoding="utf-8"))}


PLAN = _load_plan()
PROCESSES = max(1, int(PLAN["workers"]))
# The environment's HTTP headers (e.g. an API key), resolved by the runner and handed over
# in this process's environment only, never in the plan file.
HEADERS: dict[str, str] = json.loads(os.environ.get("GOLDGATE_LOAD_HEADERS") or "{}")


class Recorder:
    """Writes every request of this process as one JSON line and keeps its request budget.

    Lines are buffered and flushed every ``FLUSH_EVERY_S`` so the runner can count
    errors while the run goes on (early abort) without a write per request.
    """

    def __init__(self, directory: Path, budget: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.budget = budget
        self.sent = 0
        self.recorded = 0
        self.dropped = 0
        self.finished = False
        self._fh = (directory / f"requests-{os.getpid()}.jsonl").open("a", encoding="utf-8", buffering=1 << 16)
        self._flusher = gevent.spawn(self._flush_loop)

    def take(self) -> bool:
        """One request from the budget; False once this process's share is used up."""
        if self.sent >= self.budget:
            return False
        self.sent += 1
        return True

    def on_request(self, request_type: str, name: str, response_time: float, response_length: int,
                   response: Any = None, context: Any = None, exception: Any = None,
                   start_time: float | None = None, **_kw: Any) -> None:
        if self._fh.closed:
            return  # an answer after the final flush: the run is over
        ctx = context or {}
        status = getattr(response, "status_code", None)
        err = None if exception is None else f"{type(exception).__name__}: {exception}"[:300]
        line = {
            "t": ctx.get("intended", start_time if start_time is not None else time.time()),
            "name": name, "ms": round(float(response_time), 3), "ok": exception is None,
            "status": status, "err": err, "lag": ctx.get("lag"),
        }
        self._fh.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.recorded += 1

    def _flush_loop(self) -> None:
        while not self._fh.closed:
            gevent.sleep(FLUSH_EVERY_S)
            if not self._fh.closed:
                self._fh.flush()

    def finish(self) -> None:
        """Flush everything and say so in the summary the runner waits for."""
        if self.finished:
            return
        self.finished = True
        self._fh.flush()
        summary = {"pid": os.getpid(), "sent": self.sent, "recorded": self.recorded,
                   "dropped": self.dropped, "budget": self.budget, "model": PLAN["model"]}
        tmp = self.directory / f".summary-{os.getpid()}.tmp"
        tmp.write_text(json.dumps(summary), encoding="utf-8")
        tmp.replace(self.directory / f"summary-{os.getpid()}.json")

    def close(self) -> None:
        self.finish()
        self._fh.close()


RECORDER: Recorder | None = None


@events.init.add_listener
def _on_init(environment: Any, **_kw: Any) -> None:
    global RECORDER
    if isinstance(environment.runner, MasterRunner) or not PLAN["results_dir"]:
        return  # the master only aggregates; requests are recorded where they are sent
    budget = max(1, int(PLAN["max_requests"]) // PROCESSES)
    RECORDER = Recorder(Path(PLAN["results_dir"]), budget)
    environment.events.request.add_listener(RECORDER.on_request)


STOPPING = False


@events.test_stopping.add_listener
def _on_test_stopping(**_kw: Any) -> None:
    # The runner stops a run early (cap, certain breach, Ctrl-C): end the open-model
    # timetable now instead of waiting out locust's stop timeout.
    global STOPPING
    STOPPING = True


@events.quit.add_listener
def _on_quit(**_kw: Any) -> None:
    # ``quit`` fires after the users have stopped, so answers still in flight at the stop
    # are recorded before the file closes.
    if RECORDER is not None:
        RECORDER.close()


@events.quitting.add_listener
def _on_quitting(environment: Any, **_kw: Any) -> None:
    # locust writes --html on a normal end or an interrupt but not on SIGTERM, and SIGTERM
    # is how goldgate's runner stops it (SIGINT may have been inherited as ignored). The
    # master (or a standalone process) writes the report here when locust has not.
    path = getattr(getattr(environment, "parsed_options", None), "html_file", None)
    if not path or os.path.exists(path) or isinstance(environment.runner, WorkerRunner):
        return
    from locust.html import get_html_report

    Path(path).write_text(get_html_report(environment, show_download_link=False), encoding="utf-8")


def _take() -> bool:
    return RECORDER is None or RECORDER.take()


class _BotUser(FastHttpUser):
    abstract = True
    network_timeout = float(PLAN["timeout_s"])
    connection_timeout = float(PLAN["timeout_s"])
    insecure = False

    def on_start(self) -> None:
        self.mix = TrafficMix(PLAN["weights"])


class TradingBotUser(_BotUser):
    """Closed model: send, wait for the answer, think, repeat."""

    wait_time = between(*PLAN["think_time_s"])

    @task
    def trade(self) -> None:
        if not _take():
            if RECORDER is not None:
                RECORDER.finish()
            raise StopUser()
        req = self.mix.next()
        self.client.request(req.method, req.path, name=req.name, json=req.json, headers=HEADERS or None)


class ArrivalRateUser(_BotUser):
    """Open model: a fixed timetable of arrivals, one greenlet per arrival."""

    concurrency = int(PLAN["max_in_flight"])  # connection pool: one per in-flight request

    def wait_time(self) -> float:
        return 0.0

    @task
    def timetable(self) -> None:
        rate = float(PLAN["rate_rps"]) / PROCESSES
        interval = 1.0 / rate
        arrivals = math.floor(rate * float(PLAN["duration_s"]))
        pool = Pool(int(PLAN["max_in_flight"]))
        mono0 = time.monotonic() + 0.05
        epoch0 = time.time() + (mono0 - time.monotonic())
        for i in range(arrivals):
            if STOPPING:
                break
            due = mono0 + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            if not _take():
                break
            if pool.full():
                if RECORDER is not None:
                    RECORDER.dropped += 1
                continue
            pool.spawn(self._send, epoch0 + i * interval, due)
        pool.join(timeout=float(PLAN["timeout_s"]) + 1)
        if RECORDER is not None:
            RECORDER.finish()
        raise StopUser()

    def _send(self, intended_epoch: float, due_mono: float) -> None:
        lag_ms = max(0.0, (time.monotonic() - due_mono) * 1000)
        req = self.mix.next()
        ctx = {"intended": intended_epoch, "lag": round(lag_ms, 3)}
        with self.client.request(req.method, req.path, name=req.name, json=req.json, headers=HEADERS or None,
                                 catch_response=True, context=ctx) as resp:
            # Latency from the intended send time: the generator's lateness is part of it,
            # and it is recorded separately (lag) to tell a slow server from a slow generator.
            resp.request_meta["response_time"] += lag_ms
