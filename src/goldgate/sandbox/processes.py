"""Stopping the child processes the sandbox, its tests and its benchmarks start.

A process is asked to stop (SIGTERM, so the bot drains and flushes its request log and
Prometheus closes its TSDB) and killed only when it ignores that for ``grace_s``: nothing
started here may outlive the run that started it.
"""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> int:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL; returns the exit status. No-op once exited."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()
