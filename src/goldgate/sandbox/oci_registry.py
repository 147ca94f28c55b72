"""The sandbox's container registry: Debian's ``docker-registry`` (CNCF Distribution) on loopback.

Guide §5.2 pushes the release image to a registry and the cluster pulls it from there, so
"the image exists under its tag with the digest the pods run" is a fact between two real
systems. The daemon starts one registry per state folder: its config lives in
``registry/config.yml`` (storage in ``registry/storage``, plain HTTP on 127.0.0.1, no auth)
and its address in ``registry/address``. The storage outlives the daemon, so the images
are pushed once per state folder (:mod:`goldgate.sandbox.image_build`) and a restart only
asks the registry which tags it already holds.

The kubelet pulls through :func:`pull_digest` (a HEAD on the manifest, the way containerd
resolves a tag) and keeps what it got, as a node's image cache does with
``imagePullPolicy: IfNotPresent``: a tag pushed again later does not change the digest of
pods already running, which is exactly the drift the §5 check looks for.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
import time

import requests

from goldgate.sandbox.ports import free_port

#: The registry's host:port, set in the daemon's environment for the kubelet's pulls.
REGISTRY_ENV = "GOLDGATE_SANDBOX_REGISTRY"
BINARY = "docker-registry"
FOLDER = "registry"
ADDRESS_FILE = "address"
START_WAIT_S = 10.0
HTTP_TIMEOUT = (1.0, 3.0)
#: What a HEAD on a manifest accepts: the OCI and Docker manifest and index types.
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
))


class RegistryError(RuntimeError):
    """The registry did not start or did not answer; the message says which and where."""


def available() -> bool:
    return shutil.which(BINARY) is not None


def _config(storage: pathlib.Path, port: int) -> str:
    return (
        "# The sandbox's registry: plain HTTP on loopback, no auth, storage in this folder.\n"
        "version: 0.1\n"
        "log:\n  level: warn\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {storage}\n"
        "  delete:\n    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )


def start(state_dir: pathlib.Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the registry for ``state_dir``; returns ``host:port`` and the process."""
    if not available():
        raise RegistryError(f"{BINARY} is not installed (apt-get install docker-registry)")
    folder = state_dir / FOLDER
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "config.yml"
    config.write_text(_config(storage, port), encoding="utf-8")
    log = (folder / "registry.log").open("ab")
    proc = subprocess.Popen([BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RegistryError(f"{BINARY} exited with {proc.returncode} at start; see {folder / 'registry.log'}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://{address}/v2/", timeout=HTTP_TIMEOUT).status_code == 200:
                (folder / ADDRESS_FILE).write_text(address, encoding="utf-8")
                _record_pid(state_dir, proc.pid)
                return address, proc
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    raise RegistryError(f"{BINARY} did not answer /v2/ on {address} within {START_WAIT_S:.0f} s")


def _record_pid(state_dir: pathlib.Path, pid: int) -> None:
    """In ``pids/`` beside the pods', so ``sandbox down`` ends it even if the daemon died first
    (its command line names this state folder, which the lifecycle checks before a kill)."""
    pids = state_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / str(pid)).write_text("", encoding="utf-8")


def address(state_dir: pathlib.Path) -> str | None:
    """The running registry's ``host:port`` recorded for ``state_dir``, if any."""
    path = state_dir / FOLDER / ADDRESS_FILE
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8").strip() or None
    return None


def forget(state_dir: pathlib.Path, pid: int | None = None) -> None:
    with contextlib.suppress(OSError):
        (state_dir / FOLDER / ADDRESS_FILE).unlink()
    if pid is not None:
        with contextlib.suppress(OSError):
            (state_dir / "pids" / str(pid)).unlink()


def manifest_digest(registry: str, repository: str, tag: str) -> str | None:
    """The digest the registry serves for ``repository:tag`` (None: no such tag)."""
    response = requests.head(f"http://{registry}/v2/{repository}/manifests/{tag}",
                             headers={"Accept": MANIFEST_TYPES}, timeout=HTTP_TIMEOUT)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.headers.get("Docker-Content-Digest")


#: The node's image cache: (repository, tag) -> digest (None: not in the registry, the node's
#: own catalog image), kept for the daemon's lifetime so a pod start asks the registry once.
_pulled: dict[tuple[str, str], str | None] = {}


def pull_digest(repository: str, tag: str) -> str | None:
    """The digest a pull of ``repository:tag`` gets from the sandbox registry, cached per node.

    None when no registry runs or it holds no such tag: the image is then one the node
    carries without a registry (the catalog's faulty builds and helper images).
    """
    registry = os.environ.get(REGISTRY_ENV)
    if not registry:
        return None
    key = (repository, tag)
    if key not in _pulled:
        try:
            _pulled[key] = manifest_digest(registry, repository, tag)
        except requests.RequestException:
            return None  # asked again at the next start: a busy registry is not a missing image
    return _pulled[key]
