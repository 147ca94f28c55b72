"""The sandbox as an environment goldgate cannot tell from a cluster.

``environments/local.yaml`` names its targets ``sandbox``: the kubeconfig, the reference
release's project, artifacts, manifest and production spec, its backups and database
settings, the TLS endpoint. This plugin turns every such value into the concrete
kubeconfig, path or URL a real environment carries, once per run, when the ``environment``
fixture is first requested (hook :func:`goldgate.hookspecs.pytest_goldgate_resolve_environment`).
Nothing outside ``goldgate.sandbox`` branches on the sandbox: a check that behaved
differently here would prove nothing about production.

Loaded only by goldgate's own root ``conftest.py`` (``pytest_plugins``), never through the
``pytest11`` entry point, so a team's venv never starts a sandbox. It also provides what
only the sandbox has: the previous release's reference bot as the load baseline's stable
version (``stable_release``) and the two regions' endpoints (``region_endpoints``).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldgate.config import Environment
from goldgate.sandbox import lifecycle
from goldgate.sandbox.stable_bot import stable_bot

#: The value of an environment field that names the sandbox or its reference release.
SANDBOX = "sandbox"
INFO_KEY = pytest.StashKey[lifecycle.SandboxInfo | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goldgate", "release gates for the trading bot")
    group.addoption("--sandbox-fault", action="append", default=[], dest="goldgate_sandbox_faults",
                    help="start the local sandbox with this fault (repeatable; see `goldgate sandbox faults`)")
    group.addoption("--keep-sandbox", action="store_true", default=False, dest="goldgate_keep_sandbox",
                    help="leave a sandbox this run started running afterwards")


def state_dir(config: pytest.Config) -> Path:
    """The run's sandbox state folder (``$GOLDGATE_SANDBOX_DIR`` or ``<rootdir>/.goldgate/sandbox``)."""
    return lifecycle.default_state_dir(Path(config.rootpath))


def _now(request: pytest.FixtureRequest) -> dt.datetime:
    """The run's "now" (``gate_clock``, which tests pin) for the dates of the reference release."""
    try:
        clock: Callable[[], dt.datetime] = request.getfixturevalue("gate_clock")
    except pytest.FixtureLookupError:
        return dt.datetime.now(dt.UTC)
    return clock()


def _start_cluster(request: pytest.FixtureRequest, *, regions: int | None = None) -> lifecycle.SandboxInfo:
    config = request.config
    folder = state_dir(config)
    try:
        info = lifecycle.ensure_running(folder, list(config.getoption("goldgate_sandbox_faults")), regions=regions)
    except lifecycle.SandboxError as exc:
        pytest.exit(f"sandbox could not start: {exc}", returncode=3)
    if info.started and not config.getoption("goldgate_keep_sandbox"):
        request.addfinalizer(lambda: lifecycle.stop(folder))
    config.stash[INFO_KEY] = info
    return info


def _materialise(request: pytest.FixtureRequest) -> Any:
    """The reference release with the run's release faults planted."""
    from goldgate.sandbox import release
    from goldgate.sandbox.release_faults import RELEASE_FAULTS

    config = request.config
    faults = [f for f in config.getoption("goldgate_sandbox_faults") if f in RELEASE_FAULTS]
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    try:
        return release.materialise(factory.mktemp("release"), faults,
                                   cache_dir=state_dir(config) / "release-artifacts", now=_now(request))
    except release.ReleaseError as exc:
        pytest.fail(f"ERROR: the sandbox release could not be built: {exc}", pytrace=False)


def _concrete(value: str | None, resolved: Path | str) -> str | None:
    return str(resolved) if value == SANDBOX else value


def _release_fields(environment: Environment) -> list[str | None]:
    rel, rec = environment.release, environment.recovery
    return [rel.project, rel.artifacts, rel.manifest, rel.reference_spec, rec.backups, rec.postgresql_conf]


#: The marker (a feature file's ``@two_regions`` tag) of checks that need both regions running.
TWO_REGIONS = "two_regions"
_REGION_FIELDS = ("global_url", "failback_url", "standby_database_url")


def _names_regions(environment: Environment) -> bool:
    """Whether the environment names the sandbox's second region anywhere."""
    regions = environment.regions
    return environment.http.standby_url == SANDBOX or (
        regions is not None and SANDBOX in (getattr(regions, f) for f in _REGION_FIELDS))


