"""Latency-ratio benchmark: does the p95-vs-baseline decision under load match the server's truth?

The §6.1 rule rolls back a release whose p95 is above 2x the baseline's. Under load the
runner's clock adds its own overhead to both sides, which compresses the ratio towards
1: a build 2.2x slower can read under 2x (a false PASS). For true slow-downs from 1.5x
to 3x this bench runs the same open-model load against a baseline bot and a slowed bot
(the reference bot's latency knobs ``FAULT_LATENCY_MS`` / ``FAULT_LATENCY_JITTER_MS``, see
goldgate.sandbox.bot.knobs, scaled so that the server p95 lands near the target: the
bot's own processing time is not scaled by the knobs, so it is measured on the baseline
first) and prints, side by side:

* truth      p95 ratio of the bot's own request log (``BOT_REQUEST_LOG``), exact;
* client     the load runner's p95s as they are (what the comparison used before);
* corrected  the runner's p95s minus the client's overhead floor of the same run
             (smallest client time minus smallest server time): goldgate's decision
             where the target exposes no server timings;
* histogram  the bot's duration histogram over the run, read by goldgate's own
             ``ProcessWindow`` (/metrics before and after) as the load step reads the stable
             version; its bucket interpolation limits resolution.

and the decision (rollback above 2x, by
:func:`goldgate.criteria.latency.p95_vs_baseline_like_with_like`) of each next to the
truth's. The target: goldgate's decision matches the truth's for every point outside
+-5 % of the 2x line.

Run: .venv/bin/python bench/latency_ratio.py [--seconds 15] [--rate 40] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_accuracy import _bot as start_logged_bot  # bench/ is sys.path[0] when run as a script

from goldgate.criteria.latency import LatencyReading, p95_vs_baseline_like_with_like
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadRunner
from goldgate.load.stats import percentile
from goldgate.probes.server_timings import ProcessWindow
from goldgate.verdict import Status

BASE_MS, JITTER_MS, FACTOR = 40.0, 20.0, 2.0
SLOWDOWNS = (1.5, 1.75, 1.9, 2.0, 2.1, 2.25, 2.5, 3.0)
QUICK = (1.5, 2.5)
ROUTES = {"signal": 10, "order": 2}  # /api routes only: the knobs slow /api, not the probes
API_ROUTES = "/api/.*"


def _bot(tmp: Path, knob: float) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The bot at ``knob`` times its base latency, with its request log (load_accuracy's starter)."""
    return start_logged_bot(tmp, {"FAULT_LATENCY_MS": f"{BASE_MS * knob:.3f}",
                                  "FAULT_LATENCY_JITTER_MS": f"{JITTER_MS * knob:.3f}"})


def _measure(tmp: Path, slowdown: float, seconds: float, rate: float, knob: float = 1.0) -> dict:
    proc, url, log = _bot(tmp, knob)
    try:
        window = ProcessWindow(url, routes=API_ROUTES)  # goldgate's own reader of one process's histogram
        since = time.time()
        plan = LoadPlan(url, model="open", rate_rps=rate, users=20, spawn_rate=100, duration_s=seconds,
                        timeout_s=5, weights=dict(ROUTES), label=f"x{slowdown:g}")
        result = LoadRunner(plan, results_dir=tmp / f"run-{slowdown:g}").run()
        time.sleep(0.3)
        timings = window.close()
    finally:
        proc.terminate()
        proc.wait(10)
    server = sorted(float(r["duration_ms"]) for r in map(json.loads, log.read_text().splitlines())
                    if r["ts"] >= since and str(r.get("route", "")).startswith("/api"))
    client = sorted(result.stats.latencies_ms)
    if not timings.usable:
        raise SystemExit(f"latency_ratio: server timings of {url}: {timings.error or timings.reason}")
    hist = timings.p95_s
    return {"slowdown": slowdown, "client_p95_ms": percentile(client, 95), "server_p95_ms": percentile(server, 95),
            "histogram_p95_ms": None if hist is None else hist * 1000, "requests": len(client),
            "server_requests": len(server), "histogram_requests": timings.requests, "overhead_floor_ms": client[0] - server[0] if client and server else None}


def _decide(release: LatencyReading, baseline: LatencyReading) -> tuple[str, str]:
    v = p95_vs_baseline_like_with_like(release, baseline, factor=FACTOR, min_samples=50, window_s=None)
    return ("ROLLBACK" if v.status is Status.FAIL else "keep" if v.status is Status.PASS else v.status.value), v.reason


