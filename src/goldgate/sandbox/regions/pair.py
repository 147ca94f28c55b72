"""Two regions on one machine: the PostgreSQL pair, the secondary cluster, the global endpoint.

Layout under the sandbox's state folder (``regions/``)::

    regions.json        ports, pids, URLs and which database takes writes
    pg-primary/         the primary region's PostgreSQL (initdb), port in regions.json
    pg-secondary/       its streaming-replication hot standby (pg_basebackup -R)
    manifests-*/        deploy/k8s with the region's DATABASE_URL in the bot's ConfigMap
    secondary/          the secondary region's own sandbox daemon (API server + bot pods)
    global.json         the global endpoint's ports and active region
    endpoint.log        its log

The primary region is the ordinary sandbox; :func:`prepare` runs before it starts (its
bot needs the database), :func:`start_secondary` after it is Ready. :func:`stop` ends
everything here and is safe to call when nothing runs. The region faults are planted
with ``--fault`` like every other: ``standby-lag``, ``secondary-not-ready``,
``global-no-health-checks``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import psutil
import yaml

from goldgate.children import with_default_signals
from goldgate.sandbox.ports import free_port
from goldgate.sandbox.regions import postgres as pg

REGIONS_DIR = "regions"
STATE_FILE = "regions.json"
SECONDARY_DIR = "secondary"
SECONDARY_CONTEXT = "goldgate-sandbox-secondary"
CONFIGMAP = "trading-bot-config"
#: Guide §7.3: the global endpoint health-checks the primary every 10 s.
GUIDE_HEALTH_INTERVAL_S = 10.0
#: Consecutive failed checks before failing over (the common default of DNS/GSLB checks).
FAILURES_TO_FAIL_OVER = 3
ENDPOINT_WAIT_S = 20.0

REGION_FAULTS = {
    "standby-lag": "regions: replication to the standby database is paused (pg_wal_replay_pause, receiver cut)",
    "secondary-not-ready": "regions: the secondary region's bot never passes its readiness probe",
    "global-no-health-checks": "regions: the global endpoint runs no health checks and never fails over",
}


class RegionsError(RuntimeError):
    """Setting up or tearing down the second region failed; the message says where."""


def folder(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / REGIONS_DIR


def split_faults(faults: Sequence[str]) -> tuple[list[str], list[str]]:
    """(faults for the primary cluster, faults of the two-region setup)."""
    return [f for f in faults if f not in REGION_FAULTS], [f for f in faults if f in REGION_FAULTS]


def read_state(where: pathlib.Path) -> dict[str, Any]:
    try:
        data = json.loads((where / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(where: pathlib.Path, data: dict[str, Any]) -> None:
    tmp = where / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(where / STATE_FILE)


def _update(where: pathlib.Path, **changes: Any) -> dict[str, Any]:
    data = read_state(where) | changes
    _write_state(where, data)
    return data


def _pg_root(where: pathlib.Path, data: dict[str, Any]) -> pathlib.Path:
    return pathlib.Path(data["pg_root"]) if data.get("pg_root") else where


def _reachable_by_postgres(where: pathlib.Path) -> bool:
    """Whether the ``postgres`` user can reach ``where`` (every ancestor searchable by others).

    Under root the servers run as ``postgres``; a state folder inside a private one (pytest's
    ``/tmp/pytest-of-root``, a home directory) is out of its reach.
    """
    if os.geteuid() != 0:
        return True
    for folder in [where, *where.parents]:
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def servers(where: pathlib.Path) -> tuple[pg.PgServer, pg.PgServer]:
    """The two database servers by region (whichever currently takes writes)."""
    data = read_state(where)
    root = _pg_root(where, data)
    try:
        return (pg.PgServer("primary-region", root / "pg-primary", int(data["pg_primary_port"])),
                pg.PgServer("secondary-region", root / "pg-secondary", int(data["pg_secondary_port"])))
    except (KeyError, TypeError, ValueError):
        raise RegionsError(f"{where / STATE_FILE} names no PostgreSQL ports: the regions were never set up") from None


def health_interval_s() -> float:
    """The guide's 10 s, scaled like every other sandbox duration."""
    from goldgate.sandbox.controllers.timing import Timing

    return GUIDE_HEALTH_INTERVAL_S * Timing.from_env().scale


