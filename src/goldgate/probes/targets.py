"""Is the bot a monitored target? From Prometheus' own view, or from file-based discovery.

With a Prometheus server the answer is its ``/api/v1/targets`` (``health: up``). Without
one (the sandbox, ``metrics.source: scrape``) the file-SD targets the controllers write
are read and each target's ``/metrics`` is scraped once, which is exactly what "up" means
to Prometheus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import requests

from goldgate.config import Timeouts
from goldgate.probes.artifacts import ArtifactUnavailable


@dataclass(frozen=True)
class Target:
    address: str
    labels: dict[str, str]
    up: bool
    error: str = ""


def _matches(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def from_prometheus(url: str, selector: dict[str, str], timeouts: Timeouts, headers: dict[str, str] | None = None) -> list[Target]:
    api = url.rstrip("/") + "/api/v1/targets?state=active"
    last = ""
    for _attempt in range(timeouts.retries + 1):
        try:
            resp = requests.get(api, timeout=(timeouts.connect_s, timeouts.read_s), headers=headers or {})
            resp.raise_for_status()
            active = resp.json()["data"]["activeTargets"]
            break
        except (requests.RequestException, ValueError, KeyError) as exc:
            last = f"{type(exc).__name__}: {exc}"
    else:
        raise ArtifactUnavailable(api, f"cannot read Prometheus targets: {last}")
    out = []
    for t in active:
        labels = {**(t.get("discoveredLabels") or {}), **(t.get("labels") or {})}
        if _matches(labels, selector):
            out.append(Target(labels.get("instance", t.get("scrapeUrl", "?")), labels, t.get("health") == "up",
                              t.get("lastError", "")))
    return out


def from_file_sd(path: Path, selector: dict[str, str], timeouts: Timeouts) -> list[Target]:
    if not path.is_file():
        raise ArtifactUnavailable(path, "file-SD targets not found (is the sandbox running?)")
    try:
        groups = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ArtifactUnavailable(path, f"not valid JSON: {exc}") from None
    out = []
    for group in groups:
        labels = {k: str(v) for k, v in (group.get("labels") or {}).items()}
        if not _matches(labels, selector):
            continue
        for address in group.get("targets") or []:
            host = address.split(":")[0]
            if host not in ("127.0.0.1", "localhost", "::1"):
                out.append(Target(address, labels, False, "not scraped: only loopback targets are contacted"))
                continue
            try:
                resp = requests.get(f"http://{address}/metrics", timeout=(timeouts.connect_s, timeouts.read_s))
                up = resp.status_code == 200 and "# TYPE" in resp.text
                out.append(Target(address, labels, up, "" if up else f"HTTP {resp.status_code}"))
            except requests.RequestException as exc:
                out.append(Target(address, labels, False, type(exc).__name__))
    return out
