"""The stable version for the load baseline: a reference bot of the previous release's build.

The sandbox has no second colour or standby running the stable version, so the load
gate's baseline (guide §6.1: p95 above 2x baseline) is measured against a reference bot
of ``release.previous_version`` started on loopback for the duration of one load run.
The sandbox pytest plugin offers :func:`stable_bot` as the ``stable_release`` fixture.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from goldgate.children import with_default_signals
from goldgate.load.baseline import BaselineError
from goldgate.sandbox.controllers.images import bot_build_env
from goldgate.sandbox.ports import free_port

READY_TIMEOUT_S = 20.0


@contextlib.contextmanager
def stable_bot(version: str, market_url: str | None = None) -> Iterator[str]:
    """A reference bot of the stable version on loopback; yields its URL, stops it after.

    ``market_url``: the sandbox's market feed, so the stable bot decides on the same bars
    as the pods (without it, it makes the same bars in-process, always open).
    """
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="goldgate-stable-bot-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULT_")}
    if market_url:
        env["MARKET_FEED_URL"] = market_url
    env.update(bot_build_env(version))  # the previous release's own build, as its image runs it
    env.update({"BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_VERSION": version,
                "BOT_DATA_DIR": str(data_dir), "BOT_WARMUP_S": "0"})
    log = (data_dir / "bot.log").open("wb")
    proc = subprocess.Popen(with_default_signals([sys.executable, "-m", "goldgate.sandbox.bot"]), env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise BaselineError(f"the stable bot {version} exited with status {proc.returncode} at start")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/ready", timeout=(1, 1)).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BaselineError(f"the stable bot {version} at {url} was not ready within {READY_TIMEOUT_S:g} s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