def _selected_need_regions(request: pytest.FixtureRequest) -> bool:
    """Whether a check this run selected needs two regions (``@two_regions``).

    The second region (another API server, its bot, a PostgreSQL primary and streaming
    standby, the global endpoint) costs 11-16 s to start; runs that select no such check
    keep the one-region sandbox.
    """
    return any(item.get_closest_marker(TWO_REGIONS) is not None for item in request.session.items)


def _region_values(environment: Environment, info: lifecycle.SandboxInfo) -> dict[str, Any]:
    """``http.standby_url`` and ``regions.*`` as the running second region answers them."""
    found = info.regions
    http = environment.http
    update: dict[str, Any] = {}
    standby = found.get("standby_url") if http.standby_url == SANDBOX else http.standby_url
    update["http"] = {"standby_url": standby}
    if environment.regions is not None:
        admin = found.get("admin_url")
        concrete = {"global_url": found.get("global_url"),
                    "failback_url": admin.rstrip("/") + "/failback" if admin else None,
                    "standby_database_url": found.get("standby_database_url")}
        regions = environment.regions
        changes: dict[str, Any] = {f: concrete[f] for f in _REGION_FIELDS if getattr(regions, f) == SANDBOX}
        if "health_check_interval_s" not in regions.model_fields_set and found.get("health_interval_s"):
            changes["health_check_interval_s"] = float(found["health_interval_s"])
        if regions.secondary_context is None and found.get("secondary_context"):
            changes["secondary_context"] = found["secondary_context"]
        update["regions"] = regions.model_copy(update=changes)
    if environment.recovery.wal_archive == SANDBOX and found.get("wal_archive"):
        # the order database the bots write to (the primary region's PostgreSQL) and its archive
        update["recovery"] = {"wal_archive": found["wal_archive"]}
        rec = environment.recovery
        if rec.backups == SANDBOX and found.get("backups"):  # the backup job's store, not the release's
            update["recovery"]["backups"] = found["backups"]
        if rec.second_region_backups == SANDBOX:
            update["recovery"]["second_region_backups"] = found.get("backups_secondary")
        if environment.database.url is None and found.get("primary_database_url"):
            update["database"] = environment.database.model_copy(update={"url": found["primary_database_url"]})
    return update


def _flag_server_values(environment: Environment, state_dir: Path) -> Any:
    """``flags.url`` of the sandbox's Unleash and, unless the file names one, ``flags.token``
    as a reference to the admin token file the server was started with.

    The daemon starts the server in the background; this waits (bounded) until it has
    seeded the release's flags. Not installed or not started: both unset, and the flag
    server's checks say so, naming the install command.
    """
    from goldgate.sandbox.flags import server as unleash

    found: dict[str, Any] = {}
    deadline = time.monotonic() + unleash.START_WAIT_S
    while time.monotonic() < deadline:
        found = unleash.read_state(state_dir / "flags")
        if not found or found.get("ready") or found.get("failed"):
            break
        time.sleep(0.5)
    ready = bool(found.get("ready"))
    flags = environment.flags
    assert flags is not None
    token = flags.token or (f"file:{found['admin_token_file']}" if ready else None)
    return flags.model_copy(update={"url": found.get("url") if ready else None, "token": token})


def _supply_values(environment: Environment, info: lifecycle.SandboxInfo) -> dict[str, Any]:
    """``release.registry`` and ``release.repository`` as the running sandbox serves them.

    Without a running registry the field becomes None, so the registry check is NOT RUN
    naming the field rather than asking nothing.
    """
    from goldgate.sandbox import oci_registry, release_repo

    rel, out = environment.release, {}
    if rel.registry == SANDBOX:
        address = oci_registry.address(info.state_dir)
        out["registry"] = f"http://{address}" if address else None
    if rel.repository == SANDBOX:
        repo = info.state_dir / release_repo.FOLDER
        out["repository"] = str(repo) if repo.is_dir() else None
    return out


