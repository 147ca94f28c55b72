"""The judge under load: 100 concurrent runs, each called every second (not a test).

``goldgate serve``'s app is started with uvicorn on a loopback port in its own process (the
real HTTP stack: sockets, JSON, bearer token, rate limiter raised out of the way, SQLite
evidence store). Each of ``BENCH_RUNS`` runs (default 100, distinct
``namespace/workload@revision`` keys) is judged by a client calling ``POST /v1/argo`` every
``BENCH_CALL_S`` seconds (default 1; Flagger's and Argo's usual interval is a minute) for
``BENCH_ROUNDS`` rounds (default 15), all runs at once. The monitors are the scripted ones of the contract tests,
with ``BENCH_EVAL_MS`` (default 30 ms) of blocking work per evaluation standing in for the
probe reads, so the numbers are the judge's own answer path and background evaluation at
this concurrency, not the cluster's or the metric source's.

Printed: answers, p50/p99/max answer time, errors (transport failures and any status other
than the verdict's), evaluations done in the background. Goal: p99 under 2 s, 0 errors.
Beside the callers' answer times, where the time went: the judge's own time per answer
(handler start to response, its ``/metrics`` summary), how late the judge's event loop ran
(a timer every 50 ms: the wait of a request that arrived but was not yet read) and how late
the callers' own loop ran (the wait of an answer that arrived but was not yet seen). On a
shared machine the last two are CPU starvation, not the judge's work.

Run: ``.venv/bin/python bench/judge_load.py`` (``BENCH_PROFILE=judge.prof`` writes the judge
process's cProfile stats, read with ``python -m pstats judge.prof``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pathlib
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from goldgate.config import load_environment  # noqa: E402
from goldgate.judge.app import create_app  # noqa: E402
from tests.judge import fakes  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
EVAL_S = float(os.environ.get("BENCH_EVAL_MS", "30")) / 1000
CALL_S = float(os.environ.get("BENCH_CALL_S", "1"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
#: each run's evaluation interval (the environment's watch interval in `goldgate serve`)
INTERVAL_S = float(os.environ.get("BENCH_INTERVAL_S", "1"))
#: 1: each run's caller starts at its own moment within the first interval, as independent
#: controllers do; 0 (default, the figures in the README): all 100 call in the same instant.
STAGGER = os.environ.get("BENCH_STAGGER", "0") == "1"
#: 1: a control run: the same callers against a server that answers a canned verdict at once (no
#: judge), to tell the callers' and the machine's share of the answer time from the judge's.
CONTROL = os.environ.get("BENCH_CONTROL", "0") == "1"
#: answer times of every call after a run's first (the run open, evaluated in the background)
LATER: list[float] = []


class _Patch:
    def setattr(self, obj: Any, name: str, value: Any) -> None:
        setattr(obj, name, value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _loop_lag(samples: list[float], out: pathlib.Path | None = None, period: float = 0.05) -> None:
    """How late a 50 ms timer fires on this event loop: time a ready callback waited for the loop."""
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(period)
        samples.append(max(0.0, time.perf_counter() - t0 - period))
        if out is not None and len(samples) % 20 == 0:  # the judge process: kept where the bench reads it
            out.write_text(" ".join(f"{x:.4f}" for x in samples[-5000:]))


def _quantiles(values: list[float]) -> str:
    v = sorted(values)
    if not v:
        return "n/a"
    at = lambda q: v[min(len(v) - 1, int(q * len(v)))] * 1000  # noqa: E731
    return f"p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, max {v[-1] * 1000:.1f} ms"


def _script(group: Any) -> str:
    time.sleep(EVAL_S)  # the probe reads of one evaluation
    return ("PASS", "INCONCLUSIVE", "FAIL", "ROLLBACK")[hash(group.name) % 4]


async def _client(c: httpx.AsyncClient, i: int, times: list[float], errors: list[str], first: list[float]) -> None:
    body = {"namespace": "trading", "workload": f"bot-{i}", "revision": f"rev{i:04d}"}
    headers = {"Authorization": f"Bearer {fakes.TOKEN}"}
    if STAGGER:
        await asyncio.sleep(CALL_S * i / RUNS)
    for n in range(ROUNDS):
        t0 = time.perf_counter()
        try:
            r = await c.post("/v1/argo", json=body, headers=headers)
            ok = r.status_code == (503 if r.json().get("verdict") == "ERROR" else 200)
            if not ok:
                errors.append(f"{r.status_code} {r.text[:80]}")
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
        times.append(time.perf_counter() - t0)
        if n == 0:
            first.append(times[-1])
        else:
            LATER.append(times[-1])
        await asyncio.sleep(max(0.0, CALL_S - (time.perf_counter() - t0)))


def _serve(port: int, state: str) -> None:
    """The judge in its own process, as in the cluster: the callers do not share its CPU or GIL."""
    env = load_environment("local", ROOT / "environments")
    env = env.model_copy(update={"judge": env.judge.model_copy(update={"rate_limit_per_minute": 1_000_000})})
    env = env.model_copy(update={"judge": env.judge.model_copy(update={"workers": WORKERS})})
    judge = fakes.scripted_judge(env, pathlib.Path(state), _script, _Patch(), interval_s=INTERVAL_S)
    profile = os.environ.get("BENCH_PROFILE")  # a file: the judge process's cProfile stats are written there
    profiler = None
    if profile:
        import cProfile
        import signal

        profiler = cProfile.Profile()

        def _dump(*_: Any) -> None:  # SIGUSR1 from the bench, on the event loop's thread (the profiled one)
            profiler.disable()
            profiler.dump_stats(profile)

        signal.signal(signal.SIGUSR1, _dump)
        profiler.enable()
    app = _control_app() if CONTROL else create_app(judge, token=fakes.TOKEN)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           timeout_keep_alive=95))  # as goldgate serve

    async def serve() -> None:
        lag = asyncio.get_running_loop().create_task(_loop_lag([], pathlib.Path(f"{state}.lag")))
        try:
            await server.serve()
        finally:
            lag.cancel()

    asyncio.run(serve())


def _control_app() -> Any:
    """No judge: every call answered at once with a verdict body of the judge's size."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    body = {"verdict": "INCONCLUSIVE", "reason": "canned", "run": "trading/bot@rev", "checks": [
        {"name": "error rate", "verdict": "INCONCLUSIVE", "value": 0.0, "threshold": 0.01, "reason": "x" * 120}] * 2,
        "evidence": {"history": ["INCONCLUSIVE"] * 20, "notes": ["y" * 200] * 3}}

    async def argo(request: Any) -> JSONResponse:
        await request.body()
        return JSONResponse(body)

    async def plain(request: Any) -> PlainTextResponse:
        return PlainTextResponse("")

    return Starlette(routes=[Route("/v1/argo", argo, methods=["POST"]), Route("/health", plain),
                             Route("/metrics", plain)])


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, f"{tmp}/runs.sqlite3"))
        server.start()
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            times: list[float] = []
            errors: list[str] = []
            first: list[float] = []

            client_lag: list[float] = []

            async def all_clients() -> None:
                # one client (one TLS context, a pool of keep-alive connections) as a controller has
                limits = httpx.Limits(max_connections=RUNS, max_keepalive_connections=RUNS)
                lag = asyncio.get_running_loop().create_task(_loop_lag(client_lag))
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10.0, limits=limits) as c:
                    await asyncio.gather(*(_client(c, i, times, errors, first) for i in range(RUNS)))
                lag.cancel()

            t0 = time.perf_counter()
            cpu0 = time.process_time()
            asyncio.run(all_clients())
            client_cpu_s = time.process_time() - cpu0
            wall = time.perf_counter() - t0
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            judge_cpu_s = _cpu_seconds(server.pid)
            lag_file = pathlib.Path(f"{tmp}/runs.sqlite3.lag")
            judge_lag = [float(x) for x in lag_file.read_text().split()] if lag_file.exists() else []
            if os.environ.get("BENCH_PROFILE") and server.pid:
                import signal

                os.kill(server.pid, signal.SIGUSR1)
                time.sleep(2)
        finally:
            server.terminate()
            server.join(timeout=10)
    evaluations = next((line.split()[-1] for line in metrics.splitlines()
                        if line.startswith("goldgate_judge_evaluation_seconds_count")), "?")
    times.sort()
    first.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000  # noqa: E731
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"judge load: {RUNS} concurrent runs x {ROUNDS} calls every {CALL_S:g}s"
          + (" (callers staggered)" if STAGGER else " (all callers at once)") + f" ({len(times)} answers in "
          f"{wall:.1f}s), " + ("CONTROL: a canned answer, no judge" if CONTROL else
                              f"{EVAL_S * 1000:g} ms per background evaluation, judge in its own process"))
    print(f"answer time: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {times[-1] * 1000:.1f} ms, "
          f"mean {statistics.mean(times) * 1000:.1f} ms")
    print(f"later calls (the run open, answered from its latest evaluation): {_quantiles(LATER)}")
    print(f"first call of a run (opens it): p50 {first[len(first) // 2] * 1000:.1f} ms, "
          f"max {first[-1] * 1000:.1f} ms")
    if judge_cpu_s is not None:  # how much CPU the judge needed, apart from what the machine gave it
        print(f"judge process CPU: {judge_cpu_s:.1f} s over {wall:.1f} s ({100 * judge_cpu_s / wall:.0f} % of one "
              f"core; {1000 * judge_cpu_s / max(1, len(times)):.1f} ms per answer, background evaluations included)")
    print(f"callers' CPU (this process, 100 async clients): {client_cpu_s:.1f} s; an answer time counts the "
          f"callers' own waits for a CPU too")
    own = {q: line.split()[-1] for line in metrics.splitlines() for q in ("0.5", "0.99")
           if line.startswith(f'goldgate_judge_answer_seconds{{quantile="{q}"}}')}
    print(f"the judge's own time per answer (handler, its /metrics): p50 {1000 * float(own.get('0.5', 'nan')):.1f} ms, "
          f"p99 {1000 * float(own.get('0.99', 'nan')):.1f} ms")
    print(f"the judge's event loop ran late by (50 ms timer): {_quantiles(judge_lag)}")
    print(f"the callers' event loop ran late by (50 ms timer): {_quantiles(client_lag)}")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    # Evaluations follow each run's own interval, not the calls: about runs x wall / interval at any call rate.
    print(f"background evaluations: {evaluations} (one per run per {INTERVAL_S:g}s interval would be about "
          f"{RUNS * wall / INTERVAL_S:.0f}; calls answered: {len(times)})")
    return 0 if not errors and p(0.99) < 2000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
