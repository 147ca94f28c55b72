"""Speed of the one safe loader (:mod:`goldgate.safeload`) next to its floor, libyaml alone.

Builds a 20 MB stream of real manifests (``deploy/k8s/20-deployment.yaml`` repeated as
separate documents), a 20 MB environment-shaped file (one mapping with many keys) and a
20 MB JSON verdict-shaped file, then times, best of ``BENCH_REPEAT`` runs each:

* the floor: ``yaml.load_all`` with CSafeLoader (what the loader parses with) and
  ``json.loads`` for JSON;
* ``safeload`` reading the same bytes with every check on (depth, duplicate keys, aliases),
  its size limit raised for the run to accept 20 MB;
* ``safeload`` with the default limits, which refuses the file on its size before parsing;
* an alias bomb (9 levels of 9 aliases: 387,420,489 nodes expanded), refused;

and prints seconds and the ratio loader / floor. Goals: a 20 MB file judged (read or
refused) in under 5 s; the ratio at most 1.5x. Not a test, no thresholds.
Run: ``.venv/bin/python bench/loader_speed.py`` (``BENCH_MB``, ``BENCH_REPEAT``).
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import time
from collections.abc import Callable

import yaml

from goldgate import safeload

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = float(os.environ.get("BENCH_MB", "20"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
FLOOR: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def refused(fn: Callable[[], object]) -> Callable[[], str]:
    def run() -> str:
        try:
            fn()
        except safeload.LoadError as exc:
            return str(exc)
        return "accepted"
    return run


def main() -> None:
    size = int(MB * 1_000_000)
    doc = (ROOT / "deploy" / "k8s" / "20-deployment.yaml").read_text(encoding="utf-8")
    manifests = (("---\n" + doc) * (size // (len(doc) + 4))).encode()
    environment = "".join(f"key_{i}: {{url: 'https://example.org/{i}', timeout_s: {i % 60}}}\n"
                          for i in range(size // 48)).encode()
    verdict = json.dumps({"decision": "NO-GO", "reasons": [f"test_{i}: FAIL: error rate 0.0{i % 9}"
                                                           for i in range(size // 34)]}).encode()
    bomb = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [".encode() + b",".join([f"*{chr(97 + i)}".encode()] * 9) + b"]\n"
        for i in range(8))
    big = safeload.Limits(max_bytes=size * 2)
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, data, floor, mine in (
            ("manifests (YAML stream)", manifests, lambda d: list(yaml.load_all(d, Loader=FLOOR)),
             lambda p: safeload.load_yaml_all(p, limits=big)),
            ("environment-shaped (YAML)", environment, lambda d: yaml.load(d, Loader=FLOOR),  # noqa: S506
             lambda p: safeload.load_yaml(p, limits=big)),
            ("verdict-shaped (JSON)", verdict, json.loads, lambda p: safeload.load_json(p, limits=big)),
        ):
            path = pathlib.Path(tmp) / "input"
            path.write_bytes(data)
            t_floor = best(lambda d=data, f=floor: f(d))
            t_mine = best(lambda p=path, m=mine: m(p))
            t_default = best(refused(lambda p=path: safeload.load_yaml_all(p)))
            rows.append((name, len(data) / 1e6, t_floor, t_mine, t_default))
        path = pathlib.Path(tmp) / "bomb.yaml"
        path.write_bytes(bomb)
        t_bomb = best(refused(lambda: safeload.load_yaml(path)))
        message = refused(lambda: safeload.load_yaml(path))()
    print(f"{'input':28} {'MB':>6} {'floor s':>8} {'loader s':>9} {'ratio':>6} {'default limits s':>17}")
    for name, mb, t_floor, t_mine, t_default in rows:
        print(f"{name:28} {mb:6.1f} {t_floor:8.2f} {t_mine:9.2f} {t_mine / t_floor:6.2f} {t_default:17.4f}")
    print(f"alias bomb ({len(bomb)} bytes) refused in {t_bomb * 1000:.2f} ms: {message}")


if __name__ == "__main__":
    main()
