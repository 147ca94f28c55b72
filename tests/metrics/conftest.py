"""Real reference bots and a real Prometheus for the metric-source tests.

The bots are session-scoped so they start once: every test reads deltas over its own
window (scrape source) or ratios over the Prometheus module's traffic, so sharing them is
safe and keeps the suite fast. Prometheus lives only as long as the module that uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from goldgate.sandbox import ports
from goldgate.sandbox.processes import stop_process

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SIGNAL = "/api/v1/signal?symbol=XAUUSD"
# Bot settings for fast tests: no warm-up, quick simulated inference.
FAST = {"BOT_WARMUP_S": "0", "BOT_SIGNAL_BASE_MS": "2"}


def free_port() -> int:
    """A free loopback port below the ephemeral range (see goldgate.sandbox.ports)."""
    return ports.free_port()


@dataclass
class Bot:
    """One reference-bot process on a loopback port."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def request_log(self) -> Path:
        return self.workdir / f"{self.name}.requests.jsonl"

    def start(self, timeout_s: float = 20.0) -> Bot:
        data = self.workdir / self.name
        data.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **FAST, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(self.port),
               "BOT_DATA_DIR": str(data), "BOT_REQUEST_LOG": str(self.request_log), **self.env}
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/ready", timeout=(0.5, 1)).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        tail = (self.workdir / f"{self.name}.log").read_text(errors="replace")[-1500:]
        raise RuntimeError(f"bot {self.name} did not become ready:\n{tail}")

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc)
        self.proc = None


def send_traffic(url: str, requests_n: int, *, threads: int = 12, deadline_s: float = 60.0) -> int:
    """GET the signal route ``requests_n`` times (bounded in count and time); returns how many answered."""
    stop_at = time.monotonic() + deadline_s
    per = [requests_n // threads + (1 if i < requests_n % threads else 0) for i in range(threads)]

    def worker(n: int) -> int:
        done = 0
        with requests.Session() as s:
            for _ in range(n):
                if time.monotonic() > stop_at:
                    break
                try:
                    s.get(url + SIGNAL, timeout=(1, 10))
                    done += 1
                except requests.RequestException:
                    pass
        return done

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(worker, per))


@dataclass
class Fleet:
    healthy: Bot
    errors: Bot
    slow: Bot

    def all(self) -> list[Bot]:
        return [self.healthy, self.errors, self.slow]


VERSIONS = {"healthy": "1.0.0", "errors": "1.1.0-errors", "slow": "1.1.0-slow"}


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Three bots: healthy, 3 % injected 5xx, +300 ms latency. Started in parallel."""
    work = tmp_path_factory.mktemp("fleet")
    bots = Fleet(
        Bot("healthy", {"BOT_VERSION": VERSIONS["healthy"]}, work),
        Bot("errors", {"BOT_VERSION": VERSIONS["errors"], "FAULT_ERROR_RATE": "0.03",
                       "FAULT_SEED": "7"}, work),
        Bot("slow", {"BOT_VERSION": VERSIONS["slow"], "FAULT_LATENCY_MS": "300"}, work),
    )
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(Bot.start, bots.all()))
        yield bots
    finally:
        for b in bots.all():
            b.stop()


@dataclass
class PromServer:
    url: str
    proc: subprocess.Popen[bytes]
    traffic_done_at: float = 0.0


def _targets(fleet: Fleet) -> list[dict[str, object]]:
    return [
        {"targets": [f"127.0.0.1:{b.port}"],
         "labels": {"app": "trading-bot", "version": VERSIONS[b.name], "pod": f"trading-bot-{b.name}"}}
        for b in fleet.all()
    ]


@pytest.fixture(scope="module")
def prometheus(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromServer]:
    """A real Prometheus scraping the fleet every second through file-based discovery.

    The fleet gets its traffic here, once; the fixture returns after Prometheus has
    scraped the bots at least twice since the traffic ended.
    """
    if not Path(PROMETHEUS).exists():
        pytest.skip("Prometheus binary not found: apt-get install prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    (work / "targets.json").write_text(json.dumps(_targets(fleet)))
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: trading-bot\n    file_sd_configs:\n"
        f"      - files: ['{work / 'targets.json'}']\n        refresh_interval: 1s\n"
    )
    port = free_port()
    log = (work / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={work / 'prometheus.yml'}",
         f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--storage.tsdb.retention.time=1h", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(url + "/-/ready", timeout=(0.5, 1)).status_code == 200,
                  30, f"Prometheus at {url} did not become ready: {(work / 'prometheus.log').read_text()[-800:]}")
        _wait_for(lambda: _up_targets(url) >= 3, 30, "Prometheus did not scrape the bots")
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda a: send_traffic(a[0], a[1], threads=a[2]), [
                (fleet.healthy.url, 600, 12), (fleet.errors.url, 1200, 12), (fleet.slow.url, 150, 30)]))
        server = PromServer(url, proc, time.time())
        time.sleep(2.5)  # two more scrapes so the last counters are in the TSDB
        yield server
    finally:
        stop_process(proc)


def _up_targets(url: str) -> int:
    r = requests.get(url + "/api/v1/query", params={"query": "sum(up)"}, timeout=(0.5, 2)).json()
    result = r["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def _wait_for(check, timeout_s: float, message: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(message)
