"""Starting, finding and stopping the sandbox daemon (``goldgate sandbox up/down/status``).

State lives in one directory (``$GOLDGATE_SANDBOX_DIR`` or ``./.goldgate/sandbox``):
``state.json`` (pid, port, kubeconfig, started_at, faults), ``kubeconfig``, the daemon
log and the TLS files. Every situation a user can meet is recognised and explained:
a sandbox already running (reused), a requested port in use, stale state left by a
killed daemon (cleaned up, surviving pod processes killed), a daemon that fails to
start or whose bot never becomes Ready (stopped, with the tail of its log).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import pathlib
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from goldgate.children import with_default_signals
from goldgate.sandbox.apiserver.tls import ensure_tls
from goldgate.sandbox.daemon import PORT_FILE, TOKEN_ENV
from goldgate.sandbox.market.process import MARKET_URL_ENV

DIR_ENV = "GOLDGATE_SANDBOX_DIR"
REGIONS_ENV = "GOLDGATE_SANDBOX_REGIONS"
STATE_FILE = "state.json"
KUBECONFIG_FILE = "kubeconfig"
LOG_FILE = "daemon.log"
CONTEXT = "goldgate-sandbox"
NAMESPACE = "trading"
DEPLOYMENT = "trading-bot"
HTTP_TIMEOUT = 3.0


class SandboxError(RuntimeError):
    """A sandbox operation failed; the message says what happened and what to do."""


@dataclass
class SandboxInfo:
    state_dir: pathlib.Path
    pid: int
    port: int
    kubeconfig: pathlib.Path
    started_at: str
    faults: list[str] = field(default_factory=list)
    api_only: bool = False
    #: With two regions: global_url, admin_url, primary_url, standby_url, secondary_context.
    regions: dict[str, Any] = field(default_factory=dict)
    #: True when this call started the daemon (the caller then owns stopping it).
    started: bool = False

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``(info, started)`` for callers written against that shape."""
        return iter((self, self.started))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["kubeconfig"] = str(self.kubeconfig)
        data.pop("started")
        return data


@dataclass
class SandboxStatus:
    running: bool
    info: SandboxInfo | None
    message: str
    pods: list[dict[str, str]] = field(default_factory=list)


def default_state_dir(root: pathlib.Path | None = None) -> pathlib.Path:
    """The sandbox's state folder: ``$GOLDGATE_SANDBOX_DIR``, else ``<root>/.goldgate/sandbox``.

    The one formula for it: the CLI passes nothing (the current folder), the pytest plugin
    the run's rootdir, so ``goldgate sandbox down`` finds what a run started.
    """
    env = os.environ.get(DIR_ENV)
    if env:
        return pathlib.Path(env).expanduser().resolve()
    return ((root or pathlib.Path.cwd()) / ".goldgate" / "sandbox").resolve()


# ----------------------------------------------------------------------------- state files
def _read_state(state_dir: pathlib.Path) -> SandboxInfo | None:
    path = state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text())
        return SandboxInfo(
            state_dir=state_dir,
            pid=int(data["pid"]),
            port=int(data["port"]),
            kubeconfig=pathlib.Path(data["kubeconfig"]),
            started_at=str(data.get("started_at", "")),
            faults=list(data.get("faults", [])),
            api_only=bool(data.get("api_only", False)),
            regions=dict(data.get("regions") or {}),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return SandboxInfo(state_dir, 0, 0, state_dir / KUBECONFIG_FILE, "")


def _write_state(info: SandboxInfo) -> None:
    path = info.state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info.to_json(), indent=2) + "\n")
    tmp.replace(path)


def _token(state_dir: pathlib.Path) -> str | None:
    """The bearer token, read back from the kubeconfig (never stored elsewhere)."""
    try:
        for line in (state_dir / KUBECONFIG_FILE).read_text().splitlines():
            if line.strip().startswith("token:"):
                return line.split(":", 1)[1].strip()
    except FileNotFoundError:
        return None
    return None


