"""Speed of ``goldgate check manifests`` next to its floor, PyYAML parsing the same files.

Writes 2,000 generated workloads (Deployments, StatefulSets, DaemonSets, CronJobs and Pods
with one or two containers, some breaking a rule) into 200 files of 10 documents, then
times, best of ``BENCH_REPEAT`` runs each:

* PyYAML alone: ``yaml.load_all`` with CSafeLoader (libyaml) and with the pure SafeLoader;
* the check in-process (``goldgate.checks.manifests.run``: read, parse, judge every rule).

and prints the seconds and the ratio check / floor (goal: at most 3x against the parser
the check itself uses). Not a test, no thresholds. Run: ``.venv/bin/python bench/manifests_speed.py``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import tempfile
import time
from collections.abc import Callable

import yaml

from goldgate.checks import manifests as check

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the parser goldgate.safeload uses

WORKLOADS = int(os.environ.get("BENCH_WORKLOADS", "2000"))
PER_FILE = 10
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod")


def container(rng: random.Random, name: str) -> dict:
    c = {"name": name, "image": rng.choice(["example.org/app:1.4.2", "example.org/app:latest", "app"]),
         "ports": [{"name": "http", "containerPort": 8080}],
         "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
         "env": [{"name": f"VAR_{i}", "value": str(i)} for i in range(rng.randint(0, 8))]}
    if rng.random() < 0.8:
        c["livenessProbe"] = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}
    return c


def workload(rng: random.Random, i: int) -> dict:
    kind = KINDS[i % len(KINDS)]
    pod = {"containers": [container(rng, "app")] + ([container(rng, "sidecar")] if rng.random() < 0.3 else []),
           "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                          "whenUnsatisfiable": "DoNotSchedule"}]}
    template = {"metadata": {"labels": {"app": f"w{i}"}}, "spec": pod}
    spec: dict = {"selector": {"matchLabels": {"app": f"w{i}"}}, "template": template}
    if kind == "Deployment":
        spec |= {"replicas": rng.choice([1, 3, 5]),
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": rng.choice([1, "25%"]),
                                                                         "maxUnavailable": rng.choice([0, "25%"])}}}
    elif kind == "StatefulSet":
        spec |= {"replicas": 3, "serviceName": f"w{i}"}
    elif kind == "CronJob":
        spec = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "Pod":
        spec = pod
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": f"w{i}"}, "spec": spec}


def write(folder: pathlib.Path) -> list[pathlib.Path]:
    rng = random.Random(7)
    files = []
    for f in range(WORKLOADS // PER_FILE):
        path = folder / f"workloads-{f:04d}.yaml"
        path.write_text(yaml.safe_dump_all([workload(rng, f * PER_FILE + j) for j in range(PER_FILE)]))
        files.append(path)
    return files


def best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="goldgate-bench-manifests-") as tmp:
        folder = pathlib.Path(tmp)
        files = write(folder)
        size = sum(p.stat().st_size for p in files) / 2**20

        def parse_with(loader: type) -> Callable[[], object]:
            return lambda: [list(yaml.load_all(p.read_bytes().decode(), Loader=loader)) for p in files]

        floor_c = best(parse_with(yaml.CSafeLoader))
        floor_py = best(parse_with(yaml.SafeLoader))
        args = argparse.Namespace(paths=[str(folder)], env=None, environments="environments")
        findings: list = []
        total = best(lambda: findings.extend(check.run(args)) if not findings else check.run(args))
        print(f"{WORKLOADS} workloads in {len(files)} files ({size:.1f} MiB), best of {REPEAT}; "
              f"check parses with {LOADER.__name__}")
        print(f"{'PyYAML CSafeLoader (floor)':<34}{floor_c:8.3f} s")
        print(f"{'PyYAML SafeLoader':<34}{floor_py:8.3f} s")
        print(f"{'goldgate check manifests':<34}{total:8.3f} s   {len(findings)} findings")
        print(f"{'ratio check / CSafeLoader floor':<34}{total / floor_c:8.2f}x   (goal <= 3x)")
        print(f"{'ratio check / SafeLoader':<34}{total / floor_py:8.2f}x")


if __name__ == "__main__":
    main()
