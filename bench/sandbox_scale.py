"""Sandbox scale and speed: prints seconds and peak memory (not a test, no thresholds).

1. ``goldgate sandbox up`` to 3 Ready bot pods (daemon start, manifests, processes, probes);
2. a rolling update of the 3 pods (``set image`` to v1.3.0 until the rollout is complete
   and the old pods are gone);
3. a namespace with 2,000 process-less pods (``sandbox/pause``), created by one
   Deployment, then listed with the official ``kubernetes`` client.

Peak memory is the kernel's high-water mark (VmHWM) of the daemon and, for step 1-2,
the sum over the bot processes. Run: ``.venv/bin/python bench/sandbox_scale.py``.
"""

from __future__ import annotations

import os
import pathlib
import statistics
import sys
import tempfile
import time

import psutil

from goldgate.sandbox import lifecycle

PAUSE_PODS = int(os.environ.get("BENCH_PODS", "2000"))


def hwm_mib(pid: int) -> float:
    """Peak resident set size of a process in MiB (VmHWM)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bot_pids(state_dir: pathlib.Path) -> list[int]:
    return [int(p.name) for p in (state_dir / "pids").iterdir() if p.name.isdigit()]


def wait(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def main() -> int:
    from kubernetes import client, config

    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-bench-"))
    os.environ.setdefault("GOLDGATE_SANDBOX_TIME_SCALE", "0.1")
    t0 = time.monotonic()
    info = lifecycle.ensure_running(state_dir, timeout=120)
    start_s = time.monotonic() - t0
    try:
        bots = bot_pids(state_dir)
        bots_mib = sum(hwm_mib(p) for p in bots)
        print(f"start to 3 Ready pods:       {start_s:6.2f} s   daemon peak {hwm_mib(info.pid):6.1f} MiB, "
              f"{len(bots)} bots {bots_mib:6.1f} MiB")

        api_client = config.new_client_from_config(config_file=str(info.kubeconfig))
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)

        def rolled(name: str, replicas: int) -> bool:
            d = apps.read_namespaced_deployment(name, "trading")
            st = d.status
            pods = core.list_namespaced_pod("trading", label_selector=f"app={name}").items
            return (st.observed_generation >= d.metadata.generation and st.updated_replicas == replicas
                    and st.available_replicas == replicas and st.replicas == replicas
                    and len(pods) == replicas)

        t0 = time.monotonic()
        apps.patch_namespaced_deployment("trading-bot", "trading", {"spec": {"template": {"spec": {
            "containers": [{"name": "trading-bot", "image": "trading-bot:v1.3.0"}]}}}})
        wait(lambda: rolled("trading-bot", 3), 120, "rolling update")
        roll_s = time.monotonic() - t0
        print(f"rolling update of 3 pods:    {roll_s:6.2f} s   daemon peak {hwm_mib(info.pid):6.1f} MiB "
              "(complete and old pods gone)")

        t0 = time.monotonic()
        apps.create_namespaced_deployment("trading", {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "scale", "namespace": "trading"},
            "spec": {"replicas": PAUSE_PODS, "selector": {"matchLabels": {"app": "scale"}},
                     "template": {"metadata": {"labels": {"app": "scale"}},
                                  "spec": {"containers": [{"name": "pause", "image": "sandbox/pause"}]}}}})
        def available() -> int:
            status = apps.read_namespaced_deployment("scale", "trading").status
            return (status.available_replicas or 0) if status else 0

        wait(lambda: available() >= PAUSE_PODS, 600, f"{PAUSE_PODS} pause pods")
        create_s = time.monotonic() - t0
        timings, count = [], 0
        for _ in range(3):
            t1 = time.monotonic()
            count = len(core.list_namespaced_pod("trading").items)
            timings.append(time.monotonic() - t1)
        print(f"{PAUSE_PODS} process-less pods ready: {create_s:6.2f} s   daemon peak "
              f"{hwm_mib(info.pid):6.1f} MiB")
        print(f"list {count} pods (kubernetes client): median {statistics.median(timings):.2f} s "
              f"(min {min(timings):.2f}, max {max(timings):.2f})")
        print(f"bench process peak {psutil.Process().memory_info().rss / 2**20:.1f} MiB (client side)")
    finally:
        print(lifecycle.stop(state_dir), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