def write_kubeconfig(state_dir: pathlib.Path, port: int, token: str, ca_pem: bytes) -> pathlib.Path:
    ca = base64.b64encode(ca_pem).decode()
    text = (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {CONTEXT}\n"
        "  cluster:\n"
        f"    server: https://127.0.0.1:{port}\n"
        f"    certificate-authority-data: {ca}\n"
        "users:\n"
        f"- name: {CONTEXT}\n"
        "  user:\n"
        f"    token: {token}\n"
        "contexts:\n"
        f"- name: {CONTEXT}\n"
        "  context:\n"
        f"    cluster: {CONTEXT}\n"
        f"    user: {CONTEXT}\n"
        f"    namespace: {NAMESPACE}\n"
        f"current-context: {CONTEXT}\n"
    )
    path = state_dir / KUBECONFIG_FILE
    path.touch(mode=0o600)
    path.write_text(text)
    return path


@contextlib.contextmanager
def _locked(state_dir: pathlib.Path) -> Iterator[None]:
    """Serialise up/down on one state dir (two terminals, or pytest-xdist workers)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- process checks
def _is_our_daemon(pid: int, state_dir: pathlib.Path) -> bool:
    try:
        proc = psutil.Process(pid)
        cmdline = proc.cmdline()
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "goldgate.sandbox" in cmdline and str(state_dir) in cmdline


def _ssl_context(state_dir: pathlib.Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(state_dir / "tls" / "ca.crt"))


def _api_get(info: SandboxInfo, path: str, *, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(info.url + path)  # noqa: S310 - https to 127.0.0.1 only
    token = token or _token(info.state_dir)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT, context=_ssl_context(info.state_dir)) as resp:  # noqa: S310 - https to 127.0.0.1 only
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _ready(info: SandboxInfo) -> bool:
    try:
        code, _ = _api_get(info, "/readyz")
    except (OSError, ssl.SSLError):
        return False
    return code == 200


def _deployment_ready(info: SandboxInfo) -> tuple[bool, str]:
    try:
        code, body = _api_get(info, f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{DEPLOYMENT}")
    except (OSError, ssl.SSLError) as exc:
        return False, f"API not answering: {exc}"
    if code != 200:
        return False, f"deployment {DEPLOYMENT} not found yet (HTTP {code})"
    dep = json.loads(body)
    want = (dep.get("spec") or {}).get("replicas", 1)
    status = dep.get("status") or {}
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    if ready >= want and updated >= want:
        return True, f"{ready}/{want} ready"
    return False, f"{ready}/{want} replicas ready"


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _port_owner(port: int) -> str:
    with contextlib.suppress(psutil.AccessDenied, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                with contextlib.suppress(psutil.Error):
                    return f" by pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                return f" by pid {conn.pid}"
    return ""


def log_tail(state_dir: pathlib.Path, lines: int = 30) -> str:
    try:
        text = (state_dir / LOG_FILE).read_text(errors="replace")
    except FileNotFoundError:
        return "(no daemon log)"
    return "\n".join(text.splitlines()[-lines:])


# ----------------------------------------------------------------------------- pod processes
def _recorded_pod_pids(state_dir: pathlib.Path) -> set[int]:
    """Pids the kubelet recorded for pod processes: one file per pid in ``pids/``."""
    pids: set[int] = set()
    directory = state_dir / "pids"
    if not directory.is_dir():
        return pids
    for path in directory.iterdir():
        with contextlib.suppress(OSError, ValueError):
            if path.name.isdigit():
                pids.add(int(path.name))
            else:
                pids.add(int(json.loads(path.read_text())["pid"]))
    return pids


def _sandbox_processes(pid: int, state_dir: pathlib.Path) -> list[psutil.Process]:
    """The daemon's descendants plus recorded pod processes still alive."""
    procs: dict[int, psutil.Process] = {}
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children(recursive=True):
            procs[child.pid] = child
    for pod_pid in _recorded_pod_pids(state_dir):
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pod_pid)
            if _belongs_to(proc, state_dir):
                procs[pod_pid] = proc
    return list(procs.values())


