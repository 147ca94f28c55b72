"""Latency ratio on a busy host: does the client-clock comparison still hold?

Where the release exposes no server timings, "p95 at most 2x the baseline" compares the
load client's p95s minus their overhead floors. The floor takes out what every request
pays; the queueing a busy load generator or node adds on top stays in both sides and
compresses the ratio towards 1. This bench runs the comparison side by side, as the load
step does, for two pairs of reference bots:

* slow     the release's signal model 60 ms, the baseline's 1 ms (far above 2x);
* near     60 ms against 20 ms (about 2.8x on a quiet host: a breach, but not by much);
* healthy  both builds the same (a PASS),

on a quiet host and with ``N`` busy loops beside them (``--busy 0,8,16,24``), and prints for
each: the truth (p95 ratio of the bots' own request logs), the corrected client ratio,
the baseline's corrected p95, the queueing ``q`` (the least spread of a route's p95 above
its fastest answer, the larger of the two sides), the decision of the
bare ratio (what the rule gave before the queueing check) and the criterion's decision
(:func:`goldgate.criteria.load.p95_within_baseline`, which refuses a PASS that queueing
could explain). On one host the bots' own clocks are slowed by the busy loops as well, so
the breach a release is judged by is its truth on the quiet host (the ``busy 0`` row).
The target: no pair above 2x on the quiet host is passed, the healthy pair is never failed.

Run: .venv/bin/python bench/latency_contention.py [--seconds 8] [--busy 0,8,16,24] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_accuracy import _bot  # bench/ is sys.path[0] when run as a script

from goldgate.criteria.load import LoadMeasurement, p95_within_baseline, queueing_ms
from goldgate.load.client_timings import client_timings
from goldgate.load.limits import DEFAULTS
from goldgate.load.measure import measurement
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult, LoadRunner, run_together
from goldgate.load.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
PAIRS = {"slow": ("60", "1"), "near": ("60", "20"), "healthy": ("20", "20")}  # BOT_SIGNAL_BASE_MS: release, baseline
FACTOR = 2.0
API = "/api/.*"


def _server_p95(log: Path, since: float) -> float | None:
    times = sorted(float(r["duration_ms"]) for r in map(json.loads, log.read_text().splitlines())
                   if r["ts"] >= since and str(r.get("route", "")).startswith("/api"))
    return percentile(times, 95)


def _measurement(result: LoadResult) -> LoadMeasurement:
    """The run as the load step measures it, with the client's timings on the API routes."""
    return dataclasses.replace(measurement(result), client=client_timings(result, API))


def _pair(tmp: Path, release_ms: str, baseline_ms: str, busy: int, seconds: float, rate: float) -> dict:
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    bots = []
    try:
        bots = [_bot(tmp, {"BOT_SIGNAL_BASE_MS": ms}) for ms in (release_ms, baseline_ms)]
        since = time.time()
        runners = [LoadRunner(LoadPlan(url, rate_rps=rate, duration_s=seconds, users=10, label=label),
                              results_dir=tmp / f"{label}-{busy}-{release_ms}-{baseline_ms}",
                              locustfile=ROOT / "load" / "locustfile.py")
                   for (_, url, _), label in zip(bots, ("release", "baseline"), strict=True)]
        release, baseline = run_together(runners)
    finally:
        for p in [*loops, *(b[0] for b in bots)]:
            p.terminate()
        for p in [*loops, *(b[0] for b in bots)]:
            p.wait(10)
    truth = [_server_p95(log, since) for _, _, log in bots]
    r, b = _measurement(release), _measurement(baseline)
    rc, bc = r.client, b.client
    corrected = ((rc.p95_ms - rc.cheapest_min_ms) / (bc.p95_ms - bc.cheapest_min_ms)
                 if rc and bc and None not in (rc.p95_ms, bc.p95_ms, rc.cheapest_min_ms, bc.cheapest_min_ms) else None)
    verdict = p95_within_baseline(r, b, FACTOR, min_requests=50, limits=DEFAULTS)  # a starved generator is INCONCLUSIVE on its own
    queued = [queueing_ms(c)[0] for c in (rc, bc) if c is not None]
    base_ms = None if bc is None or None in (bc.p95_ms, bc.cheapest_min_ms) else bc.p95_ms - bc.cheapest_min_ms
    return {"busy": busy, "truth_ratio": None if None in truth else truth[0] / truth[1], "baseline_ms": base_ms,
            "corrected_ratio": corrected, "queueing_ms": max((q for q in queued if q is not None), default=None),
            "bare": None if corrected is None else ("FAIL" if corrected > FACTOR else "PASS"),
            "criterion": verdict.status.value, "reason": verdict.reason}


def run(seconds: float, rate: float, busy: list[int]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, (release_ms, baseline_ms) in PAIRS.items():
            for n in busy:
                rows.append({"pair": name, **_pair(Path(d), release_ms, baseline_ms, n, seconds, rate)})
    quiet = {r["pair"]: r["truth_ratio"] for r in rows if r["busy"] == min(busy)}
    breach = {pair for pair, ratio in quiet.items() if ratio is not None and ratio > FACTOR}
    return {"rows": rows, "quiet_truth": quiet,
            "breach_passed": sum(r["pair"] in breach and r["criterion"] == "PASS" for r in rows),
            "breach_passed_bare": sum(r["pair"] in breach and r["bare"] == "PASS" for r in rows),
            "healthy_failed": sum(r["pair"] == "healthy" and r["criterion"] == "FAIL" for r in rows)}


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _print(result: dict) -> None:
    print(f"{'pair':>8} {'busy':>4} {'truth':>6} {'corr.':>6} {'base ms':>7} {'q ms':>6} {'bare':>5} {'criterion':>12}")
    for r in result["rows"]:
        print(f"{r['pair']:>8} {r['busy']:>4} {_fmt(r['truth_ratio']):>6} {_fmt(r['corrected_ratio']):>6} "
              f"{_fmt(r['baseline_ms'], '.1f'):>7} "
              f"{_fmt(r['queueing_ms'], '.1f'):>6} {r['bare'] or 'n/a':>5} {r['criterion']:>12}")
    print(f"runs of a pair above {FACTOR:g}x on the quiet host that passed: criterion {result['breach_passed']}, "
          f"bare ratio {result['breach_passed_bare']}; healthy runs failed: {result['healthy_failed']} "
          f"(target 0 and 0)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="load per run (default 8 s)")
    ap.add_argument("--rate", type=float, default=40.0, help="requests per second per side (default 40)")
    ap.add_argument("--busy", default="0,8,16,24", help="busy loops beside the runs, comma-separated (default 0,8,16,24)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        busy = [int(x) for x in args.busy.split(",")]
    except ValueError:
        busy = []
    if not (args.seconds > 0 and args.rate > 0) or not busy or any(n < 0 or n > 64 for n in busy):
        print("latency_contention: --seconds and --rate must be positive, --busy whole numbers 0..64",
              file=sys.stderr)
        return 2
    result = run(args.seconds, args.rate, busy)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
