"""Generator capacity: requests per second per CPU core, goldgate's locust runner vs wrk.

Both generators hit the same trivial loopback endpoint (a keep-alive HTTP server that
answers a fixed 2-byte body, in a process of its own). Capacity is counted per CPU
second the generator itself used (``getrusage(RUSAGE_CHILDREN)`` around each run), so
the number means "requests per second one fully used core can drive" even when the
machine is shared or the server is the first to saturate.

    .venv/bin/python bench/load_capacity.py [--seconds 5]

Prints one line per generator and the ratios. Not a test: numbers vary by machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import resource
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadRunner

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Trivial(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if length:
                self.buf = self.buf[int(length.group(1)):]
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


def _serve(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Trivial, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_wrk(url: str, seconds: int, connections: int) -> tuple[int, float, float]:
    cpu0, t0 = _children_cpu(), time.monotonic()
    out = subprocess.run(["/usr/bin/wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    m = re.search(r"(\d+) requests in", out)
    return int(m.group(1)) if m else 0, cpu, wall


def run_goldgate(url: str, plan_kw: dict[str, object]) -> tuple[int, float, float, float | None]:
    plan = LoadPlan(url, weights={"health": 1}, timeout_s=5, max_requests=10_000_000, **plan_kw)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        cpu0, t0 = _children_cpu(), time.monotonic()
        result = LoadRunner(plan, results_dir=Path(tmp)).run()
        wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
        return result.stats.requests, cpu, wall, result.generator_cpu()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}"
    try:
        rows = []
        n, cpu, wall = run_wrk(url + "/health", args.seconds, 20)
        rows.append(("wrk -t1 -c20", n, cpu, wall, 100.0 * cpu / wall))
        n, cpu, wall, med = run_goldgate(url, {"model": "closed", "users": 20, "spawn_rate": 100,
                                              "duration_s": args.seconds, "think_time_s": (0.0, 0.0)})
        rows.append(("goldgate closed, 20 users, no think time", n, cpu, wall, med))
        for rate in (1500, 3000):
            n, cpu, wall, med = run_goldgate(url, {"model": "open", "rate_rps": rate, "duration_s": args.seconds,
                                                  "max_in_flight": 200})
            rows.append((f"goldgate open, {rate} req/s timetable", n, cpu, wall, med))
    finally:
        server.terminate()
        server.join(5)
    print(f"trivial loopback endpoint {url}, {args.seconds} s per generator")
    print(f"{'generator':40s} {'requests':>9s} {'cpu s':>6s} {'req/s':>7s} {'cpu %':>6s} "
          f"{'req/cpu-s':>10s} {'steady req/s/core':>18s}")
    per_core = {}
    for name, n, cpu, _wall, med in rows:
        rps = n / args.seconds
        per_core[name] = rps / (med / 100) if med else float("nan")
        print(f"{name:40s} {n:9d} {cpu:6.2f} {rps:7.0f} {med or 0:6.0f} {n / cpu:10.0f} {per_core[name]:18.0f}")
    wrk = per_core["wrk -t1 -c20"]
    for name, value in per_core.items():
        if not name.startswith("wrk"):
            print(f"ratio {name} / wrk, steady req/s per core: {value / wrk:.3f}  (wrk is {wrk / value:.1f}x)")
    print("req/cpu-s counts start-up (python + locust import, ~1-2 cpu-s); steady req/s/core = req/s over the\n"
          "generator's median CPU share while running (wrk: its whole run).")


if __name__ == "__main__":
    main()
