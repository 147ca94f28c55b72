"""up/down/status of the daemon: reuse, stale state, port in use, nothing left behind.

These start the daemon without controllers (``api_only``) so each start takes well
under a second; the full daemon with pods is exercised by the runbook tests.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from goldgate.sandbox import cli, lifecycle

pytestmark = pytest.mark.sandbox


@pytest.fixture
def state_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    directory = tmp_path / "sandbox"
    monkeypatch.setenv(lifecycle.DIR_ENV, str(directory))
    yield directory
    lifecycle.stop(directory)
    assert not _processes_of(directory)


def _processes_of(directory: pathlib.Path) -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if str(directory) in " ".join(proc.info.get("cmdline") or []):
            found.append(proc.pid)
    return found


def test_default_state_dir_follows_env_then_cwd(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lifecycle.DIR_ENV, str(tmp_path / "x"))
    assert lifecycle.default_state_dir() == (tmp_path / "x").resolve()
    monkeypatch.delenv(lifecycle.DIR_ENV)
    monkeypatch.chdir(tmp_path)
    assert lifecycle.default_state_dir() == (tmp_path / ".goldgate" / "sandbox").resolve()


def test_up_reuse_status_down(state_dir: pathlib.Path) -> None:
    info = lifecycle.ensure_running(state_dir, api_only=True, timeout=30)
    assert info.started and psutil.pid_exists(info.pid)
    state = json.loads((state_dir / "state.json").read_text())
    assert state["pid"] == info.pid and state["port"] == info.port
    assert "token" not in json.dumps(state)
    kubeconfig = info.kubeconfig.read_text()
    assert f"https://127.0.0.1:{info.port}" in kubeconfig and "current-context: goldgate-sandbox" in kubeconfig
    assert "namespace: trading" in kubeconfig
    assert oct(info.kubeconfig.stat().st_mode & 0o777) == "0o600"

    notices: list[str] = []
    again = lifecycle.ensure_running(state_dir, api_only=True, notices=notices)
    assert not again.started and again.pid == info.pid
    assert "already running" in notices[0]

    with pytest.raises(lifecycle.SandboxError, match="with faults"):
        lifecycle.ensure_running(state_dir, ["bad-migration"], api_only=True)

    st = lifecycle.status(state_dir)
    assert st.running and "running" in st.message

    message = lifecycle.stop(state_dir)
    assert "stopped" in message
    assert not psutil.pid_exists(info.pid) or psutil.Process(info.pid).status() == psutil.STATUS_ZOMBIE
    assert not (state_dir / "state.json").exists() and not (state_dir / "kubeconfig").exists()
    assert not lifecycle.status(state_dir).running
    assert "no sandbox running" in lifecycle.stop(state_dir)


def test_stale_state_from_a_killed_daemon_is_cleaned(state_dir: pathlib.Path) -> None:
    info = lifecycle.ensure_running(state_dir, api_only=True, timeout=30)
    # A pod process the killed daemon leaves behind, recorded as the kubelet records it.
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(state_dir)], start_new_session=True
    )
    (state_dir / "pids").mkdir(exist_ok=True)
    (state_dir / "pids" / str(orphan.pid)).write_text(json.dumps({"pid": orphan.pid, "pgid": orphan.pid}))
    os.kill(info.pid, signal.SIGKILL)
    psutil.Process(info.pid).wait(5)

    st = lifecycle.status(state_dir)
    assert not st.running and "stale" in st.message

    notices: list[str] = []
    fresh = lifecycle.ensure_running(state_dir, api_only=True, notices=notices, timeout=30)
    assert fresh.started and fresh.pid != info.pid
    assert any("stale" in n and "killed 1 leftover" in n for n in notices), notices
    assert orphan.wait(5) == -signal.SIGKILL


def test_port_in_use_is_explained(state_dir: pathlib.Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(lifecycle.SandboxError, match=f"port {port} on 127.0.0.1 is already in use"):
            lifecycle.ensure_running(state_dir, api_only=True, port=port)
    assert not (state_dir / "state.json").exists()


def test_daemon_failure_reports_the_log_tail(state_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "TOKEN_ENV", "SOMETHING_ELSE")  # daemon refuses to start without a token
    with pytest.raises(lifecycle.SandboxError, match="exited during start-up") as exc:
        lifecycle.ensure_running(state_dir, api_only=True, timeout=20)
    assert "refusing to serve without authentication" in str(exc.value)


def test_cli_up_status_kubeconfig_down(state_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sandbox", "kubeconfig"]) == 1
    assert cli.main(["sandbox", "status"]) == 3
    assert cli.main(["sandbox", "up", "--api-only", "--timeout", "30"]) == 0
    out = capsys.readouterr().out
    assert "sandbox up" in out and "kubeconfig:" in out
    assert cli.main(["sandbox", "kubeconfig"]) == 0
    assert capsys.readouterr().out.strip() == str(state_dir / "kubeconfig")
    assert cli.main(["sandbox", "status"]) == 0
    assert "running" in capsys.readouterr().out
    assert cli.main(["sandbox", "down"]) == 0
    assert "stopped" in capsys.readouterr().out
    deadline = time.monotonic() + 5
    while _processes_of(state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_of(state_dir)


def test_cli_faults_lists_names() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "goldgate.sandbox.cli", "sandbox", "faults"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0 and proc.stdout.strip()


def test_bot_not_ready_in_time_stops_the_daemon_and_explains(state_dir: pathlib.Path) -> None:
    with pytest.raises(lifecycle.SandboxError, match="did not become ready within") as exc:
        lifecycle.ensure_running(state_dir, timeout=0.5)
    message = str(exc.value)
    assert "daemon.log" in message and ("replicas ready" in message or "not found yet" in message or "not answering" in message)
    assert not (state_dir / "state.json").exists()
    deadline = time.monotonic() + 10
    while _processes_of(state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_of(state_dir)
