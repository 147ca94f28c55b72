"""Running the market feed for a sandbox, finding it, and driving its session control.

The primary sandbox daemon starts one feed (:func:`start_feed`) before its pods, records
it in ``market.json`` of its state folder and passes its URL to every bot pod as
``MARKET_FEED_URL``. A second region's daemon is given the primary's URL
(:data:`MARKET_URL_ENV`) instead of starting its own, so both regions' bots — and the
stable reference bot of a load baseline — read one market and decide on the same bars.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import requests

from goldgate.sandbox.market.bars import DEFAULT_BAR_S, DEFAULT_SEED
from goldgate.sandbox.ports import free_port

#: The feed URL a sandbox daemon passes to its bot pods (set for a second region's daemon
#: by the primary, set by the daemon itself once its own feed runs).
MARKET_URL_ENV = "GOLDGATE_MARKET_FEED_URL"
STATE_FILE = "market.json"
LOG_FILE = "market.log"
START_WAIT_S = 15.0
ATTEMPTS = 3
HTTP_TIMEOUT = (1.0, 3.0)


class MarketError(RuntimeError):
    """The feed did not start, is not recorded, or did not answer; the message says which."""


def start_feed(state_dir: pathlib.Path, *, seed: int = DEFAULT_SEED,
               bar_s: float = DEFAULT_BAR_S) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``python -m goldgate.sandbox.market`` on a free loopback port; wait until it
    answers. A port another listener took in between is retried on a new port."""
    last = "no attempt"
    for _ in range(ATTEMPTS):
        port = free_port()
        cmd = [sys.executable, "-m", "goldgate.sandbox.market", "--port", str(port),
               "--seed", str(seed), "--bar-s", f"{bar_s:g}", "--parent", str(os.getpid()),
               "--state-dir", str(state_dir)]
        with (state_dir / LOG_FILE).open("ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    close_fds=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_WAIT_S
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/health", timeout=(0.5, 1.0)).status_code == 200:
                    record(state_dir, url, pid=proc.pid, seed=seed, bar_s=bar_s)
                    return url, proc
            time.sleep(0.05)
        last = (f"exited with status {proc.returncode}" if proc.poll() is not None
                else f"did not answer within {START_WAIT_S:g} s")
        from goldgate.sandbox.processes import stop_process

        stop_process(proc, grace_s=2)
    raise MarketError(f"the market feed {last}; see {state_dir / LOG_FILE}")


def record(state_dir: pathlib.Path, url: str, *, pid: int | None, seed: int | None = None,
           bar_s: float | None = None) -> None:
    """Write ``market.json``: where this sandbox's bots read the market."""
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": pid, "seed": seed, "bar_s": bar_s}) + "\n")
    tmp.replace(path)


def stop_orphan(state_dir: pathlib.Path) -> bool:
    """Kill the feed recorded for ``state_dir`` if it still runs (its daemon died hard)."""
    import psutil

    try:
        pid = json.loads((state_dir / STATE_FILE).read_text()).get("pid")
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(pid, int):
        return False
    try:
        proc = psutil.Process(pid)
        cmdline = " ".join(proc.cmdline())
        if "goldgate.sandbox.market" not in cmdline or str(state_dir) not in cmdline:
            return False
        proc.kill()
        proc.wait(5)
    except psutil.Error:
        return False
    return True


def forget(state_dir: pathlib.Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (state_dir / STATE_FILE).unlink()


def feed_url(state_dir: pathlib.Path) -> str | None:
    """The feed URL recorded for the sandbox of ``state_dir``, or None."""
    try:
        return str(json.loads((state_dir / STATE_FILE).read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def control(url: str, action: str) -> dict[str, Any]:
    """``open``, ``close`` or ``status`` of the feed at ``url``; raises :class:`MarketError`."""
    if action not in ("open", "close", "status"):
        raise MarketError(f"unknown market action {action!r}: use open, close or status")
    try:
        if action == "status":
            resp = requests.get(url + "/v1/market", timeout=HTTP_TIMEOUT)
        else:
            resp = requests.post(f"{url}/v1/market/{action}", timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        return dict(resp.json())
    except (requests.RequestException, ValueError) as exc:
        raise MarketError(f"the market feed at {url} did not answer {action}: "
                          f"{type(exc).__name__}") from None


def inherited_url() -> str | None:
    """The feed URL a second region's daemon was given, if any."""
    return os.environ.get(MARKET_URL_ENV, "").strip() or None
