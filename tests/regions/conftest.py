"""Two-region sandboxes for the failover tests: started through ``lifecycle`` as
``goldgate sandbox up --regions 2`` does, stopped afterwards, and checked to leave no
process behind (both API servers, their pods, the global endpoint, both PostgreSQL servers)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from goldgate.sandbox import lifecycle
from goldgate.sandbox.regions import pair
from goldgate.sandbox.regions import postgres as pg

ROOT = pathlib.Path(__file__).resolve().parents[2]
KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


def base_dir(name: str) -> pathlib.Path:
    """Beside ``$GOLDGATE_SANDBOX_DIR`` when set; never under pytest's tmp (private to root,
    while PostgreSQL runs as ``postgres``)."""
    env = os.environ.get(lifecycle.DIR_ENV)
    parent = pathlib.Path(env).parent if env else pathlib.Path(tempfile.gettempdir())
    folder = parent / f"regions-test-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    return folder


def leftovers(state_dir: pathlib.Path) -> list[str]:
    """Every live process that belongs to the state folder (command line or working directory)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd", "status"]):
        with contextlib.suppress(psutil.Error):
            if proc.pid == os.getpid() or proc.info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(proc.info.get("cmdline") or [])
            if str(state_dir) in cmd or str(proc.info.get("cwd") or "").startswith(str(state_dir)):
                found.append(f"{proc.pid} {cmd[:120]}")
    return found


def start_regions(state_dir: pathlib.Path, faults: list[str]) -> lifecycle.SandboxInfo:
    if not pg.binaries_present():
        pytest.skip(f"PostgreSQL server binaries absent: {pg.INSTALL_HINT}")
    try:
        return lifecycle.ensure_running(state_dir, faults, regions=2, timeout=240)
    except lifecycle.SandboxError as exc:
        lifecycle.stop(state_dir)
        pytest.fail(f"two regions did not start: {exc}")


def stop_and_check(state_dir: pathlib.Path) -> None:
    message = lifecycle.stop(state_dir)
    assert "sandbox stopped" in message and "pg-primary PostgreSQL" in message and "global endpoint" in message, message
    psutil.wait_procs([], timeout=0)
    assert leftovers(state_dir) == []


@pytest.fixture(scope="module")
def regions_factory() -> Iterator[Callable[[str, list[str]], lifecycle.SandboxInfo]]:
    started: list[pathlib.Path] = []

    def make(name: str, faults: list[str]) -> lifecycle.SandboxInfo:
        state_dir = base_dir(name)
        started.append(state_dir)
        return start_regions(state_dir, faults)

    yield make
    for state_dir in started:
        stop_and_check(state_dir)


def kubectl(info: lifecycle.SandboxInfo, *args: str, context: str | None = None) -> str:
    cmd = [str(KUBECTL), "--kubeconfig", str(info.kubeconfig), *(["--context", context] if context else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def global_state(info: lifecycle.SandboxInfo) -> dict[str, Any]:
    import json

    return json.loads((pair.folder(info.state_dir) / "global.json").read_text())
