"""OCI registry evidence (guide §5.2 "docker push registry.io/trading-bot:v1.2.0").

Speaks the OCI distribution API a registry serves to every client: ``HEAD
/v2/<name>/manifests/<tag>`` answers the digest the tag names now
(``Docker-Content-Digest``), ``GET`` of a manifest and of its config blob gives the image's
labels, among them the commit it was built from (``org.opencontainers.image.revision``).
Read-only, anonymous, with the environment's timeouts and bounded retries on transport
errors; a tag the registry does not hold is an answer (None), not an error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from goldgate.config import Timeouts

MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
REVISION_LABEL = "org.opencontainers.image.revision"


class RegistryUnavailable(Exception):  # noqa: N818 - reads as the condition
    """The registry could not be asked; the message names the URL and the cause."""


@dataclass(frozen=True)
class ImageReference:
    """``registry.io/trading-bot:v1.2.0`` split the way the Docker reference grammar does."""

    host: str | None
    repository: str
    tag: str

    @classmethod
    def parse(cls, image: str) -> ImageReference:
        name = image.strip().split("@", 1)[0]
        slash, colon = name.rfind("/"), name.rfind(":")
        name, tag = (name[:colon], name[colon + 1:]) if colon > slash else (name, "latest")
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return cls(first, rest, tag)
        return cls(None, name, tag)


@dataclass(frozen=True)
class TagAnswer:
    """What the registry says a tag names now; ``digest`` None: no such tag."""

    url: str
    digest: str | None
    labels: dict[str, str] = field(default_factory=dict)


def _request(method: str, url: str, timeouts: Timeouts, headers: dict[str, str]) -> requests.Response:
    last = ""
    for attempt in range(timeouts.retries + 1):
        try:
            return requests.request(method, url, headers=headers, timeout=(timeouts.connect_s, timeouts.read_s),
                                    allow_redirects=True)
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
            if attempt < timeouts.retries:
                time.sleep(timeouts.backoff_s * (2 ** attempt))
    raise RegistryUnavailable(f"{method} {url}: {last}")


def _json(response: requests.Response, url: str) -> Any:
    if response.status_code != 200:
        raise RegistryUnavailable(f"GET {url}: HTTP {response.status_code}")
    try:
        return json.loads(response.content)
    except ValueError:
        raise RegistryUnavailable(f"GET {url}: the answer is not JSON") from None


def tag(base_url: str, repository: str, tag_name: str, timeouts: Timeouts) -> TagAnswer:
    """The digest ``repository:tag_name`` names in the registry at ``base_url``, and its labels."""
    base = base_url.rstrip("/")
    url = f"{base}/v2/{repository}/manifests/{tag_name}"
    head = _request("HEAD", url, timeouts, {"Accept": MANIFEST_TYPES})
    if head.status_code == 404:
        return TagAnswer(url, None)
    if head.status_code in (401, 403):
        raise RegistryUnavailable(f"HEAD {url}: HTTP {head.status_code} (the registry wants credentials)")
    if head.status_code != 200:
        raise RegistryUnavailable(f"HEAD {url}: HTTP {head.status_code}")
    digest = head.headers.get("Docker-Content-Digest")
    if not digest:
        raise RegistryUnavailable(f"HEAD {url}: no Docker-Content-Digest header in the answer")
    manifest_url = f"{base}/v2/{repository}/manifests/{digest}"
    manifest = _json(_request("GET", manifest_url, timeouts, {"Accept": MANIFEST_TYPES}), manifest_url)
    config = (manifest.get("config") or {}).get("digest") if isinstance(manifest, dict) else None
    labels: dict[str, str] = {}
    if isinstance(config, str):
        blob_url = f"{base}/v2/{repository}/blobs/{config}"
        blob = _json(_request("GET", blob_url, timeouts, {}), blob_url)
        found = ((blob.get("config") or {}).get("Labels") or {}) if isinstance(blob, dict) else {}
        labels = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
    return TagAnswer(url, digest, labels)