def _belongs_to(proc: psutil.Process, state_dir: pathlib.Path) -> bool:
    """Guard against killing an unrelated process that reused a recorded pid."""
    with contextlib.suppress(psutil.Error):
        if str(state_dir) in " ".join(proc.cmdline()) or str(proc.cwd()).startswith(str(state_dir)):
            return True
        env = proc.environ()
        return any(str(state_dir) in v for v in env.values())
    return False


def _kill(procs: Sequence[psutil.Process], sig: int) -> None:
    """Signal each process and, when it leads one, its whole process group (pods do)."""
    for proc in procs:
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError, OSError):
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _cleanup_files(state_dir: pathlib.Path) -> None:
    for name in (STATE_FILE, KUBECONFIG_FILE, PORT_FILE):
        with contextlib.suppress(FileNotFoundError):
            (state_dir / name).unlink()
    pids = state_dir / "pids"
    if pids.is_dir():
        for path in pids.iterdir():
            with contextlib.suppress(OSError):
                path.unlink()


# ----------------------------------------------------------------------------- operations
def find_running(state_dir: pathlib.Path | None = None) -> SandboxInfo | None:
    """The running sandbox of ``state_dir`` (daemon alive and answering), else None."""
    state_dir = (state_dir or default_state_dir()).resolve()
    info = _read_state(state_dir)
    if info is None or not info.pid or not _is_our_daemon(info.pid, state_dir):
        return None
    return info


def _clean_stale(state_dir: pathlib.Path) -> str | None:
    info = _read_state(state_dir)
    if info is None:
        return None
    if info.pid and _is_our_daemon(info.pid, state_dir):
        return None
    survivors: dict[int, psutil.Process] = {}
    for pid in _recorded_pod_pids(state_dir):
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            if _belongs_to(proc, state_dir):
                survivors[pid] = proc
    # Pod processes the kubelet had no time to record still run in a pod directory
    # (never this process or its ancestors, e.g. a shell that cd'd there).
    pods_dir = str(state_dir / "pods") + os.sep
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    for proc in psutil.process_iter(["cwd"]):
        if str(proc.info.get("cwd") or "").startswith(pods_dir) and proc.pid not in mine:
            survivors.setdefault(proc.pid, proc)
    _kill(list(survivors.values()), signal.SIGKILL)
    from goldgate.sandbox.market.process import forget, stop_orphan

    stop_orphan(state_dir)  # the market feed of a daemon that died hard
    forget(state_dir)
    _cleanup_files(state_dir)
    extra = f"; killed {len(survivors)} leftover pod process(es)" if survivors else ""
    return (
        f"found stale sandbox state in {state_dir} (daemon pid {info.pid or '?'} started "
        f"{info.started_at or 'at an unknown time'} is no longer running){extra}; cleaned it up"
    )


