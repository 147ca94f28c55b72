"""The sandbox's image catalog: which container images exist and what they run.

There is no container engine here, so an image name is mapped to a local command:

- any repository whose last path part ends in ``trading-bot`` (``trading-bot:v1.2.0``,
  ``registry.io/trading-bot:v1.3.0``) runs the reference bot
  (``python -m goldgate.sandbox.bot``) with ``BOT_VERSION`` = the tag;
- a tag ending in one of :data:`FAULTY_BUILDS`' suffixes is a *faulty build* of that
  version: the bot starts with the listed fault knobs (the container's own env can
  still override them, as a real image's ENV would be);
- any repository named ``goldgate`` (``registry.io/goldgate:0.1.0``, deploy/judge/ and
  deploy/ci/kubernetes/) is goldgate itself: the container's ``command`` + ``args``
  (``goldgate serve ...``) run through :mod:`goldgate.sandbox.incluster`, which points the
  Kubernetes client at the pod's account folder and the listener at the pod's port;
- ``sandbox/pause`` (any repository named ``pause``) is process-less: the pod becomes
  Running and Ready without a process — for scale tests with thousands of pods;
- ``sandbox/exec`` runs the container's ``command`` + ``args`` as a local process
  (``python`` as first word means this interpreter) — for tests that need a process
  which is not the bot (crash loops, memory hogs).

Anything else fails like an unknown image on a real node: the container waits with
``ErrImagePull`` then ``ImagePullBackOff``.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

BOT_REPOSITORY_SUFFIX = "trading-bot"
BOT_COMMAND = (sys.executable, "-m", "goldgate.sandbox.bot")
GOLDGATE_REPOSITORY = "goldgate"
GOLDGATE_COMMAND = (sys.executable, "-m", "goldgate.sandbox.incluster")

#: tag suffix → fault knobs the "build" carries. Keep every faulty build here.
FAULTY_BUILDS: dict[str, dict[str, str]] = {
    "-slow": {"FAULT_SLOWDOWN_FACTOR": "3"},
    "-errors": {"FAULT_ERROR_RATE": "0.03"},
    "-broken": {"FAULT_NEVER_READY": "true"},
    "-crash": {"FAULT_CRASH_AT_START": "true"},
    "-leak": {"FAULT_MEMORY_GROWTH_MB_PER_S": "20"},
    # The trading canary's rehearsals: each must be caught by the trigger named after it.
    "-flip": {"FAULT_SIGNAL_FLIP": "0.2"},
    "-overtrade": {"FAULT_TRADE_MULTIPLIER": "3"},
    "-oversize": {"FAULT_ORDER_SIZE_MULTIPLIER": "10"},
    "-slippage": {"FAULT_FILL_SLIPPAGE_BPS": "50"},
    # Network I/O per request far above its baseline (guide §8.3): 20 kB more per /api/ answer.
    "-chatty": {"FAULT_RESPONSE_PADDING_BYTES": "20000"},
    # Oversized orders make a pre-trade guard fire; the ignored halt then shows in the record.
    "-nokill": {"FAULT_IGNORE_KILL_SWITCH": "true", "FAULT_ORDER_SIZE_MULTIPLIER": "10"},
    # Not a fault: a legitimately retrained model (about 97 % signal agreement with 1.0).
    "-retrained": {"BOT_MODEL": "logit-ma-1.1"},
    # Not a fault: a build much faster than the release (1 ms inference), the load baseline's
    # rehearsal: beside it the release is more than 2x slower.
    "-fast": {"BOT_SIGNAL_BASE_MS": "1"},
}

#: version -> what that release's build does differently from the reference bot's defaults.
#: The previous release is another build, not the release under another name: its inference
#: path takes 16 ms per signal where v1.2.0's takes 20 ms, so "p95 at most 2x the baseline"
#: compares two builds with their own timings. Its model decides as v1.2.0's does (the
#: trading canary compares decisions bar by bar, and a model change is declared in release.yaml).
RELEASE_BUILDS: dict[str, dict[str, str]] = {
    "v1.1.0": {"BOT_SIGNAL_BASE_MS": "16"},
}


def bot_build_env(tag: str) -> dict[str, str]:
    """The environment a reference-bot image of ``tag`` starts with: its version, its release's
    build (:data:`RELEASE_BUILDS`) and a faulty build's knobs (:data:`FAULTY_BUILDS`)."""
    env = {"BOT_VERSION": tag}
    base = tag
    knobs: dict[str, str] = {}
    for suffix, values in FAULTY_BUILDS.items():
        if tag.endswith(suffix):
            base = tag[: -len(suffix)]
            knobs.update(values)
    env.update(RELEASE_BUILDS.get(base, {}))
    env.update(knobs)
    return env


class ImagePullError(Exception):
    """The image is not in the catalog; the message is the container's waiting message."""


@dataclass(frozen=True)
class ImageSpec:
    kind: str  # "bot" | "goldgate" | "pause" | "exec"
    repository: str
    tag: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def image_id(self) -> str:
        digest = hashlib.sha256(f"{self.repository}:{self.tag}".encode()).hexdigest()
        return f"sandbox.local/{self.repository}@sha256:{digest}"


def registry_path(repository: str) -> str:
    """The repository's path inside its registry: ``registry.io/trading-bot`` → ``trading-bot``.

    The first part is a registry host when it has a dot or a port or is ``localhost``
    (the Docker reference grammar); the sandbox registry mirrors every host, as a node's
    containerd ``registry.mirrors`` entry would.
    """
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return rest
    return repository


def split_image(image: str) -> tuple[str, str]:
    """``registry.io/trading-bot:v1.3.0`` → (``registry.io/trading-bot``, ``v1.3.0``)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, "latest"


def resolve_image(image: str) -> ImageSpec:
    """Look ``image`` up in the catalog; raises :class:`ImagePullError` when unknown."""
    if not image or not image.strip():
        raise ImagePullError("image name is empty")
    repository, tag = split_image(image.strip())
    last = repository.rsplit("/", 1)[-1]
    if last.endswith(BOT_REPOSITORY_SUFFIX):
        return ImageSpec("bot", repository, tag, bot_build_env(tag))
    if last == GOLDGATE_REPOSITORY:
        return ImageSpec("goldgate", repository, tag)
    if last == "pause":
        return ImageSpec("pause", repository, tag)
    if repository in ("sandbox/exec",):
        return ImageSpec("exec", repository, tag)
    raise ImagePullError(
        f'failed to pull and unpack image "{image}": not found in the sandbox image catalog '
        "(known: <any registry>/…trading-bot:<tag>, <any registry>/goldgate:<tag>, sandbox/pause, sandbox/exec)"
    )
