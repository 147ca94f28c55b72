"""The project's migration code runs in a child process with a time limit.

A release project's env.py, revisions and models are the team's code: they may open a
socket that never answers, wait on a lock, or loop. goldgate runs them in a process of
its own (its own session, so whatever env.py starts goes with it) and watches it:

* the child announces each stretch of project code it starts (loading the history,
  each env.py run) on a pipe; each env.py run gets ``timeout_s`` (``--timeout`` of
  ``goldgate check migrations``, ``release.migrations_timeout_s`` of the environment),
  starting the child and loading the history at least :data:`LOADING_FLOOR_S`;
* past the limit the child's whole process group is killed, and this process — which
  checked the scratch URL and owns the scratch database — removes what the child left:
  the temporary SQLite folder, a named SQLite file put back byte for byte, every
  PostgreSQL schema made under this run's prefix (and any schema the walk made beside it);
* the outcome comes back as plain data: the Walk, or the ArtifactUnavailable the walk
  raised (its class, path and message), never a traceback.

The child also runs env.py's ``fileConfig(config.config_file_name)`` without touching
goldgate's own logging, and dies with its parent (end of file on its stdin).
"""

from __future__ import annotations

import math
import os
import pickle
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable

__all__ = ["DEFAULT_TIMEOUT_S", "MigrationTimeout", "announce", "run_isolated"]

#: the default limit of one env.py run; environments set release.migrations_timeout_s
DEFAULT_TIMEOUT_S = 120.0
#: starting Python with SQLAlchemy and alembic, then importing the revisions and models, may
#: take longer than a tight env.py limit on a busy CI machine; it gets at least this long
LOADING_FLOOR_S = 60.0
_channel: int | None = None  # the pipe to the parent, in the child only
_EXIT_WAIT_S = 10.0


class MigrationTimeout(ArtifactUnavailable):
    """A stretch of the project's code did not finish within the limit; its process was ended."""


def announce(phase: str, where: str = "") -> None:
    """Tell the parent which stretch of code starts now (a no-op outside the child process)."""
    if _channel is not None:
        os.write(_channel, f"{phase}\t{where}\n".encode())


def _scratch_for_child(scratch: Any) -> str | None:
    """The scratch URL the child is handed: a named SQLite file made absolute (the child's cwd differs)."""
    if scratch.url and scratch._file is not None:
        return f"sqlite:///{scratch._file}"
    return scratch.url


def _unpack(result: dict[str, Any], ini: str) -> Any:
    import importlib

    walk_module = importlib.import_module("goldgate.probes.migrations.walk")  # the package re-exports walk()
    scratch_module = importlib.import_module("goldgate.probes.migrations.scratch")
    if "walk" in result:
        return result["walk"]
    if "error" in result:
        name, path, message = result["error"]
        classes = {"ScratchNotReached": walk_module.ScratchNotReached, "EnvPyUnloadable": walk_module.EnvPyUnloadable,
                   "ScratchRefused": scratch_module.ScratchRefused}
        exc = classes.get(name, ArtifactUnavailable).__new__(classes.get(name, ArtifactUnavailable))
        Exception.__init__(exc, message)
        exc.path = path
        return exc
    return ArtifactUnavailable(ini, f"the migration walk stopped: {result.get('crash', 'no result')}")


def _limit_text(timeout_s: float) -> str:
    return f"{timeout_s:g} s (--timeout, release.migrations_timeout_s)"


def _timed_out(phase: str, where: str, ini: str, timeout_s: float) -> MigrationTimeout:
    ended = "its process was ended and the scratch database removed"
    if phase == "env.py":
        return MigrationTimeout(where or ini, f"env.py did not finish within {_limit_text(timeout_s)}; {ended}")
    if phase in ("loading", "starting"):
        return MigrationTimeout(ini, f"loading the history (revisions, models) did not finish within "
                                     f"{max(timeout_s, LOADING_FLOOR_S):g} s; {ended}")
    return MigrationTimeout(ini, f"the walk did not finish within {_limit_text(timeout_s)}; {ended}")


