"""Processes goldgate starts get default signal dispositions; goldgate itself stops on SIGINT and SIGTERM.

A process started from a shell's ``&``, ``nohup`` or some CI runners has SIGINT ignored,
and an ignored signal stays ignored across ``fork`` and ``exec``: a locust master started
from there never sees the interrupt meant to make it write its report, and Python does not
even install its KeyboardInterrupt handler in it. Every child goldgate starts therefore goes
through :func:`with_default_signals`, a small exec wrapper that puts SIGINT, SIGTERM and
SIGHUP back to their defaults before the real program starts. (``preexec_fn`` would do the
same, but is unsafe in a process with threads, and load runs start from threads.)

:func:`stop_on_signals` is the other half: a long-running goldgate loop (the load runner,
``goldgate watch``) turns SIGINT and SIGTERM into KeyboardInterrupt for as long as it runs,
whatever it inherited, so its ``finally`` stops what it started.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: Put the stop signals back to their defaults, then become the real program.
_RESET_AND_EXEC = ("import os, signal, sys\n"
                   "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
                   "    signal.signal(s, signal.SIG_DFL)\n"
                   "os.execvp(sys.argv[1], sys.argv[1:])\n")


def with_default_signals(cmd: Sequence[str]) -> list[str]:
    """``cmd`` started with SIGINT, SIGTERM and SIGHUP at their default dispositions."""
    return [sys.executable, "-c", _RESET_AND_EXEC, *cmd]


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a goldgate loop ran; handled like Ctrl-C."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stopped` (a KeyboardInterrupt) here, then the old handlers return.

    Only the main thread can install handlers; elsewhere this does nothing (the main
    thread's own handling applies).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def _stop(signum: int, frame: Any) -> None:
        raise Stopped(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, _stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


class NpmInstallError(RuntimeError):
    """A pinned npm tool could not be installed; the message says why and what to do."""


def npm_ci(pinned: Path, target: Path, *, package: str, timeout_s: float) -> None:
    """``npm ci`` of the package.json + package-lock.json in ``pinned`` into ``target``.

    The tools goldgate runs from npm (the Allure CLI, the sandbox's Unleash server) are
    pinned by a lock file kept in the repository and installed into an ignored folder, so
    every machine runs the same versions; ``package`` names the npm package in messages.
    """
    if not (pinned / "package.json").is_file() or not (pinned / "package-lock.json").is_file():
        raise NpmInstallError(f"{pinned}/package.json and package-lock.json are missing: cannot install {package}")
    npm = shutil.which("npm")
    if npm is None:
        raise NpmInstallError(f"npm is not installed: apt-get install nodejs npm ({package} comes from npm)")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(pinned / name, target / name)
    try:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise NpmInstallError(f"npm ci in {target} took longer than {timeout_s:.0f}s") from None
    if done.returncode != 0:
        raise NpmInstallError(f"npm ci in {target} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
