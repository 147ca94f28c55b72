"""Latency accuracy: p95 from the metric sources vs the exact p95 of the same requests.

Starts one reference bot with a spread-out latency (FAULT_LATENCY_MS + uniform
FAULT_LATENCY_JITTER_MS) and its request log (BOT_REQUEST_LOG, one JSON line per request
with the server-side duration the histogram also observes), sends a bounded burst of
signal requests, and prints for the same requests:

* exact      nearest-rank p95 of the logged durations (the truth)
* scrape     goldgate's scrape source: histogram bucket deltas, interpolated
* prometheus histogram_quantile over rate(...[w]) from a real Prometheus, when
             /usr/bin/prometheus exists (skipped otherwise: apt-get install prometheus)

with the absolute and relative error and the histogram bucket holding the exact p95,
whose width is the resolution limit of any bucketed quantile.

Run: .venv/bin/python bench/latency_accuracy.py [--requests 1500] [--latency-ms 40 --jitter-ms 300]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from goldgate.load.stats import percentile
from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.prometheus import PrometheusSource
from goldgate.probes.metrics.scrape import ScrapeSource, StaticTargets
from goldgate.probes.requestlog import server_durations_ms
from goldgate.sandbox.bot.metrics import DURATION_BUCKETS
from goldgate.sandbox.processes import stop_process

SIGNAL = "/api/v1/signal?symbol=XAUUSD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=(0.5, 1)).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout_s:g}s")


def burst(url: str, n: int, threads: int, deadline_s: float) -> None:
    stop_at = time.monotonic() + deadline_s

    def worker(count: int) -> None:
        with requests.Session() as s:
            for _ in range(count):
                if time.monotonic() > stop_at:
                    return
                with contextlib.suppress(requests.RequestException):
                    s.get(url + SIGNAL, timeout=(1, 10))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [n // threads + (i < n % threads) for i in range(threads)]))


def bucket_of(value: float) -> str:
    lower = 0.0
    for bound in DURATION_BUCKETS:
        if value <= bound:
            return f"({lower:g}, {bound:g}] s"
        lower = bound
    return f"({lower:g}, +Inf)"


def start_prometheus(work: Path, bot_port: int) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        print("prometheus: skipped (binary not found: apt-get install prometheus)")
        return None
    (work / "targets.json").write_text(json.dumps(
        [{"targets": [f"127.0.0.1:{bot_port}"], "labels": {"app": "trading-bot"}}]))
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        "scrape_configs:\n  - job_name: trading-bot\n    file_sd_configs:\n"
        f"      - files: ['{work / 'targets.json'}']\n        refresh_interval: 1s\n")
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait(url + "/-/ready", 30)
    return proc, url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=24)
    ap.add_argument("--latency-ms", type=float, default=40)
    ap.add_argument("--jitter-ms", type=float, default=300)
    ap.add_argument("--quantile", type=float, default=0.95)
    ap.add_argument("--no-prometheus", action="store_true")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="goldgate-bench-"))
    port = free_port()
    log_path = work / "requests.jsonl"
    env = {**os.environ, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_WARMUP_S": "0",
           "BOT_DATA_DIR": str(work / "data"), "BOT_REQUEST_LOG": str(log_path),
           "FAULT_LATENCY_MS": str(args.latency_ms), "FAULT_LATENCY_JITTER_MS": str(args.jitter_ms),
           "FAULT_SEED": "11"}
    bot = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom: tuple[subprocess.Popen[bytes], str] | None = None
    try:
        url = f"http://127.0.0.1:{port}"
        wait(url + "/ready", 20)
        if not args.no_prometheus:
            prom = start_prometheus(work, port)
            if prom:
                time.sleep(2.5)  # first scrapes: every series exists before the burst
        burst(url, 5, 1, 10)  # create the route's series before the window opens
        time.sleep(1.5 if prom else 0)
        scrape = ScrapeSource(StaticTargets([url]))
        window = scrape.start(Selector())
        began = time.time()
        burst(url, args.requests, args.threads, 120)
        window.scrape()
        took = time.time() - began
        durations = server_durations_ms(log_path, since=began - 0.01, route_prefix="/api/")
        exact_ms = percentile(durations, args.quantile * 100)
        if exact_ms is None:
            raise SystemExit(f"no signal request in {log_path}: nothing to compare with")
        exact = exact_ms / 1000
        rows = [("exact (request log)", exact, len(durations))]
        m = window.observation().latency_quantile(args.quantile)
        rows.append(("scrape source", m.value, m.samples))
        if prom:
            time.sleep(2.5)  # two scrapes after the burst
            w = math.ceil(time.time() - began + 1)
            pm = PrometheusSource(prom[1]).latency_quantile(args.quantile, w, Selector())
            rows.append((f"prometheus [{w}s]", pm.value, pm.samples))
        q = f"p{args.quantile * 100:g}"
        print(f"{len(durations)} signal requests in {took:.1f}s, FAULT_LATENCY_MS={args.latency_ms:g} "
              f"+ jitter 0..{args.jitter_ms:g} ms; exact {q} lies in bucket {bucket_of(exact)}\n")
        print(f"{'source':<22} {q + ' (ms)':>10} {'samples':>8} {'abs err (ms)':>13} {'rel err':>8}")
        for name, value, n in rows:
            if value is None:
                print(f"{name:<22} {'n/a':>10} {n:>8}")
                continue
            err = (value - exact) * 1000
            print(f"{name:<22} {value * 1000:>10.1f} {n:>8} {err:>13.1f} {err / (exact * 1000):>8.1%}")
    finally:
        stop_process(bot)
        if prom:
            stop_process(prom[0])
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