# ----------------------------------------------------------------------------- start-up
def _region_manifests(source: pathlib.Path, target: pathlib.Path, database_url: str, *,
                      environments: bool) -> pathlib.Path:
    """The bot's manifests with the region's database in its ConfigMap (as a real region's overlay).

    The per-environment files (``production.yaml``) go to the primary region only and
    unchanged: production is not the release under test and does not write its orders.
    """
    from goldgate.sandbox.controllers.manifests import ENVIRONMENT_FILES

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue
        if path.name in ENVIRONMENT_FILES:
            if environments:
                shutil.copy(path, target / path.name)
            continue
        docs = list(yaml.safe_load_all(path.read_text()))
        if not any(isinstance(d, dict) and d.get("kind") == "ConfigMap"
                   and (d.get("metadata") or {}).get("name") == CONFIGMAP for d in docs):
            shutil.copy(path, target / path.name)
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and doc["metadata"].get("name") == CONFIGMAP:
                doc.setdefault("data", {})["DATABASE_URL"] = database_url
        (target / path.name).write_text(yaml.safe_dump_all([d for d in docs if d], sort_keys=False))
    return target


#: Bounds the release's ``alembic upgrade head`` on the empty order database (~1-2 s).
MIGRATE_TIMEOUT_S = 120.0


