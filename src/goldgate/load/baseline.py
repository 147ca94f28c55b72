"""The baseline a release's p95 is held against (guide §6.1: p95 above 2x baseline).

Preferred: the stable version measured under the same load in the same run, so both
sides share the machine's noise. Where the stable version runs:

* ``http.standby_url`` of the environment (blue-green: the idle colour keeps the stable
  version);
* in the sandbox, a reference bot of ``release.previous_version`` started on loopback for
  the duration of the run (:func:`stable_sandbox_bot`).

Otherwise a stored baseline file (:func:`save` / :func:`load`) from an earlier run of
the stable version; it only counts when it was measured under the same load (model and
rate), or the comparison would be meaningless.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from goldgate.criteria.load import LoadMeasurement
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult
from goldgate.verdict import Evidence

READY_TIMEOUT_S = 20.0


class BaselineError(Exception):
    """No usable baseline; the message says where goldgate looked and why it failed."""


def save(path: Path, result: LoadResult) -> Path:
    """Store a run of the stable version as the baseline for later runs."""
    stats = result.stats
    data = {
        "label": result.plan.label, "target": result.plan.target_url, "model": result.plan.model,
        "rate_rps": result.plan.rate_rps, "users": result.plan.users, "duration_s": result.plan.duration_s,
        "requests": stats.requests, "errors": stats.failures, "p95_ms": stats.p95_ms,
        "p99_ms": stats.total.p99_ms, "recorded_at": result.started,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def load(path: Path, plan: LoadPlan) -> LoadMeasurement:
    """A stored baseline as a measurement; refuses one taken under a different load."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model, rate, p95, n = data["model"], float(data["rate_rps"]), data["p95_ms"], int(data["requests"])
    except OSError as exc:
        raise BaselineError(f"cannot read the stored baseline {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"stored baseline {path} is not usable: {type(exc).__name__}: {exc}") from None
    if model != plan.model or (model == "open" and abs(rate - plan.rate_rps) > 1e-6):
        raise BaselineError(
            f"stored baseline {path} was measured with the {model} model at {rate:g} req/s; "
            f"this run is the {plan.model} model at {plan.rate_rps:g} req/s — not the same load")
    return LoadMeasurement(
        label=f"stored baseline ({data.get('label', 'stable')})", model=model, requests=n,
        errors=int(data.get("errors", 0)), p95_ms=None if p95 is None else float(p95),
        evidence=(Evidence("stored baseline", str(path), samples=n, details=data),),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def stable_sandbox_bot(version: str) -> Iterator[str]:
    """A reference bot of the stable version on loopback; yields its URL, stops it after."""
    port = _free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="goldgate-stable-bot-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULT_")}
    env.update({"BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_VERSION": version,
                "BOT_DATA_DIR": str(data_dir), "BOT_WARMUP_S": "0"})
    log = (data_dir / "bot.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "goldgate.sandbox.bot"], env=env, stdout=log,
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
