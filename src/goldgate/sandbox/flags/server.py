"""Installing, starting and seeding the sandbox's Unleash server.

The server is the npm package ``unleash-server`` pinned in ``tools/unleash/package.json``
(+ lock), installed with ``npm ci`` into ``.goldgate/tools/unleash`` (``goldgate sandbox
flags --install``), as the Allure CLI is. It needs PostgreSQL: the sandbox gives it its own
server (``initdb`` with Debian's binaries, as :mod:`goldgate.sandbox.regions.postgres`
does for the bot's database) holding a database ``unleash``, both on loopback ports.

Tokens are made at start and handed over through Unleash's own start-up variables
(``INIT_ADMIN_API_TOKENS``, ``INIT_CLIENT_API_TOKENS``): the client token goes to the bot
pods (``UNLEASH_URL``, ``UNLEASH_API_TOKEN``), the admin token to goldgate through a file
the environment names as a secret reference. The release's flags (its ``flags.yaml``) are
created on the server through the admin API, as a team's flag set-up would.

Starting Unleash runs its schema migrations (tens of seconds on a busy machine), so the
daemon starts it in the background: its port and tokens are fixed before the pods start,
the bots' client simply finds the server a few refreshes later.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil
import requests
import yaml

from goldgate.children import NpmInstallError, npm_ci
from goldgate.sandbox.ports import free_port
from goldgate.sandbox.regions import postgres as pg

#: Where ``goldgate sandbox flags --install`` puts the server (relative to the repository root).
TOOLS_DIR = pathlib.Path(".goldgate") / "tools" / "unleash"
PINNED_DIR = pathlib.Path("tools") / "unleash"
HOME_ENV = "GOLDGATE_UNLEASH_HOME"
#: ``off`` keeps a sandbox without a flag server (API-semantics sandboxes, quick tests).
SWITCH_ENV = "GOLDGATE_SANDBOX_UNLEASH"
#: Set by the daemon for its kubelet: the bot pods get them as UNLEASH_URL / UNLEASH_API_TOKEN.
URL_ENV = "GOLDGATE_UNLEASH_URL"
CLIENT_TOKEN_ENV = "GOLDGATE_UNLEASH_CLIENT_TOKEN"  # noqa: S105 - a variable's name
STATE_FILE = "unleash.json"
ADMIN_TOKEN_FILE = "unleash-admin-token"  # noqa: S105 - a file name
CLIENT_TOKEN_FILE = "unleash-client-token"  # noqa: S105 - a file name
LOG_FILE = "unleash.log"
DATABASE = "unleash"
PROJECT = "default"
ENVIRONMENT = "development"
INSTALL_TIMEOUT_S = 900.0
START_WAIT_S = 240.0
HTTP_TIMEOUT = (2.0, 10.0)


class UnleashError(RuntimeError):
    """Installing, starting or seeding the flag server failed; the message says which step."""


@dataclass(frozen=True)
class UnleashPlan:
    """What a server will be, fixed before it starts: port and tokens go to the pods first."""

    folder: str
    port: int
    pg_port: int
    pg_root: str
    admin_token: str
    client_token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def repo_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[4]


def home() -> pathlib.Path:
    given = os.environ.get(HOME_ENV, "").strip()
    return pathlib.Path(given) if given else repo_root() / TOOLS_DIR


def server_script() -> pathlib.Path:
    return home() / "node_modules" / "unleash-server" / "dist" / "server.js"


def installed() -> bool:
    return server_script().is_file() and shutil.which("node") is not None and pg.binaries_present()


def wanted() -> bool:
    """Installed and not switched off for this sandbox."""
    return os.environ.get(SWITCH_ENV, "auto").strip().lower() not in ("off", "0", "false", "no") and installed()


def install(root: pathlib.Path | None = None) -> pathlib.Path:
    """``npm ci`` of the pinned tools/unleash into .goldgate/tools/unleash; returns server.js."""
    root = root or repo_root()
    target = root / TOOLS_DIR
    try:
        npm_ci(root / PINNED_DIR, target, package="the Unleash server (unleash-server)", timeout_s=INSTALL_TIMEOUT_S)
    except NpmInstallError as exc:
        raise UnleashError(str(exc)) from None
    script = target / "node_modules" / "unleash-server" / "dist" / "server.js"
    if not script.is_file():
        raise UnleashError(f"npm ci succeeded but {script} is missing")
    return script


def plan(folder: pathlib.Path) -> UnleashPlan:
    """Ports and tokens for a new server (Unleash's token format ``project:environment.secret``)."""
    folder.mkdir(parents=True, exist_ok=True)
    # PostgreSQL refuses root; its folder goes where the postgres user can reach it.
    pg_root = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-unleash-pg-"))
    pg_root.chmod(0o711)
    return UnleashPlan(folder=str(folder), port=free_port(), pg_port=free_port(), pg_root=str(pg_root),
                       admin_token=f"*:*.{secrets.token_hex(24)}",
                       client_token=f"{PROJECT}:{ENVIRONMENT}.{secrets.token_hex(24)}")


def _pg(p: UnleashPlan) -> pg.PgServer:
    return pg.PgServer("unleash", pathlib.Path(p.pg_root), p.pg_port)


def record(p: UnleashPlan, **extra: Any) -> None:
    """``unleash.json`` (no token in it) and the admin and client token files beside it (0600).

    The client token file is what a second region's pods are given: one flag server per
    deployment, as teams run it, its clients in every region."""
    folder = pathlib.Path(p.folder)
    token_file = folder / ADMIN_TOKEN_FILE
    for name, token in ((ADMIN_TOKEN_FILE, p.admin_token), (CLIENT_TOKEN_FILE, p.client_token)):
        (folder / name).write_text(token)
        (folder / name).chmod(0o600)
    data = {k: v for k, v in asdict(p).items() if k not in ("admin_token", "client_token")}
    data.update({"url": p.url, "admin_token_file": str(token_file), **extra})
    (folder / STATE_FILE).write_text(json.dumps(data, indent=1))


def client_env(folder: pathlib.Path) -> dict[str, str]:
    """The daemon variables that give a (second region's) kubelet this server's URL and client
    token; empty when no server was planned in ``folder``."""
    url = read_state(folder).get("url")
    try:
        token = (folder / CLIENT_TOKEN_FILE).read_text().strip()
    except OSError:
        return {}
    return {URL_ENV: str(url), CLIENT_TOKEN_ENV: token} if url and token else {}


def read_state(folder: pathlib.Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def start(p: UnleashPlan, flags_file: pathlib.Path) -> subprocess.Popen[bytes]:
    """PostgreSQL, database ``unleash``, the node server; waits for ``/health``, seeds flags."""
    folder = pathlib.Path(p.folder)
    server = _pg(p)
    try:
        pg.init_primary(server)
        pg.sql(server, f"CREATE DATABASE {DATABASE}")
    except pg.PostgresError as exc:
        raise UnleashError(f"PostgreSQL for Unleash did not start: {exc}") from None
    node = shutil.which("node") or "node"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOLDGATE_", "DATABASE_"))}
    env.update({
        "TZ": "UTC", "DATABASE_URL": f"postgres://postgres@127.0.0.1:{p.pg_port}/{DATABASE}",
        "DATABASE_SSL": "false", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(p.port),
        "INIT_ADMIN_API_TOKENS": p.admin_token, "INIT_CLIENT_API_TOKENS": p.client_token,
        "CHECK_VERSION": "false", "SEND_TELEMETRY": "false", "LOG_LEVEL": "warn",
    })
    with (folder / LOG_FILE).open("ab") as log:
        proc = subprocess.Popen([node, str(server_script())], cwd=str(server_script().parents[2]), env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True)
    record(p, pid=proc.pid, started=time.time(), ready=False)
    started = time.monotonic()
    deadline = started + START_WAIT_S
    while True:
        if proc.poll() is not None:
            raise UnleashError(f"unleash-server exited at start (code {proc.returncode}); see {folder / LOG_FILE}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(p.url + "/health", timeout=HTTP_TIMEOUT).status_code == 200:
                break
        if time.monotonic() > deadline:
            raise UnleashError(f"unleash-server on {p.url} not healthy within {START_WAIT_S:.0f}s")
        time.sleep(0.5)
    seed(p, flags_file)
    record(p, pid=proc.pid, ready=True, start_s=round(time.monotonic() - started, 1))
    return proc


def _admin(p: UnleashPlan, method: str, path: str, body: Any = None) -> requests.Response:
    resp = requests.request(method, p.url + path, json=body, timeout=HTTP_TIMEOUT,
                            headers={"Authorization": p.admin_token, "Content-Type": "application/json"})
    if resp.status_code >= 400 and resp.status_code != 409:
        raise UnleashError(f"Unleash admin API {method} {path}: HTTP {resp.status_code} {resp.text[:300]}")
    return resp


def seed(p: UnleashPlan, flags_file: pathlib.Path) -> list[str]:
    """Create the release's flags (kill switches, on where the release enables them)."""
    try:
        entries = (yaml.safe_load(flags_file.read_text()) or {}).get("flags") or []
    except (OSError, yaml.YAMLError) as exc:
        raise UnleashError(f"{flags_file}: cannot read the release's flags ({exc})") from None
    base = f"/api/admin/projects/{PROJECT}/features"
    names = []
    for entry in entries:
        name = str(entry["name"])
        names.append(name)
        kind = str(entry.get("type") or ("kill-switch" if entry.get("killswitch") else "release"))
        _admin(p, "POST", base, {"name": name, "type": kind,
                                 "description": f"introduced {entry.get('introduced', '?')}, "
                                                f"clean up by {entry.get('cleanup_by', '?')}"})
        env_path = f"{base}/{name}/environments/{ENVIRONMENT}"
        variants = strategy_variants(flags_file, name, entry.get("variants"))
        strategy: dict[str, Any] = {"name": "default", "parameters": {}}
        if variants:  # a gradual rollout to everyone, split between the variants
            strategy = {"name": "flexibleRollout", "variants": variants,
                        "parameters": {"rollout": "100", "stickiness": "default", "groupId": name}}
        _admin(p, "POST", f"{env_path}/strategies", strategy)
        if entry.get("enabled", True):
            _admin(p, "POST", f"{env_path}/on")
    return names


def strategy_variants(flags_file: pathlib.Path, name: str, split: Any) -> list[dict[str, Any]]:
    """flags.yaml's ``variants: {A: 50, B: 50}`` (percent of requests) as Unleash strategy variants.

    Unleash weighs variants in thousandths and spreads its "variable" weights evenly over the
    variants that have one, so every variant but the last gets its share as a "fix" weight
    and the last the remainder: the split on the server is the one the release declares.
    """
    if split in (None, {}):
        return []
    if not isinstance(split, dict) or len(split) < 2 or any(
            isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in split.values()):
        raise UnleashError(f"{flags_file}: flag {name}: variants must map two or more names to positive percents")
    if abs(sum(split.values()) - 100) > 1e-6:
        raise UnleashError(f"{flags_file}: flag {name}: variant percents add up to {sum(split.values()):g}, not 100")
    items = list(split.items())
    out = [{"name": str(v), "weight": round(float(pct) * 10), "weightType": "fix", "stickiness": "default"}
           for v, pct in items[:-1]]
    out.append({"name": str(items[-1][0]), "weight": 1000 - sum(int(v["weight"]) for v in out),
                "weightType": "variable", "stickiness": "default"})
    return out


def stop(folder: pathlib.Path, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Stop the node server and its PostgreSQL, remove PostgreSQL's folder."""
    state = read_state(folder)
    pid = proc.pid if proc is not None else state.get("pid")
    if isinstance(pid, int):
        with contextlib.suppress(psutil.Error):
            node = psutil.Process(pid)
            if "node" in node.name() or proc is not None:
                node.send_signal(signal.SIGTERM)
                _, alive = psutil.wait_procs([node], timeout=10)
                for each in alive:
                    each.kill()
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
    if state.get("pg_root") and state.get("pg_port"):
        server = pg.PgServer("unleash", pathlib.Path(state["pg_root"]), int(state["pg_port"]))
        pg.stop(server, mode="immediate")
        shutil.rmtree(state["pg_root"], ignore_errors=True)
    for name in (STATE_FILE, ADMIN_TOKEN_FILE, CLIENT_TOKEN_FILE):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