def _supervise(proc: subprocess.Popen[bytes], channel: int, timeout_s: float) -> tuple[bool, str, str]:
    """Read the child's announcements until it closes the pipe; (timed out, phase, where)."""
    phase, where, started, pending = "starting", "", time.monotonic(), b""
    while True:
        limit = max(timeout_s, LOADING_FLOOR_S) if phase in ("starting", "loading") else timeout_s
        remaining = started + limit - time.monotonic()
        if remaining <= 0:
            return True, phase, where
        ready, _, _ = select.select([channel], [], [], min(remaining, 1.0))
        if not ready:
            continue
        chunk = os.read(channel, 4096)
        if not chunk:
            return False, phase, where
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            phase, _, where = line.decode(errors="replace").partition("\t")
            started = time.monotonic()


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole session (env.py's own children with it) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=_EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=_EXIT_WAIT_S)


def _tail(log: Path) -> str:
    try:
        lines = [x for x in log.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def run_isolated(fn: Callable[..., Any], path: Path, scratch_url: str | None, *, timeout_s: float,
                 **kw: Any) -> Any:
    """``fn(path, url, scratch_folder=…, schema_prefix=…, **kw)`` in a child process, bounded and cleaned up."""
    from goldgate.probes.migrations.loading import find_ini
    from goldgate.probes.migrations.scratch import open_scratch

    if not isinstance(timeout_s, int | float) or isinstance(timeout_s, bool) or not math.isfinite(timeout_s) \
            or timeout_s <= 0:
        raise ArtifactUnavailable("timeout", f"{timeout_s!r} is not a positive number of seconds")
    path = Path(path).absolute()
    ini = find_ini(path)
    kw = {k: (Path(v).absolute() if isinstance(v, Path) else v) for k, v in kw.items()}
    prefix = f"goldgate_scratch_{secrets.token_hex(3)}_"
    work = Path(tempfile.mkdtemp(prefix="goldgate-walk-"))
    try:
        with open_scratch(scratch_url, schema_prefix=prefix) as scratch:
            try:
                return _run_child(fn, path, str(ini), scratch, prefix, work, timeout_s, kw)
            finally:
                scratch.sweep()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_child(fn: Callable[..., Any], path: Path, ini: str, scratch: Any, prefix: str, work: Path,
               timeout_s: float, kw: dict[str, Any]) -> Any:
    request, result, log = work / "request.pickle", work / "result.pickle", work / "output.log"
    request.write_bytes(pickle.dumps({
        "fn": fn, "args": (path, _scratch_for_child(scratch)), "result": str(result),
        "kw": {**kw, "scratch_folder": scratch.folder, "schema_prefix": prefix}}))
    read_end, write_end = os.pipe()
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "goldgate.probes.migrations.isolation", str(request), str(write_end)],
                pass_fds=(write_end,), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=str(Path(ini).parent))
        os.close(write_end)
        write_end = -1
        try:
            timed_out, phase, where = _supervise(proc, read_end, timeout_s)
        finally:
            _end(proc)
            if proc.stdin is not None:
                proc.stdin.close()
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if timed_out:
        raise _timed_out(phase, where, ini, timeout_s)
    if not result.is_file():
        tail = _tail(log)
        raise ArtifactUnavailable(where or ini, f"the process running {'env.py' if phase == 'env.py' else 'the walk'} "
                                                f"ended without a result (exit code {proc.returncode})"
                                                + (f": {tail}" if tail else ""))
    # our own child wrote it, into a folder made for this run (the project code there is the
    # team's own and runs as this user anyway: the child is for killing, not for trust)
    outcome = _unpack(pickle.loads(result.read_bytes()), ini)  # noqa: S301
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _orphan_watch() -> None:
    """End this child when its parent is gone (its end of our stdin closes)."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(70)


def _child(argv: list[str]) -> None:
    import importlib

    request_path, fd = Path(argv[1]), int(argv[2])
    # run as ``-m``, this file is __main__; the walk announces through the imported module
    importlib.import_module("goldgate.probes.migrations.isolation")._channel = fd
    threading.Thread(target=_orphan_watch, daemon=True).start()
    request = pickle.loads(request_path.read_bytes())  # noqa: S301 - written by the parent for this child
    try:
        outcome: dict[str, Any] = {"walk": request["fn"](*request["args"], **request["kw"])}
    except ArtifactUnavailable as exc:
        outcome = {"error": (type(exc).__name__, str(getattr(exc, "path", "")), str(exc))}
    except BaseException as exc:
        outcome = {"crash": " ".join("".join(traceback.format_exception_only(exc)).split())[:300]}
    Path(request["result"]).write_bytes(pickle.dumps(outcome))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # env.py's non-daemon threads must not keep this process alive


if __name__ == "__main__":
    _child(sys.argv)
