"""Accuracy: p95/p99 from goldgate's load runner vs the bot's own log of the same requests.

For each case a fresh reference bot writes one JSON line per request with its
server-side duration (``BOT_REQUEST_LOG``); the runner's percentiles (nearest-rank over
every recorded request) are printed beside the exact percentiles of that log, for the
open and the closed model, with and without periodic server stalls.

What to expect: without stalls both models sit a little above the server's numbers
(client and loopback overhead). With stalls the server log and the closed model agree
with each other and both understate what users of an open system would see: a closed
user sends nothing while it waits, so the stall hits one request per user instead of
every request that should have been sent. The open model, measuring from the intended
send time, shows the stall.

    .venv/bin/python bench/load_accuracy.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadRunner
from goldgate.load.stats import percentile

STALLS = {"FAULT_STALL_EVERY_S": "6", "FAULT_STALL_S": "2"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bot(tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = tmp / f"requests-{port}.log"
    full = {**os.environ, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_DATA_DIR": str(tmp / f"bot-{port}"),
            "BOT_WARMUP_S": "0", "BOT_REQUEST_LOG": str(log), **env}
    proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url, log
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"bot at {url} did not start")


def _server_times(log: Path, since: float) -> list[float]:
    out = []
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        if rec["ts"] >= since:
            out.append(float(rec["duration_ms"]))
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--chart", type=Path, help="also write the stalled runs' latency chart (PNG) here")
    args = ap.parse_args()
    rows = []
    stalled = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for stalls in (False, True):
            for model in ("open", "closed"):
                proc, url, log = _bot(tmp, STALLS if stalls else {})
                try:
                    plan = LoadPlan(url, model=model, rate_rps=40, users=5, spawn_rate=100,  # type: ignore[arg-type]
                                    think_time_s=(0.02, 0.05), duration_s=args.seconds, timeout_s=5,
                                    label=model)
                    since = time.time()
                    result = LoadRunner(plan, results_dir=tmp / f"run-{model}-{stalls}").run()
                    time.sleep(0.3)
                finally:
                    proc.terminate()
                    proc.wait(10)
                if stalls:
                    stalled.append(result)
                client = list(result.stats.latencies_ms)
                server = _server_times(log, since)
                rows.append((("stalls 2s/6s" if stalls else "no stalls"), model, client, server))
    print(f"{'case':13s} {'model':6s} {'n run':>6s} {'n log':>6s} {'p95 run':>8s} {'p95 log':>8s} {'ratio':>6s}"
          f" {'p99 run':>8s} {'p99 log':>8s} {'ratio':>6s} {'>500ms':>7s}")
    for case, model, client, server in rows:
        c95, s95 = percentile(client, 95), percentile(server, 95)
        c99, s99 = percentile(client, 99), percentile(server, 99)
        slow = sum(1 for x in client if x >= 500) / len(client)
        print(f"{case:13s} {model:6s} {len(client):6d} {len(server):6d} {c95:8.1f} {s95:8.1f} {c95 / s95:6.2f}"
              f" {c99:8.1f} {s99:8.1f} {c99 / s99:6.2f} {slow:7.1%}")
    if args.chart:
        from goldgate.load.evidence import chart

        print(f"chart: {chart(stalled, args.chart, limit_ms=500)}")
    by = {(c, m): percentile(cl, 95) for c, m, cl, _ in rows}
    print(f"stalls: open-model p95 / closed-model p95 = {by[('stalls 2s/6s', 'open')] / by[('stalls 2s/6s', 'closed')]:.1f}x"
          " (the closed model's coordinated omission); '>500ms' = share of requests that saw a stall")


if __name__ == "__main__":
    main()
