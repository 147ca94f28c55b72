"""Fixtures that run the reference bot as a real process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = (1.0, 5.0)  # connect, read
START_BUDGET_S = 15.0  # generous: CI cores are shared; speed is measured in bench/


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a loopback port that was free a moment ago."""
    return _free_port


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The parent's environment without any bot setting or knob, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOT_", "FAULT_")) and k != "DATABASE_URL"}
    env.update(extra)
    return env


@dataclass
class BotProcess:
    proc: subprocess.Popen[bytes]
    port: int
    stderr_path: Path
    started: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **kw: object) -> requests.Response:
        return requests.get(self.url + path, timeout=TIMEOUT, **kw)  # type: ignore[arg-type]

    def post(self, path: str, **kw: object) -> requests.Response:
        return requests.post(self.url + path, timeout=TIMEOUT, **kw)  # type: ignore[arg-type]

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Samples of /metrics by sample name, parsed by prometheus_client's own parser."""
        resp = self.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(resp.text):
            for s in family.samples:
                samples.setdefault(s.name, []).append((s.labels, s.value))
        return samples

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_listening(self, budget_s: float = START_BUDGET_S) -> float:
        """Seconds from spawn until /health answered; fails the test if it never does."""
        deadline = self.started + budget_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"bot exited {self.proc.returncode} before listening:\n"
                            f"{self.stderr()}")
            try:
                requests.get(self.url + "/health", timeout=(0.2, 1.0))
                return time.monotonic() - self.started
            except requests.ConnectionError:
                time.sleep(0.02)
        pytest.fail(f"bot not listening after {budget_s}s:\n{self.stderr()}")

    def wait_ready(self, budget_s: float = START_BUDGET_S) -> None:
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            if self.get("/ready").status_code == 200:
                return
            time.sleep(0.05)
        pytest.fail(f"bot not ready after {budget_s}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


BotFactory = Callable[..., BotProcess]


def _spawn(tmp: Path, env: dict[str, str], args: list[str], with_port: bool) -> BotProcess:
    """Start ``python -m goldgate.sandbox.bot``; the port comes from --port, BOT_PORT or
    a free one (set as BOT_PORT unless ``with_port`` is false)."""
    full = dict(env)
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    elif "BOT_PORT" in full:
        port = int(full["BOT_PORT"]) if full["BOT_PORT"].isdigit() else 0
    else:
        port = _free_port()
        if with_port:
            full["BOT_PORT"] = str(port)
    full.setdefault("BOT_DATA_DIR", str(tmp / f"data-{port}"))
    stderr_path = tmp / f"bot-{port}-{time.monotonic_ns()}.log"
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot", *args],
                                env=clean_env(full), stdout=err, stderr=err)
    return BotProcess(proc, port, stderr_path, time.monotonic())


@pytest.fixture
def start_bot(tmp_path: Path) -> Iterator[BotFactory]:
    """``start_bot(env, args=(), listen=True, ready=False)`` → a running :class:`BotProcess`.

    Every process started here is stopped (SIGTERM, then SIGKILL) when the test ends.
    """
    started: list[BotProcess] = []

    def start(env: dict[str, str] | None = None, args: tuple[str, ...] = (),
              listen: bool = True, ready: bool = False, with_port: bool = True) -> BotProcess:
        bot = _spawn(tmp_path, {"BOT_WARMUP_S": "0", **(env or {})}, list(args), with_port)
        started.append(bot)
        if listen or ready:
            bot.wait_listening()
        if ready:
            bot.wait_ready()
        return bot

    yield start
    for bot in started:
        bot.stop()


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One healthy bot for the read-mostly endpoint tests of a module."""
    tmp = tmp_path_factory.mktemp("bot")
    bot = _spawn(tmp, {"BOT_WARMUP_S": "0", "BOT_VERSION": "1.2.3",
                       "BOT_REQUEST_LOG": str(tmp / "requests.jsonl")}, [], True)
    try:
        bot.wait_listening()
        bot.wait_ready()
        yield bot
    finally:
        bot.stop()
