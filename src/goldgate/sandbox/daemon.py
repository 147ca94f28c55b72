"""The sandbox daemon: one process holding the store, the API server and the controllers.

Started detached by :mod:`goldgate.sandbox.lifecycle` (``python -m goldgate.sandbox``).
It binds its port before starting the controllers and writes it to ``daemon.port`` so
the parent never races for a "free" port; ``/readyz`` turns ok once the controllers
have started. SIGTERM/SIGINT stop the controllers (which end every pod process) and
then the server, so a ``down`` leaves nothing behind.

Before the pods start, the daemon starts the market feed its bots read
(:mod:`goldgate.sandbox.market.process`) — or, for a second region, uses the feed URL the
primary passed in — and stops its own feed last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

from goldgate.sandbox import oci_registry, satoken
from goldgate.sandbox.apiserver import ApiServer, apply_defaults
from goldgate.sandbox.apiserver.tls import ensure_tls
from goldgate.sandbox.market import process as market
from goldgate.sandbox.store import Store, WatchEvent

log = logging.getLogger("goldgate.sandbox.daemon")

TOKEN_ENV = "GOLDGATE_SANDBOX_TOKEN"  # noqa: S105 - the variable's name, not a secret
PORT_FILE = "daemon.port"


def _write_atomic(path: pathlib.Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _default_service_accounts(store: Store) -> Any:
    """Every namespace gets a ``default`` ServiceAccount, as the upstream controller does."""
    loop = asyncio.get_running_loop()

    def ensure(namespace: str) -> None:
        if store.find("namespaces", None, namespace) and not store.find("serviceaccounts", namespace, "default"):
            store.create(
                "serviceaccounts",
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}},
            )

    def on_event(event: WatchEvent) -> None:
        if event.resource == "namespaces" and event.type == "ADDED":
            # Deferred: creating inside a store callback would reorder other watchers' events.
            loop.call_soon(ensure, event.obj["metadata"]["name"])

    return store.subscribe(on_event)


def _make_cluster(store: Store, state_dir: pathlib.Path, faults: list[str], manifests: pathlib.Path | None) -> Any:
    from goldgate.sandbox.controllers import Cluster

    return Cluster(store, state_dir, faults, manifests_dir=manifests)


async def run(
    state_dir: pathlib.Path,
    faults: list[str],
    *,
    port: int = 0,
    api_only: bool = False,
    manifests: pathlib.Path | None = None,
) -> int:
    # Taken out of the environment so that no pod process or exec'd command inherits it.
    token = os.environ.pop(TOKEN_ENV, None)
    if not token:
        log.error("%s is not set; refusing to serve without authentication", TOKEN_ENV)
        return 2
    store = Store()
    store.defaulter = apply_defaults
    _default_service_accounts(store)
    tls = ensure_tls(state_dir / "tls")
    cluster = None if api_only else _make_cluster(store, state_dir, faults, manifests)
    server = ApiServer(store, cluster=cluster, token=token, port=port, ssl_context=tls.server_context())
    server.ctx.ready = False
    server.ctx.sa_key = satoken.signing_key(state_dir / "tls")
    try:
        await server.start()
    except OSError as exc:
        log.error("cannot listen on 127.0.0.1:%s: %s", port, exc)
        return 3
    _write_atomic(state_dir / PORT_FILE, str(server.port))
    log.info("API server listening on %s", server.url)

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    code = 0
    feed = None
    flag_server = None
    registry = None
    try:
        if cluster is not None:
            flag_server = _flag_server(state_dir)  # before the feed: a second region inherits one
            feed = await _market_feed(state_dir)
            registry = await asyncio.to_thread(_registry, state_dir, manifests)
            await cluster.start()
        for namespace in ("default", "trading") if cluster is None else ("default",):
            if store.find("namespaces", None, namespace) is None:
                store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        server.ctx.ready = True
        log.info("sandbox ready")
        await stopping.wait()
        log.info("stopping")
    except Exception:
        log.exception("sandbox failed")
        code = 1
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(cluster.stop(), timeout=20)
        if flag_server is not None:
            await _stop_flag_server(state_dir, flag_server)
        await server.stop()
        if registry is not None:
            from goldgate.sandbox.processes import stop_process

            await asyncio.to_thread(stop_process, registry, 5.0)
            oci_registry.forget(state_dir, registry.pid)
        if feed is not None:
            from goldgate.sandbox.processes import stop_process

            await asyncio.to_thread(stop_process, feed, 5.0)
            market.forget(state_dir)
        with contextlib.suppress(FileNotFoundError):
            (state_dir / PORT_FILE).unlink()
    return code


def _registry(state_dir: pathlib.Path, manifests: pathlib.Path | None) -> subprocess.Popen[bytes] | None:
    """The registry the kubelet pulls the bot's images from, with every release pushed (guide §5.2).

    Its address goes into this process's environment for the kubelet's pulls. A registry
    that does not start is logged: the pods then run the node's own images, and the §5
    registry check, finding no registry, says so.
    """
    import requests

    from goldgate.sandbox import image_build, release_repo

    started = time.monotonic()
    try:
        address, proc = oci_registry.start(state_dir)
    except oci_registry.RegistryError as exc:
        log.error("%s; the bot's images are not in a registry", exc)
        return None
    try:
        releases = release_repo.build(state_dir, manifests)
        for image in image_build.ensure_pushed(releases, address):
            log.info("registry %s/%s:%s %s (revision %s, %s)", address, image.repository, image.tag, image.digest,
                     image.revision[:12], "pushed" if image.pushed else "already held")
    except (release_repo.RepoError, image_build.BuildError, OSError, subprocess.SubprocessError,
            requests.RequestException) as exc:
        log.error("the release images could not be built and pushed: %s", exc)
    os.environ[oci_registry.REGISTRY_ENV] = address
    log.info("registry %s ready with the release images in %.2f s", address, time.monotonic() - started)
    return proc


async def _market_feed(state_dir: pathlib.Path) -> subprocess.Popen[bytes] | None:
    """The feed this sandbox's bots read: the one given (second region) or a new one.

    Its URL goes into this process's environment, where the kubelet reads it for every bot
    pod (``MARKET_FEED_URL``). A feed that does not start is logged and the bots then make
    their bars in-process — the same bars, but no market close/open for rehearsals.
    """
    given = market.inherited_url()
    if given:
        market.record(state_dir, given, pid=None)
        log.info("market feed of the primary region: %s", given)
        return None
    try:
        url, proc = await asyncio.to_thread(market.start_feed, state_dir)
    except market.MarketError as exc:
        log.error("%s; bots generate their bars in-process", exc)
        return None
    os.environ[market.MARKET_URL_ENV] = url
    log.info("market feed at %s", url)
    return proc


def _flag_server(state_dir: pathlib.Path) -> asyncio.Task[Any] | None:
    """The Unleash server, when installed, started in the background (its migrations take seconds).

    Its URL and client token are fixed first and go into this process's environment, where
    the kubelet reads them for every bot pod (``UNLEASH_URL``, ``UNLEASH_API_TOKEN``); the
    bots' flag client finds the server a few refreshes later. A second region reads the
    primary's market and runs no flag server of its own: its daemon is started with the
    primary's URL and client token (one flag server per deployment, clients in every region).
    """
    from goldgate.sandbox.flags import server as unleash

    if market.inherited_url() or not unleash.wanted():
        return None
    plan = unleash.plan(state_dir / "flags")
    unleash.record(plan, ready=False)  # a run resolving flags.url now waits for it
    os.environ[unleash.URL_ENV] = plan.url
    os.environ[unleash.CLIENT_TOKEN_ENV] = plan.client_token
    flags_file = pathlib.Path(__file__).parent / "project" / "config" / "flags.yaml"

    def start() -> subprocess.Popen[bytes] | None:
        try:
            proc = unleash.start(plan, flags_file)
        except unleash.UnleashError as exc:
            log.error("flag server: %s", exc)
            unleash.record(plan, ready=False, failed=str(exc))
            return None
        log.info("flag server (Unleash) at %s", plan.url)
        return proc

    return asyncio.create_task(asyncio.to_thread(start))


async def _stop_flag_server(state_dir: pathlib.Path, task: asyncio.Task[Any]) -> None:
    from goldgate.sandbox.flags import server as unleash

    proc = None
    with contextlib.suppress(Exception):
        proc = await asyncio.wait_for(asyncio.shield(task), timeout=30)
    with contextlib.suppress(Exception):
        await asyncio.to_thread(unleash.stop, state_dir / "flags", proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m goldgate.sandbox", description="Run the sandbox cluster daemon.")
    parser.add_argument("--state-dir", type=pathlib.Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--manifests", type=pathlib.Path, default=None)
    parser.add_argument("--api-only", action="store_true", help="no controllers (API semantics tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args.state_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(
        run(args.state_dir, args.fault, port=args.port, api_only=args.api_only, manifests=args.manifests)
    )
