"""Canary traffic by weight: nominal vs observed share of each phase at 50 req/s (not a test).

A private sandbox (``goldgate sandbox up`` in a temporary directory) runs the stable bot
(v1.2.0, 3 replicas); a canary Deployment runs v1.3.0 beside it. goldgate's Gateway API
router (the same code the canary strategy uses: pin the stable Service to its pods, scale
the canary, set the HTTPRoute's weights) takes the canary through 10, 50 and 100 %; during
each phase a paced stream of ``GET /version`` at 50 req/s enters through the Gateway's
address, and each answer's version says which side served it. Then the canary is rolled
back as the strategy does it — weight 0 first, then the canary scaled away — under the same
stream, counting failed requests.

Printed per phase: nominal weight, observed canary share, the difference in percentage
points, and the share the replica-ratio fallback gives with the same 3 replicas. Goal: every
phase within ±2 points; zero failed requests during the rollback.

Run: ``.venv/bin/python bench/canary_weights.py`` (``BENCH_PHASE_S``, default 20 s per phase).
"""

from __future__ import annotations

import collections
import os
import pathlib
import sys
import tempfile
import threading
import time

from goldgate.actions import kubernetes as actions
from goldgate.actions.manifests import canary_split, companion_deployment
from goldgate.config import load_environment
from goldgate.probes.kubernetes import KubeClients, connect
from goldgate.probes.workloads import deployment_status, replicaset_hashes
from goldgate.rollout.base import RolloutContext, own_pods, wait_for_pods, wait_pods_gone
from goldgate.rollout.routers import router_for
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy
from goldgate.sandbox import lifecycle

ROOT = pathlib.Path(__file__).resolve().parents[1]
RATE = 50.0
PHASE_S = float(os.environ.get("BENCH_PHASE_S", "20"))
CANARY_IMAGE = "trading-bot:v1.3.0"
TOLERANCE_PP = 2.0


class VersionCounter:
    """Counts answers by the version they name (thread-safe: the stream answers from 4 threads)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def __call__(self, resp: object) -> None:
        try:
            version = resp.json().get("version", "?")  # type: ignore[attr-defined]
        except ValueError:
            version = "unparsable"
        with self._lock:
            self.counts[version] += 1


def stream(url: str, seconds: float, counter: VersionCounter) -> TrafficStream:
    return TrafficStream(url, rate_rps=RATE, max_duration_s=seconds, paths=("/version",), observe=counter).start()


def run_phase(url: str, seconds: float) -> tuple[collections.Counter[str], TrafficStream]:
    counter = VersionCounter()
    s = stream(url, seconds, counter)
    time.sleep(seconds)
    s.stop()
    return counter.counts, s


def main() -> int:
    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-bench-weights-"))
    env = load_environment("local", ROOT / "environments")
    env = env.model_copy(update={"strategy": env.strategy.model_copy(
        update={"router": {"kind": "gateway-api", "name": env.kubernetes.service}})})
    info = lifecycle.ensure_running(state_dir, timeout=120)
    kube: KubeClients = connect(env.kubernetes, str(info.kubeconfig))
    try:
        safety = SafetyPolicy("local", production=False, allow_mutations=True)
        ctx = RolloutContext(env, kube, safety, None, log=lambda line: None)
        router = router_for(env)
        stable = deployment_status(kube, ctx.namespace, ctx.deployment)
        stable_version = stable.images[0].rsplit(":", 1)[-1]
        canary_version = CANARY_IMAGE.rsplit(":", 1)[-1]
        stable_hash = replicaset_hashes(kube, ctx.namespace, own_pods(stable.selector)).get(stable.revision, "")
        router.prepare(ctx, stable_hash)
        deploy = kube.api_client.sanitize_for_serialization(
            kube.apps.read_namespaced_deployment(ctx.deployment, ctx.namespace))
        name = f"{ctx.deployment}-canary"
        actions.create_deployment(kube, safety, ctx.namespace, companion_deployment(
            deploy, name, ("track", "canary"), replicas=0, image=CANARY_IMAGE, container=env.kubernetes.container))
        url = router.entry_url(kube, "")
        if not url:
            print("ERROR: the Gateway published no address", file=sys.stderr)
            return 1
        print(f"gateway {url}; stable {stable_version} x{stable.replicas}, canary {canary_version}; "
              f"{RATE:g} req/s, {PHASE_S:g} s per phase\n")
        print(f"{'phase':>6} {'requests':>9} {'canary':>7} {'observed %':>11} {'diff pp':>8} "
              f"{'replica-ratio %':>16} {'failed':>7}  within ±{TOLERANCE_PP:g} pp")
        worst = 0.0
        for weight in env.strategy.canary_weights:
            def ready(n: int) -> bool:
                return wait_for_pods(ctx, name, "track=canary", n, deadline_s=60).ok

            router.shift(ctx, name, stable.replicas, weight, ready)
            time.sleep(0.5)  # the gateway's next pass has the new endpoints and weights
            counts, s = run_phase(url, PHASE_S)
            answered = counts[stable_version] + counts[canary_version]
            observed = 100.0 * counts[canary_version] / answered if answered else float("nan")
            diff = observed - weight
            worst = max(worst, abs(diff))
            ratio = canary_split(stable.replicas, weight).effective_weight
            failed = s.stats.failures + s.stats.server_errors
            print(f"{weight:>5}% {answered:>9} {counts[canary_version]:>7} {observed:>10.2f}% {diff:>+8.2f} "
                  f"{ratio:>15.1f}% {failed:>7}  {'yes' if abs(diff) <= TOLERANCE_PP else 'NO'}")

        counter = VersionCounter()
        rollback = stream(url, 120, counter)
        time.sleep(2)
        t0 = time.monotonic()
        router.withdraw(ctx, "bench rollback")
        actions.delete_deployment(kube, safety, ctx.namespace, name, reason="bench rollback")
        wait_pods_gone(ctx, "track=canary", timeout_s=60)
        router.release(ctx, "bench rollback")
        took = time.monotonic() - t0
        time.sleep(2)
        rollback.stop()
        st = rollback.stats
        print(f"\nrollback (weight 0, then canary removed) under {RATE:g} req/s: {st.sent} requests, "
              f"{st.failures} connection failures, {st.server_errors} 5xx, took {took:.1f} s; "
              f"answers by version {dict(counter.counts)}")
        print(f"worst phase deviation {worst:.2f} pp (goal ±{TOLERANCE_PP:g}); "
              f"failed requests during rollback {st.failures + st.server_errors} (goal 0)")
        return 0
    finally:
        kube.close()
        lifecycle.stop(state_dir)


if __name__ == "__main__":
    sys.exit(main())