def ensure_running(
    state_dir: pathlib.Path | None = None,
    faults: Sequence[str] = (),
    *,
    port: int = 0,
    timeout: float = 120.0,
    api_only: bool = False,
    notices: list[str] | None = None,
    regions: int | None = None,
    manifests: pathlib.Path | None = None,
    market_url: str | None = None,
    daemon_env: Mapping[str, str] | None = None,
) -> SandboxInfo:
    """Reuse the running sandbox or start one and wait until the bot is Ready.

    ``info.started`` tells the caller whether it must call :func:`stop` later.
    ``regions=2`` adds the second region (:mod:`goldgate.sandbox.regions`); unset, it is
    ``$GOLDGATE_SANDBOX_REGIONS`` when starting and whatever runs when reusing.
    ``manifests`` replaces the bot's deploy/k8s folder (each region's own overlay).
    ``market_url``: the market feed another sandbox runs (a second region reads the
    primary's); unset, the daemon starts its own.
    """
    regions = _regions_wanted(regions)
    state_dir = (state_dir or default_state_dir()).resolve()
    notices = notices if notices is not None else []
    with _locked(state_dir):
        running = find_running(state_dir)
        if running is not None:
            if sorted(running.faults) != sorted(faults):
                raise SandboxError(
                    f"a sandbox is already running (pid {running.pid}, port {running.port}) with faults "
                    f"{running.faults or 'none'}, but {list(faults) or 'none'} were requested; "
                    "run `goldgate sandbox down` first"
                )
            if regions is not None and (2 if running.regions else 1) != regions:
                raise SandboxError(
                    f"a sandbox is already running (pid {running.pid}) with {2 if running.regions else 1} region(s), "
                    f"but {regions} were requested; run `goldgate sandbox down` first"
                )
            if not _ready(running):
                raise SandboxError(
                    f"a sandbox daemon is running (pid {running.pid}) but its API on port {running.port} "
                    f"does not answer /readyz; run `goldgate sandbox down` and retry.\n{log_tail(state_dir)}"
                )
            notices.append(f"sandbox already running (pid {running.pid}, port {running.port})")
            return running
        stale = _clean_stale(state_dir)
        if stale:
            notices.append(stale)
        leftover = _stop_regions(state_dir)  # a second region whose primary daemon died
        if leftover:
            notices.append(f"found a second region left running in {state_dir}: {leftover}")
        if port and port_in_use(port):
            raise SandboxError(
                f"port {port} on 127.0.0.1 is already in use{_port_owner(port)}; "
                "choose another port or stop what is listening there"
            )
        if regions != 2:
            from goldgate.sandbox.regions.pair import split_faults

            two_region_faults = split_faults(faults)[1]
            if two_region_faults:
                raise SandboxError(f"fault(s) {', '.join(two_region_faults)} need two regions: "
                                   f"add --regions 2 (or set {REGIONS_ENV}=2)")
        if regions == 2:
            info = _start_two_regions(state_dir, list(faults), port=port, timeout=timeout, notices=notices)
        else:
            info = _start(state_dir, list(faults), port=port, timeout=timeout, api_only=api_only, notices=notices,
                          manifests=manifests, market_url=market_url, daemon_env=daemon_env)
        info.started = True
        return info


def _regions_wanted(regions: int | None) -> int | None:
    if regions is None:
        raw = os.environ.get(REGIONS_ENV, "").strip()
        if not raw:
            return None
        try:
            regions = int(raw)
        except ValueError:
            raise SandboxError(f"{REGIONS_ENV}={raw!r} is not 1 or 2") from None
    if regions not in (1, 2):
        raise SandboxError(f"{regions} regions requested: the sandbox runs 1 or 2")
    return regions


def _start_two_regions(state_dir: pathlib.Path, faults: list[str], *, port: int, timeout: float,
                       notices: list[str]) -> SandboxInfo:
    """The primary region (this sandbox, its bot on the primary PostgreSQL), then the second."""
    from goldgate.sandbox.regions import pair

    cluster_faults, region_faults = pair.split_faults(faults)
    try:
        manifests = pair.prepare(state_dir)
        info = _start(state_dir, faults, port=port, timeout=timeout, api_only=False, notices=notices,
                      manifests=manifests, daemon_faults=cluster_faults)
        info.regions = pair.start_secondary(state_dir, info, region_faults, timeout=timeout, notices=notices)
    except (pair.RegionsError, SandboxError) as exc:
        found = find_running(state_dir)
        if found is not None:
            _terminate(found.pid, state_dir)
            _cleanup_files(state_dir)
        pair.stop(state_dir)
        raise SandboxError(f"two regions did not start: {exc}") from None
    _write_state(info)
    return info


