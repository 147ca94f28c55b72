"""The reference bot's decision loop: what it costs and what a healthy bot trades (not a test).

Two parts, printed side by side (``--json`` for one JSON object):

1. **Cost** — a market feed (0.5 s bars, as the sandbox) and ``BENCH_BOTS`` bots trading on
   it, plus one bot whose loop is idle (a bar period of a day); for ``BENCH_S`` seconds a
   paced stream of ``GET /api/v1/signal`` goes to one trading bot and to the idle one in turn.
   Printed: CPU per trading bot (% of one core), the feed's CPU, and the signal route's p50/p95
   with and without the loop (goal: the loop costs a few % of a core and the p95 ratio stays
   near 1 — it must not disturb /api/v1/signal).
2. **A healthy bot on the seeded feed** — the trading desk replayed in-process over
   ``BENCH_BARS`` bars: orders per bar, fill share, rejects, the largest net position and
   the mark-to-market drawdown (what the trading guards and the drawdown budget must allow),
   and the retrained model's signal agreement with the released one.

Run: ``.venv/bin/python bench/trading_bot.py [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil
import requests

from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.knobs import FaultKnobs
from goldgate.sandbox.bot.ledger import PaperLedger
from goldgate.sandbox.bot.metrics import BotMetrics
from goldgate.sandbox.bot.trading import TradingDesk
from goldgate.sandbox.market import bars
from goldgate.sandbox.processes import stop_process

BOTS = int(os.environ.get("BENCH_BOTS", "4"))
SECONDS = float(os.environ.get("BENCH_S", "30"))
BARS = int(os.environ.get("BENCH_BARS", "14400"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + path, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url}{path} did not answer within 60 s")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cost(tmp: pathlib.Path) -> dict[str, Any]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        feed_port = _port()
        feed = f"http://127.0.0.1:{feed_port}"
        procs.append(subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.market", "--port", str(feed_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait(feed, "/health")
        urls = []
        for i in range(BOTS + 1):
            port = _port()
            env = dict(os.environ, BOT_PORT=str(port), BOT_WARMUP_S="0", BOT_DATA_DIR=str(tmp / f"bot{i}"),
                       MARKET_BAR_S="0.5")
            if i < BOTS:
                env["MARKET_FEED_URL"] = feed
            else:
                env["MARKET_BAR_S"] = "86400"  # the idle reference: its loop sleeps all along
            procs.append(subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait(url, "/ready")
        time.sleep(2)
        ps = [psutil.Process(p.pid) for p in procs]
        before = [p.cpu_times() for p in ps]
        began = time.monotonic()
        latency: dict[str, list[float]] = {"trading": [], "idle": []}
        session = requests.Session()
        while time.monotonic() - began < SECONDS:
            for key, url in (("trading", urls[0]), ("idle", urls[-1])):
                t = time.perf_counter()
                session.get(url + "/api/v1/signal?symbol=XAUUSD", timeout=5)
                latency[key].append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
        elapsed = time.monotonic() - began
        used = [(a.user + a.system, b.user + b.system) for a, b in zip(before, (p.cpu_times() for p in ps), strict=True)]
        cpu = [round((b - a) / elapsed * 100, 2) for a, b in used]
        decided = len(requests.get(urls[1] + "/api/v1/decisions", params={"limit": "5000"}, timeout=5).json()["decisions"])
    finally:
        for proc in procs:
            stop_process(proc, grace_s=5)
    # urls[0] also served the signal stream: its CPU is not the loop's alone
    loop_only = cpu[2:1 + BOTS]
    return {
        "bots": BOTS, "seconds": round(elapsed, 1), "bars_decided_by_a_bot": decided,
        "cpu_percent_per_trading_bot": round(sum(loop_only) / max(1, len(loop_only)), 2),
        "cpu_percent_feed": cpu[0],
        "signal_p50_ms_trading": round(_quantile(latency["trading"], 0.5), 1),
        "signal_p95_ms_trading": round(_quantile(latency["trading"], 0.95), 1),
        "signal_p50_ms_idle": round(_quantile(latency["idle"], 0.5), 1),
        "signal_p95_ms_idle": round(_quantile(latency["idle"], 0.95), 1),
        "signal_p95_ratio": round(_quantile(latency["trading"], 0.95) / _quantile(latency["idle"], 0.95), 3),
    }


def healthy_replay() -> dict[str, Any]:
    k0 = bars.last_complete(time.time(), 0.5) - BARS
    series = bars.bar_run(bars.DEFAULT_SEED, "XAUUSD", k0, BARS, 0.5)
    ledger = PaperLedger()
    metrics = BotMetrics(version="bench", model_version=model.MODEL_VERSION, data_dir=pathlib.Path("/"),
                         disk_free_percent=None)
    desk = TradingDesk(knobs=FaultKnobs.from_env({}), ledger=ledger, metrics=metrics,
                       model_version=model.MODEL_VERSION, order_volume=0.2, max_position_lots=2.0,
                       hold_bars=2, keep=BARS)
    peak = drawdown = max_position = 0.0
    agree = 0
    for bar in series:
        signal, confidence = model.signal_from_history(bar.closes)
        agree += signal == model.signal_from_history(bar.closes, "logit-ma-1.1")[0]
        desk.on_bar(bar, signal, confidence, bar.start + bar.bar_s)
        pnl = ledger.pnl(lambda _s, close=bar.close: close)
        peak = max(peak, pnl)
        drawdown = max(drawdown, peak - pnl)
        max_position = max(max_position, abs(ledger.lots("XAUUSD")))
    orders = [o for d in desk.record for o in d.orders]
    return {
        "bars": BARS, "orders_per_bar": round(len(orders) / BARS, 3),
        "orders_per_minute_at_0_5_s_bars": round(len(orders) / BARS * 120, 1),
        "fill_share": round(sum(o.status == "filled" for o in orders) / len(orders), 3),
        "rejects": sum(o.status == "rejected" for o in orders),
        "max_position_lots": round(max_position, 3), "max_drawdown_usd": round(drawdown, 1),
        "retrained_agreement": round(agree / BARS, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldgate-bench-trading-") as tmp:
        result = {"cost": cost(pathlib.Path(tmp)), "healthy": healthy_replay()}
    if args.json:
        print(json.dumps(result))
    else:
        for part, values in result.items():
            print(part)
            for key, value in values.items():
                print(f"  {key:34} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