def resolve(request: pytest.FixtureRequest, environment: Environment) -> Environment | None:
    """``environment`` with every ``sandbox`` value concrete; None when it names no sandbox.

    Region values (``http.standby_url``, ``regions.*``) become the second region's URLs
    when a selected check needs two regions and the sandbox then starts with both;
    otherwise ``http.standby_url`` is left unset and ``regions.*`` symbolic, so a check that
    reads them without the marker skips, naming the field, instead of probing nothing.
    """
    wants_release = SANDBOX in _release_fields(environment)
    wants_tls = environment.http.tls_url == SANDBOX
    wants_cluster = environment.kubernetes.kubeconfig == SANDBOX
    if not (wants_release or wants_tls or wants_cluster):
        return None
    update: dict[str, Any] = {}
    http: dict[str, Any] = {}
    recovery_update: dict[str, Any] = {}
    if wants_cluster:
        two = _names_regions(environment) and _selected_need_regions(request)
        info = _start_cluster(request, regions=2 if two else None)
        update["kubernetes"] = environment.kubernetes.model_copy(update={"kubeconfig": str(info.kubeconfig)})
        if info.regions and _names_regions(environment):
            values = _region_values(environment, info)
            http.update(values["http"])
            if "regions" in values:
                update["regions"] = values["regions"]
            if "database" in values:
                update["database"] = values["database"]
            recovery_update = values.get("recovery", {})
        elif environment.http.standby_url == SANDBOX:
            http["standby_url"] = None
        if environment.trading.market_control_url == SANDBOX:  # the rehearsal market's session control
            from goldgate.sandbox.market.process import feed_url

            feed = feed_url(info.state_dir)
            update["trading"] = environment.trading.model_copy(
                update={"market_control_url": f"{feed}/v1/market" if feed else None})
        if environment.flags is not None and environment.flags.url == SANDBOX:
            update["flags"] = _flag_server_values(environment, info.state_dir)
        supply = _supply_values(environment, info)
        if supply:
            update["release"] = environment.release.model_copy(update=supply)
        if environment.metrics.source == "scrape" and not environment.metrics.targets_file:
            update["metrics"] = environment.metrics.model_copy(
                update={"targets_file": str(info.state_dir / "prometheus" / "targets.json")})
    # http.tls_url 'sandbox' beside another release.project is refused at load (Environment._own_endpoint).
    if wants_release:
        ws = _materialise(request)
        rel, rec = update.get("release", environment.release), environment.recovery
        update["release"] = rel.model_copy(update={
            "project": _concrete(rel.project, ws.project),
            "artifacts": _concrete(rel.artifacts, ws.artifacts),
            "manifest": _concrete(rel.manifest, ws.manifest),
            "reference_spec": _concrete(rel.reference_spec, ws.project / "deploy" / "k8s" / "production.yaml"),
        })
        recovery_update.update({
            "backups": recovery_update.get("backups") or _concrete(rec.backups, ws.backups),
            "postgresql_conf": _concrete(rec.postgresql_conf, ws.postgresql_conf),
        })
        if wants_tls:
            from goldgate.sandbox.tls_endpoint import TlsEndpoint

            endpoint = TlsEndpoint(ws.tls)
            http.update({"tls_url": endpoint.start(), "ca_bundle": endpoint.ca_bundle})
            request.addfinalizer(endpoint.stop)
    if http:
        update["http"] = environment.http.model_copy(update=http)
    if recovery_update:
        update["recovery"] = environment.recovery.model_copy(update=recovery_update)
    unresolved = {f: None for f in ("wal_archive", "second_region_backups")
                  if getattr(environment.recovery, f) == SANDBOX and f not in recovery_update}
    if unresolved:  # no second region runs in this session: the order database is not there to ask
        update["recovery"] = update.get("recovery", environment.recovery).model_copy(update=unresolved)
    return environment.model_copy(update=update)


@pytest.hookimpl(optionalhook=True)  # the spec is goldgate.plugin's (goldgate.hookspecs)
def pytest_goldgate_resolve_environment(request: pytest.FixtureRequest,
                                        environment: Environment) -> Environment | None:
    return resolve(request, environment)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def sandbox_info(pytestconfig: pytest.Config, environment: Environment) -> lifecycle.SandboxInfo | None:
    """The sandbox this run targets (started or reused while resolving the environment), or None."""
    return pytestconfig.stash.get(INFO_KEY, None)


@pytest.fixture(scope="session")
def region_endpoints(sandbox_info: lifecycle.SandboxInfo | None) -> dict[str, Any]:
    """The sandbox's two regions: global_url, admin_url, primary_url, standby_url, health_interval_s."""
    return dict(sandbox_info.regions) if sandbox_info is not None else {}


@pytest.fixture(scope="session")
def stable_release(sandbox_info: lifecycle.SandboxInfo | None) -> Callable[[str], Any] | None:
    """In the sandbox, the stable version is a reference bot of that version started on loopback,
    reading the sandbox's market feed."""
    if sandbox_info is None:
        return None
    from goldgate.sandbox.market.process import feed_url

    return functools.partial(stable_bot, market_url=feed_url(sandbox_info.state_dir))