#: With faults planted the bot may legitimately never become Ready (never-ready,
#: crash-loop): ``up`` then waits this long at most and keeps the sandbox running.
FAULTY_READY_WAIT = 10.0
#: Opening the port takes well under a second; this only bounds a hung interpreter.
PORT_WAIT = 30.0


def _start(
    state_dir: pathlib.Path,
    faults: list[str],
    *,
    port: int,
    timeout: float,
    api_only: bool,
    notices: list[str],
    manifests: pathlib.Path | None = None,
    daemon_faults: list[str] | None = None,
    market_url: str | None = None,
    daemon_env: Mapping[str, str] | None = None,
) -> SandboxInfo:
    tls = ensure_tls(state_dir / "tls")
    token = secrets.token_urlsafe(32)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / PORT_FILE).unlink()
    cmd = [sys.executable, "-m", "goldgate.sandbox", "--state-dir", str(state_dir), "--port", str(port)]
    for fault in faults if daemon_faults is None else daemon_faults:
        cmd += ["--fault", fault]
    if manifests is not None:
        cmd += ["--manifests", str(manifests)]
    if api_only:
        cmd.append("--api-only")
    # Switches meant for the whole sandbox (how many regions) are not the daemon's: its pods,
    # PostgreSQL and exec'd commands must not read them again.
    env = {k: v for k, v in os.environ.items() if k not in (REGIONS_ENV, MARKET_URL_ENV)}
    env.update({TOKEN_ENV: token, DIR_ENV: str(state_dir)})
    if market_url:
        env[MARKET_URL_ENV] = market_url
    env.update(daemon_env or {})  # a second region: the primary's flag server for its pods
    with (state_dir / LOG_FILE).open("ab") as log:
        log.write(f"\n--- starting sandbox at {dt.datetime.now(dt.UTC).isoformat()} ---\n".encode())
        log.flush()
        proc = subprocess.Popen(  # default signal dispositions: its pods and PostgreSQL inherit them
            with_default_signals(cmd), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + timeout
    port_deadline = time.monotonic() + max(timeout, PORT_WAIT)
    port_file = state_dir / PORT_FILE
    while not port_file.exists():
        if proc.poll() is not None:
            _cleanup_files(state_dir)
            raise SandboxError(
                f"the sandbox daemon exited during start-up (exit code {proc.returncode}); "
                f"last lines of {state_dir / LOG_FILE}:\n{log_tail(state_dir)}"
            )
        if time.monotonic() > port_deadline:
            _terminate(proc.pid, state_dir)
            raise SandboxError(
                f"the sandbox daemon did not open its port within {max(timeout, PORT_WAIT):.0f}s:\n{log_tail(state_dir)}"
            )
        time.sleep(0.05)
    actual_port = int(port_file.read_text().strip())
    kubeconfig = write_kubeconfig(state_dir, actual_port, token, tls.ca_pem())
    info = SandboxInfo(
        state_dir=state_dir,
        pid=proc.pid,
        port=actual_port,
        kubeconfig=kubeconfig,
        started_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        faults=faults,
        api_only=api_only,
    )
    _write_state(info)
    last = "API not answering yet"
    api_up = False
    ready_deadline = min(deadline, time.monotonic() + FAULTY_READY_WAIT) if faults else deadline
    while time.monotonic() < ready_deadline:
        if proc.poll() is not None:
            _cleanup_files(state_dir)
            raise SandboxError(
                f"the sandbox daemon exited during start-up (exit code {proc.returncode}); "
                f"last lines of {state_dir / LOG_FILE}:\n{log_tail(state_dir)}"
            )
        if _ready(info):
            api_up = True
            if api_only:
                return info
            ok, last = _deployment_ready(info)
            if ok:
                return info
        time.sleep(0.2)
    if faults and api_up:
        notices.append(
            f"deployment {NAMESPACE}/{DEPLOYMENT} is not Ready ({last}) — expected with faults "
            f"{', '.join(faults)}; the sandbox keeps running"
        )
        return info
    _terminate(proc.pid, state_dir)
    _cleanup_files(state_dir)
    raise SandboxError(
        f"the sandbox did not become ready within {timeout:.0f}s (deployment {NAMESPACE}/{DEPLOYMENT}: {last}); "
        f"it was stopped. Last lines of {state_dir / LOG_FILE}:\n{log_tail(state_dir)}"
    )


def _terminate(pid: int, state_dir: pathlib.Path, grace: float = 25.0) -> int:
    """SIGTERM the daemon, wait, then SIGKILL it and every straggler; returns kills."""
    procs = _sandbox_processes(pid, state_dir)
    with contextlib.suppress(psutil.Error):
        daemon = psutil.Process(pid)
        daemon.send_signal(signal.SIGTERM)
        with contextlib.suppress(psutil.TimeoutExpired):
            daemon.wait(grace)
    # Children that appeared since the first snapshot are collected too.
    procs += [p for p in _sandbox_processes(pid, state_dir) if p.pid not in {q.pid for q in procs}]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).kill()
    alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    _kill(alive, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(psutil.Error, ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return len(alive)


def stop(state_dir: pathlib.Path | None = None) -> str:
    """Stop the sandbox of ``state_dir``; returns what was done (for the CLI)."""
    state_dir = (state_dir or default_state_dir()).resolve()
    with _locked(state_dir):
        info = _read_state(state_dir)
        if info is None:
            return _join(f"no sandbox running (no state in {state_dir})", _stop_regions(state_dir))
        if not info.pid or not _is_our_daemon(info.pid, state_dir):
            return _join(_clean_stale(state_dir) or "no sandbox running", _stop_regions(state_dir))
        stragglers = _terminate(info.pid, state_dir)
        _cleanup_files(state_dir)
        extra = f"; killed {stragglers} straggling process(es)" if stragglers else ""
        return _join(f"sandbox stopped (pid {info.pid}, port {info.port}){extra}", _stop_regions(state_dir))


def _stop_regions(state_dir: pathlib.Path) -> str:
    """The second region, the global endpoint and both PostgreSQL servers, if any ran;
    and the flag server with its PostgreSQL, should a daemon that died have left them."""
    from goldgate.sandbox.flags import server as unleash
    from goldgate.sandbox.regions import pair

    with contextlib.suppress(Exception):
        if unleash.read_state(state_dir / "flags"):
            unleash.stop(state_dir / "flags")
    return pair.stop(state_dir)


def _join(message: str, extra: str) -> str:
    return f"{message}; {extra}" if extra else message


def status(state_dir: pathlib.Path | None = None) -> SandboxStatus:
    state_dir = (state_dir or default_state_dir()).resolve()
    info = _read_state(state_dir)
    if info is None:
        return SandboxStatus(False, None, f"not running (no state in {state_dir})")
    if not info.pid or not _is_our_daemon(info.pid, state_dir):
        return SandboxStatus(False, info, f"not running: stale state in {state_dir} (pid {info.pid} is gone); `up` cleans it")
    if not _ready(info):
        return SandboxStatus(True, info, f"daemon pid {info.pid} is alive but the API on port {info.port} is not ready")
    pods: list[dict[str, str]] = []
    with contextlib.suppress(OSError, ValueError, ssl.SSLError):
        code, body = _api_get(info, f"/api/v1/namespaces/{NAMESPACE}/pods")
        if code == 200:
            for pod in json.loads(body).get("items", []):
                statuses = (pod.get("status") or {}).get("containerStatuses") or []
                pods.append(
                    {
                        "name": pod["metadata"]["name"],
                        "phase": (pod.get("status") or {}).get("phase", ""),
                        "ready": f"{sum(1 for s in statuses if s.get('ready'))}/{len((pod.get('spec') or {}).get('containers') or [])}",
                    }
                )
    return SandboxStatus(True, info, f"running (pid {info.pid}, https://127.0.0.1:{info.port})", pods)
