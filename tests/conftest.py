"""goldgate's own tests: shared fixtures (a real bot process on a free loopback port)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# Imported before any test runs: pytester's in-process runs drop the modules first imported
# inside them, and a psycopg imported again afterwards has new exception classes while its
# compiled core (psycopg_binary) still raises the first ones, which `except psycopg.Error`
# then misses. Whichever test happened to import psycopg first used to decide this.
import psycopg  # noqa: F401
import pytest
import requests
from hypothesis import settings

from goldgate.sandbox import ports

pytest_plugins = ["pytester", "tests.streams"]

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis's per-example deadline is a timed assertion: on a shared CI machine a slow example
# fails a property that holds (speed is measured by bench/, never asserted by tests).
settings.register_profile("goldgate", deadline=None)
settings.load_profile("goldgate")


def pytest_configure(config: pytest.Config) -> None:
    # goldgate's own tests are not a release decision: no verdict.json from them.
    config.option.goldgate_verdict_file = ""
    config.option.goldgate_audit_log = ""
    # Child pytest runs of the suite started by these tests are not audited runs either.
    os.environ["GOLDGATE_AUDIT_LOG"] = ""
    # The sandboxes these tests start run no Unleash (its PostgreSQL and node server cost
    # seconds of CPU each); tests/flags starts the one it needs.
    os.environ.setdefault("GOLDGATE_SANDBOX_UNLEASH", "off")


@pytest.fixture(scope="session", autouse=True)
def _child_runs_write_junit_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Suite runs these tests start in the checkout write their JUnit here, not over
    reports/junit.xml: that file belongs to the checkout's main job (README: command 1, then
    command 2). Pytester's runs drop PYTEST_ADDOPTS and keep their own defaults."""
    junit = tmp_path_factory.mktemp("child-runs") / "junit.xml"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTEST_ADDOPTS", f"{os.environ.get('PYTEST_ADDOPTS', '')} --junitxml={junit}".strip())
        yield junit


def free_port() -> int:
    """A free loopback port below the ephemeral range (see goldgate.sandbox.ports)."""
    return ports.free_port()


@pytest.fixture
def start_bot(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start reference bots with the given env (fault knobs); returns their base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def _start(wait_ready: bool = True, **env: str) -> str:
        port = free_port()
        data = tmp_path / f"bot-{port}"
        data.mkdir()
        full_env = {
            **os.environ,
            "BOT_HOST": "127.0.0.1",
            "BOT_PORT": str(port),
            "BOT_DATA_DIR": str(data),
            "BOT_WARMUP_S": "0",
            **{k: str(v) for k, v in env.items()},
        }
        log = (data / "bot.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=full_env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        path = "/ready" if wait_ready else "/health"
        while time.monotonic() < deadline:
            try:
                if requests.get(url + path, timeout=1).status_code == 200:
                    return url
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"bot did not become ready: {(data / 'bot.log').read_text()[-2000:]}")

    yield _start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_env(directory: Path, name: str, body: str) -> Path:
    """Write an environment file for a test; returns the folder to pass as --environments-dir."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.yaml").write_text(body, encoding="utf-8")
    return directory
