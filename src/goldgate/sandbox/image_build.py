"""The bot's images: an OCI image per release, built from its commit and pushed with skopeo.

There is no container engine here, so the build writes an OCI image layout itself (the
image-spec's ``oci-layout``, ``index.json`` and content-addressed blobs): one layer with the
bot's code and a VERSION file, a config whose labels say which version and which commit
(``org.opencontainers.image.version`` / ``.revision``) it was built from. ``skopeo copy``
then pushes it to the sandbox registry as ``trading-bot:<version>`` - the guide's
``docker push registry.io/trading-bot:v1.2.0`` - and the registry answers with the digest.

The layer is written with fixed timestamps and owners, so the same commit gives the same
digest: a daemon start asks the registry for each tag and pushes only what is missing or
different (:func:`ensure_pushed`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import pathlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass

from goldgate.sandbox import oci_registry
from goldgate.sandbox.controllers.images import BOT_REPOSITORY_SUFFIX
from goldgate.sandbox.release_repo import Releases, commit_of

SKOPEO = "skopeo"
PUSH_TIMEOUT_S = 60.0
BOT_SOURCE = pathlib.Path(__file__).with_name("bot")
_MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
_MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


class BuildError(RuntimeError):
    """The image could not be built or pushed; the message names the tool and its output."""


@dataclass(frozen=True)
class Pushed:
    repository: str
    tag: str
    digest: str
    revision: str
    pushed: bool  # False: the registry already held this exact image


def _layer(version: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        files = [(f"app/{p.relative_to(BOT_SOURCE.parent)}", p.read_bytes())
                 for p in sorted(BOT_SOURCE.rglob("*.py"))]
        files.append(("app/VERSION", f"{version}\n".encode()))
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _blob(folder: pathlib.Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (folder / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
    return digest


def build_layout(folder: pathlib.Path, version: str, revision: str) -> str:
    """Write an OCI image layout of the bot at ``version`` into ``folder``; returns the manifest digest."""
    (folder / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    raw = _layer(version)
    layer = gzip.compress(raw, mtime=0)
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {
            "Env": [f"BOT_VERSION={version}"], "Cmd": ["python", "-m", "goldgate.sandbox.bot"], "WorkingDir": "/app",
            "Labels": {"org.opencontainers.image.version": version, "org.opencontainers.image.revision": revision,
                       "org.opencontainers.image.title": BOT_REPOSITORY_SUFFIX},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": _MEDIA_MANIFEST,
        "config": {"mediaType": _MEDIA_CONFIG, "digest": _blob(folder, config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": _MEDIA_LAYER, "digest": _blob(folder, layer), "size": len(layer)}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    digest = _blob(folder, manifest_bytes)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": _MEDIA_MANIFEST, "digest": digest, "size": len(manifest_bytes),
        "annotations": {"org.opencontainers.image.ref.name": version}}]}
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    (folder / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}', encoding="utf-8")
    return digest


def push(layout: pathlib.Path, tag: str, registry: str, repository: str) -> None:
    """``skopeo copy oci:<layout>:<tag> docker://<registry>/<repository>:<tag>``, digests kept."""
    if shutil.which(SKOPEO) is None:
        raise BuildError(f"{SKOPEO} is not installed (apt-get install skopeo)")
    done = subprocess.run(
        [SKOPEO, "--insecure-policy", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
         f"oci:{layout}:{tag}", f"docker://{registry}/{repository}:{tag}"],
        capture_output=True, text=True, timeout=PUSH_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise BuildError(f"skopeo copy to {registry}/{repository}:{tag}: {(done.stderr or done.stdout).strip()[-300:]}")


def ensure_pushed(releases: Releases, registry: str, repository: str = BOT_REPOSITORY_SUFFIX) -> list[Pushed]:
    """Every tagged release as an image in ``registry``; pushes only what it does not hold yet."""
    out = []
    with tempfile.TemporaryDirectory(prefix="oci-") as tmp:
        for version in releases.versions:
            revision = commit_of(releases.path, version)
            layout = pathlib.Path(tmp) / version
            digest = build_layout(layout, version, revision)
            held = oci_registry.manifest_digest(registry, repository, version)
            missing = held != digest
            if missing:
                push(layout, version, registry, repository)
                held = oci_registry.manifest_digest(registry, repository, version)
                if held != digest:
                    raise BuildError(f"{registry}/{repository}:{version}: pushed {digest}, registry serves {held}")
            out.append(Pushed(repository, version, digest, revision, pushed=missing))
    return out