def migrate(url: str, revision: str = "head", *, where: str = "the order database") -> None:
    """``alembic upgrade <revision>`` of the release's project on ``url`` (its ``alembic.ini``
    and ``env.py``, ``DATABASE_URL`` set), in its own process as a pipeline's job runs it."""
    from goldgate.sandbox.release import PROJECT_SOURCE

    ini = PROJECT_SOURCE / "alembic.ini"
    cmd = [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", revision]
    env = {**os.environ, "DATABASE_URL": url}
    try:
        done = subprocess.run(cmd, cwd=PROJECT_SOURCE, env=env, capture_output=True, text=True,
                              timeout=MIGRATE_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise pg.PostgresError(f"{where}: alembic upgrade {revision} ({ini}) did not finish within "
                               f"{MIGRATE_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise pg.PostgresError(f"{where}: alembic upgrade {revision} ({ini}) failed (exit {done.returncode}): "
                               f"{tail[0][:300]}")


def _migrate_order_database(primary: pg.PgServer) -> None:
    """The deploy pipeline's step: ``alembic upgrade head`` of the release's own project
    (its ``alembic.ini`` and ``env.py``, ``DATABASE_URL`` pointing at the primary).

    It runs before any bot starts: the standby region's bots read a hot standby, which
    cannot create tables, so without the migrated table they would wait for the primary
    region's bots to create it. A release whose pods crash-loop would then keep the second
    region from ever becoming Ready, and the run would stop at sandbox start instead of the
    gate judging the broken release. The migration (not ``metadata.create_all``) leaves
    ``alembic_version`` and its commit time behind, which is what the post-migration watch
    reads: the database the release runs on is migrated, as a team's pipeline leaves it.
    Costs about 1 s more at start than ``create_all`` (a Python process importing alembic).
    """
    migrate(primary.url, where=primary.name)


def prepare(state_dir: pathlib.Path) -> pathlib.Path:
    """Start the PostgreSQL pair and return the primary region's manifests folder."""
    if not pg.binaries_present():
        raise RegionsError(f"PostgreSQL server binaries not found in {pg.pg_bin()}: {pg.INSTALL_HINT} "
                           f"(or set {pg.PG_BIN_ENV}); two regions need a primary and a hot standby")
    where = folder(state_dir)
    stop(state_dir)
    # a new pair starts a new WAL history and a new backup record: nothing of an earlier one is kept
    for name in ("pg-primary", "pg-secondary", pg.WAL_ARCHIVE, "backups", "backups-secondary"):
        shutil.rmtree(where / name, ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"pg_primary_port": free_port(), "pg_secondary_port": free_port(),
                             "writer": "primary"}
    if not _reachable_by_postgres(where):
        # The data folders go where postgres can reach them; the state names them, stop() removes them.
        pg_root = pathlib.Path(tempfile.mkdtemp(prefix="goldgate-regions-pg-"))
        pg_root.chmod(0o711)
        state["pg_root"] = str(pg_root)
    _write_state(where, state)
    primary, standby = servers(where)
    try:
        pg.init_primary(primary)
        _migrate_order_database(primary)
        pg.clone_standby(primary, standby)
    except pg.PostgresError as exc:
        raise RegionsError(f"the PostgreSQL pair under {where} did not start: {exc}") from None
    from goldgate.sandbox.controllers import manifests

    source = manifests.default_manifests_dir()
    _region_manifests(source, where / "manifests-secondary", standby.url, environments=False)
    return _region_manifests(source, where / "manifests-primary", primary.url, environments=True)


def service_url(info: Any, timeout: float = 30.0) -> str:
    """The region's bot Service address, from its load-balancer status."""
    from goldgate.sandbox import lifecycle

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            code, body = lifecycle._api_get(
                info, f"/api/v1/namespaces/{lifecycle.NAMESPACE}/services/{lifecycle.DEPLOYMENT}")
            last = f"HTTP {code}"
            if code == 200:
                ingress = ((json.loads(body).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
                if ingress and ingress[0].get("ports"):
                    return f"http://{ingress[0]['ip']}:{ingress[0]['ports'][0]['port']}"
                last = "no load-balancer address yet"
        time.sleep(0.2)
    raise RegionsError(f"service {lifecycle.DEPLOYMENT} of the sandbox at {info.url} has no address after "
                       f"{timeout:.0f}s ({last})")


def _merge_kubeconfig(primary: pathlib.Path, secondary: pathlib.Path) -> None:
    """One kubeconfig, two contexts: the primary's (current) and ``goldgate-sandbox-secondary``."""
    first = yaml.safe_load(primary.read_text())
    second = yaml.safe_load(secondary.read_text())
    old = second["contexts"][0]["name"]
    for section in ("clusters", "users", "contexts"):
        for entry in second[section]:
            if entry["name"] == old:
                entry["name"] = SECONDARY_CONTEXT
        first[section] = [e for e in first[section] if e["name"] != SECONDARY_CONTEXT] + second[section]
    ctx = next(e for e in first["contexts"] if e["name"] == SECONDARY_CONTEXT)["context"]
    ctx["cluster"] = ctx["user"] = SECONDARY_CONTEXT
    primary.write_text(yaml.safe_dump(first, sort_keys=False))


def _start_endpoint(where: pathlib.Path, primary_url: str, secondary_url: str, health_checks: bool) -> dict[str, Any]:
    with contextlib.suppress(FileNotFoundError):
        (where / "global.json").unlink()
    cmd = [sys.executable, "-m", "goldgate.sandbox.regions.endpoint", "--folder", str(where),
           "--primary", primary_url, "--secondary", secondary_url, "--interval", f"{health_interval_s():g}",
           "--failures", str(FAILURES_TO_FAIL_OVER), "--database-hooks"]
    if not health_checks:
        cmd.append("--no-health-checks")
    with (where / "endpoint.log").open("ab") as log:
        proc = subprocess.Popen(with_default_signals(cmd), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True,
                                close_fds=True)
    deadline = time.monotonic() + ENDPOINT_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RegionsError(f"the global endpoint exited at start (code {proc.returncode}); see {where / 'endpoint.log'}")
        with contextlib.suppress(OSError, ValueError):
            published = json.loads((where / "global.json").read_text())
            if published.get("port"):
                return {"endpoint_pid": proc.pid, "global_url": f"http://127.0.0.1:{published['port']}",
                        "admin_url": f"http://127.0.0.1:{published['admin_port']}"}
        time.sleep(0.05)
    _signal_endpoint(proc.pid, where)
    raise RegionsError(f"the global endpoint did not publish its port within {ENDPOINT_WAIT_S:.0f}s")


def start_secondary(state_dir: pathlib.Path, primary_info: Any, region_faults: Sequence[str], *,
                    timeout: float, notices: list[str]) -> dict[str, Any]:
    """The second region and the global endpoint in front of both; returns the URLs."""
    from goldgate.sandbox import lifecycle

    where = folder(state_dir)
    primary_db, standby_db = servers(where)
    secondary_faults = ["never-ready"] if "secondary-not-ready" in region_faults else []
    from goldgate.sandbox.flags import server as unleash
    from goldgate.sandbox.market.process import feed_url

    try:  # one market for both regions: the secondary's bots read the primary's feed
        # regions=1: the secondary is one region, whatever $GOLDGATE_SANDBOX_REGIONS asks of the whole sandbox.
        # One flag server per deployment: the secondary's bots evaluate their flags on the primary's Unleash.
        second = lifecycle.ensure_running(where / SECONDARY_DIR, secondary_faults, timeout=timeout, notices=notices,
                                          manifests=where / "manifests-secondary", regions=1,
                                          market_url=feed_url(state_dir),
                                          daemon_env=unleash.client_env(state_dir / "flags"))
    except lifecycle.SandboxError as exc:
        raise RegionsError(f"the secondary region did not start: {exc}") from None
    primary_url = service_url(primary_info)
    secondary_url = service_url(second)
    _merge_kubeconfig(primary_info.kubeconfig, second.kubeconfig)
    urls = _start_endpoint(where, primary_url, secondary_url, "global-no-health-checks" not in region_faults)
    from goldgate.probes.artifacts import ArtifactUnavailable
    from goldgate.sandbox.regions import backups

    try:  # the order database's backup job runs once the bots have written to it
        backups.run(where, primary_db.url)
    except (ArtifactUnavailable, OSError) as exc:
        notices.append(f"the order database's backup job failed: {exc}")
    primary_store, secondary_store = backups.stores(where)
    if "standby-lag" in region_faults:
        try:
            pg.wait_caught_up(primary_db, standby_db)
            pg.pause_replication(standby_db)
        except pg.PostgresError as exc:
            raise RegionsError(f"planting standby-lag failed: {exc}") from None
    regions = {**urls, "primary_url": primary_url, "standby_url": secondary_url,
               "standby_database_url": f"postgresql://postgres@127.0.0.1:{standby_db.port}/postgres",
               "primary_database_url": f"postgresql://postgres@127.0.0.1:{primary_db.port}/postgres",
               "wal_archive": str(primary_db.wal_archive),
               "backups": str(primary_store), "backups_secondary": str(secondary_store),
               "secondary_context": SECONDARY_CONTEXT, "secondary_pid": second.pid,
               "health_interval_s": health_interval_s(), "faults": list(region_faults)}
    _update(where, **regions)
    return {k: regions[k] for k in ("global_url", "admin_url", "primary_url", "standby_url", "secondary_context",
                                    "health_interval_s", "standby_database_url", "primary_database_url",
                                    "wal_archive", "backups", "backups_secondary")}


# ----------------------------------------------------------------------------- failover hooks
def fail_over_database(where: pathlib.Path) -> None:
    """What failover does to the data: the standby is promoted and takes writes."""
    _, standby = servers(where)
    if pg.in_recovery(standby):
        pg.promote(standby)
    _update(where, writer="secondary", promoted_at=time.time())


def fail_back_database(where: pathlib.Path) -> None:
    """The runbook's database steps of a manual failback (guide §9.3).

    1. rebuild the primary region's server as a standby of the promoted one and let it
       catch up; 2. stop the secondary region's server (a clean shutdown ships its last
       WAL); 3. promote the primary region's server; 4. rebuild the secondary region's
       server as its standby again.
    """
    primary, secondary = servers(where)
    if read_state(where).get("writer") != "secondary":
        return
    pg.rebuild_standby(secondary, primary)
    pg.wait_caught_up(secondary, primary)
    pg.stop(secondary, mode="fast")
    pg.promote(primary)
    pg.rebuild_standby(primary, secondary)
    _update(where, writer="primary", failed_back_at=time.time())


# ----------------------------------------------------------------------------- tear-down
def _signal_endpoint(pid: int, where: pathlib.Path) -> bool:
    try:
        proc = psutil.Process(pid)
        if str(where) not in " ".join(proc.cmdline()):
            return False
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    except psutil.Error:
        return False
    return True


def _endpoint_leftovers(where: pathlib.Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if "goldgate.sandbox.regions.endpoint" in cmd and str(where) in cmd:
            found.append(proc)
    return found


def stop(state_dir: pathlib.Path) -> str:
    """Stop the global endpoint, the secondary region and both PostgreSQL servers."""
    from goldgate.sandbox import lifecycle

    where = folder(state_dir)
    if not where.is_dir():
        return ""
    data = read_state(where)
    done = []
    if data.get("endpoint_pid") and _signal_endpoint(int(data["endpoint_pid"]), where):
        done.append("global endpoint")
    for proc in _endpoint_leftovers(where):
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if (where / SECONDARY_DIR).is_dir():
        message = lifecycle.stop(where / SECONDARY_DIR)
        if message.startswith("sandbox stopped"):
            done.append("secondary region")
    root = _pg_root(where, data)
    for name, key in (("pg-primary", "pg_primary_port"), ("pg-secondary", "pg_secondary_port")):
        server = pg.PgServer(name, root / name, int(data.get(key) or 0))
        if pg.stop(server, mode="immediate"):
            done.append(f"{name} PostgreSQL")
    if root != where:
        shutil.rmtree(root, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (where / STATE_FILE).unlink()
    return f"stopped {', '.join(done)}" if done else ""


def leftover_processes(state_dir: pathlib.Path) -> list[psutil.Process]:
    """Processes of the two-region setup still alive (for tests and ``status``)."""
    where = str(folder(state_dir))
    out = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        with contextlib.suppress(psutil.Error):
            mine = any(where in part for part in proc.info.get("cmdline") or [])
            # PostgreSQL's backends name no folder on their command line but run inside it.
            if proc.pid != os.getpid() and (mine or str(proc.info.get("cwd") or "").startswith(where)):
                out.append(proc)
    return out