def run(seconds: float, rate: float, points: tuple[float, ...]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        base = _measure(tmp, 1.0, seconds, rate)
        knobbed = BASE_MS + 0.95 * JITTER_MS  # the knobs' share of the baseline p95
        intrinsic = max(0.0, base["server_p95_ms"] - knobbed)
        for s in points:
            knob = max(0.0, (s * base["server_p95_ms"] - intrinsic) / knobbed)
            m = _measure(tmp, s, seconds, rate, knob)
            m["knob_factor"] = round(knob, 3)
            truth = m["server_p95_ms"] / base["server_p95_ms"]
            server, _ = _decide(LatencyReading(m["histogram_p95_ms"] / 1000, m["histogram_requests"], "server"),
                                LatencyReading(base["histogram_p95_ms"] / 1000, base["histogram_requests"], "server"))
            corrected, _ = _decide(
                LatencyReading(m["client_p95_ms"] / 1000, m["requests"], "client", m["overhead_floor_ms"] / 1000),
                LatencyReading(base["client_p95_ms"] / 1000, base["requests"], "client",
                               base["overhead_floor_ms"] / 1000))
            client = m["client_p95_ms"] / base["client_p95_ms"]
            truth_decision = "ROLLBACK" if truth > FACTOR else "keep"
            outside = abs(truth / FACTOR - 1) > 0.05
            rows.append({
                **m, "truth_ratio": round(truth, 3), "client_ratio": round(client, 3),
                "corrected_ratio": round((m["client_p95_ms"] - m["overhead_floor_ms"])
                                         / (base["client_p95_ms"] - base["overhead_floor_ms"]), 3),
                "histogram_ratio": round(m["histogram_p95_ms"] / base["histogram_p95_ms"], 3),
                "truth": truth_decision, "client": "ROLLBACK" if client > FACTOR else "keep",
                "corrected": corrected, "histogram": server, "outside_band": outside,
            })
    judged = [r for r in rows if r["outside_band"]]
    return {
        "baseline": base, "points": rows, "factor": FACTOR,
        "histogram_matches_truth": all(r["histogram"] == r["truth"] for r in judged),
        "corrected_matches_truth": all(r["corrected"] == r["truth"] for r in judged),
        "client_matches_truth": all(r["client"] == r["truth"] for r in judged),
        "points_outside_band": len(judged),
    }


def _print(result: dict) -> None:
    b = result["baseline"]
    print(f"baseline: client p95 {b['client_p95_ms']:.1f} ms, server p95 {b['server_p95_ms']:.1f} ms "
          f"(histogram {b['histogram_p95_ms']:.1f} ms), overhead floor {b['overhead_floor_ms']:.1f} ms, "
          f"{b['requests']} requests")
    print(f"{'target':>6} {'truth':>6} {'client':>7} {'corr.':>6} {'hist.':>7}   {'truth':>8} {'client':>8} "
          f"{'corrected':>9} {'hist.':>8}  band")
    for r in result["points"]:
        print(f"{r['slowdown']:>5g}x {r['truth_ratio']:>6.2f} {r['client_ratio']:>7.2f} {r['corrected_ratio']:>6.2f} "
              f"{r['histogram_ratio']:>7.2f}   {r['truth']:>8} {r['client']:>8} {r['corrected']:>9} "
              f"{r['histogram']:>8}  {'outside' if r['outside_band'] else 'within +-5 %'}")
    print(f"decisions outside +-5 % of {result['factor']:g}x matching the truth: corrected client "
          f"{result['corrected_matches_truth']}, histogram {result['histogram_matches_truth']}, "
          f"raw client {result['client_matches_truth']} ({result['points_outside_band']} points)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=15.0, help="load per point (default 15 s)")
    ap.add_argument("--rate", type=float, default=40.0, help="requests per second (default 40)")
    ap.add_argument("--quick", action="store_true", help="two points, 4 s each")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not (args.seconds > 0 and args.rate > 0):
        print("latency_ratio: --seconds and --rate must be positive", file=sys.stderr)
        return 2
    result = run(4.0 if args.quick else args.seconds, args.rate, QUICK if args.quick else SLOWDOWNS)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
