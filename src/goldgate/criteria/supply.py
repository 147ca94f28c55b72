"""The release's supply chain (guide §5.1-5.3, §9.1-9.2): the image in the registry, the Git
tag, and the running configuration recovered from Git.

Three facts between independent systems, each compared here and nowhere else:

* the registry serves the release's tag, and it names the digest the running pods were
  pulled at (a tag pushed again after the rollout, or never pushed, is caught);
* the Git tag ``vX.Y.Z`` names the commit the running image was built from (its
  ``org.opencontainers.image.revision`` label);
* every field the manifests at that tag set holds the same value in the live object, the
  way ``kubectl diff`` reads it: fields the manifests do not set (defaults, status, other
  controllers' annotations) are not differences; quantities compare by amount (``1000m`` is
  ``1``). A live edit that Git does not hold means the configuration cannot be recovered
  from Git.

Pure: registry answers, commits and objects arrive as values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.spec_rules.quantity import ValueProblemError, parse_quantity
from goldgate.verdict import Evidence, Verdict

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
#: Fields the API server owns or writes back; a manifest that sets them is not compared on them.
_SERVER_FIELDS = frozenset({"resourceVersion", "uid", "generation", "creationTimestamp", "managedFields",
                            "selfLink", "status"})
_MAX_SHOWN = 5


def _digest_of(image_id: str) -> str | None:
    """The ``sha256:…`` part of a pod's ``imageID`` (``repo@sha256:…``, ``docker-pullable://…``)."""
    _, at, digest = image_id.rpartition("@")
    return digest if at and _DIGEST.match(digest) else None


@criterion(needs="the registry's answer for the release tag (a well-formed digest or no such tag) and at least "
                 "one running pod reporting the digest it was pulled at")
def image_in_registry(image: str, registry_url: str, digest: str | None, running: Mapping[str, str]) -> Verdict:
    """``running`` maps each running pod of the release to its container's ``imageID``."""
    crit = "release image in the registry at the digest the pods run"
    ev = Evidence("oci registry", f"{registry_url} {image}", samples=len(running),
                  details={"registry_digest": digest, "pods": dict(running)})
    if not image or ":" not in image.rsplit("/", 1)[-1]:
        return Verdict.error(crit, f"image {image!r} names no tag")
    if digest is None:
        return Verdict.failed(crit, "no such tag", f"{image} in the registry",
                              f"the registry {registry_url} holds no {image}: the release image was not pushed",
                              evidence=ev)
    if not _DIGEST.match(digest):
        return Verdict.error(crit, f"{registry_url}: {image} answered digest {digest!r}, not sha256:<64 hex>")
    if not running:
        return Verdict.inconclusive(crit, f"{image} is in the registry at {digest}, but no running pod of the "
                                    "release reports the digest it runs", observed=digest, evidence=ev)
    pulled = {pod: _digest_of(image_id) for pod, image_id in running.items()}
    unknown = sorted(pod for pod, d in pulled.items() if d is None)
    if unknown:
        return Verdict.inconclusive(crit, f"pods {', '.join(unknown)} report no sha256 digest in their imageID "
                                    f"({running[unknown[0]]!r})", observed=digest, evidence=ev)
    other = {pod: d for pod, d in pulled.items() if d != digest}
    if other:
        shown = "; ".join(f"{pod} runs {d}" for pod, d in sorted(other.items())[:_MAX_SHOWN])
        return Verdict.failed(crit, sorted(set(other.values())), digest,
                              f"{image} is {digest} in the registry, but {len(other)} of {len(pulled)} pods run "
                              f"another digest: {shown}", evidence=ev)
    return Verdict.passed(crit, digest, digest, f"{image} in {registry_url}; all {len(pulled)} running pods run "
                          "that digest", evidence=ev)


@criterion(needs="the commit the running image was built from (its revision label) and the repository's "
                 "answer for the tag (a commit or no such tag)")
def git_tag_at_release(tag: str, tag_commit: str | None, release_commit: str | None, repository: str,
                       source: str) -> Verdict:
    """``source`` says where ``release_commit`` was read (the image and its label)."""
    crit = f"git tag {tag} at the release commit"
    ev = Evidence("git", repository, details={"tag": tag, "tag_commit": tag_commit, "release_commit": release_commit,
                                              "release_commit_from": source})
    if not tag:
        return Verdict.error(crit, "no release version to look a tag up for")
    if not release_commit:
        return Verdict.inconclusive(crit, f"{source} says no commit (no org.opencontainers.image.revision label): "
                                    "nothing says which commit was released", evidence=ev)
    if not _COMMIT.match(release_commit):
        return Verdict.error(crit, f"{source}: revision {release_commit!r} is not a full commit hash")
    if tag_commit is None:
        return Verdict.failed(crit, "no such tag", release_commit,
                              f"{repository} has no tag {tag}; the release commit is {release_commit}", evidence=ev)
    if not _COMMIT.match(tag_commit):
        return Verdict.error(crit, f"{repository}: tag {tag} resolved to {tag_commit!r}, not a commit hash")
    if tag_commit != release_commit:
        return Verdict.failed(crit, tag_commit, release_commit,
                              f"{repository}: tag {tag} points at {tag_commit[:12]}, but the running image was "
                              f"built from {release_commit[:12]} ({source})", evidence=ev)
    return Verdict.passed(crit, tag_commit, release_commit, f"{tag} -> {tag_commit[:12]}, the commit {source} was "
                          "built from", evidence=ev)


def _quantity_equal(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return False
    try:
        return parse_quantity(want) == parse_quantity(got)
    except (ValueProblemError, TypeError, ValueError, ArithmeticError):
        return False


def _named(items: Sequence[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items)


def differences(want: Any, got: Any, path: str, out: list[tuple[str, Any, Any]]) -> int:
    """Append ``(field, in Git, live)`` for every field ``want`` sets that ``got`` does not hold.

    Returns how many leaf fields were compared. Lists of named items (containers, env,
    ports, volumes) match by name, as a strategic merge does; other lists compare whole.
    """
    if isinstance(want, dict):
        if not isinstance(got, dict):
            out.append((path, want, got))
            return 1
        count = 0
        for key, value in want.items():
            if key in _SERVER_FIELDS:
                continue
            count += differences(value, got.get(key), f"{path}.{key}" if path else str(key), out)
        return count
    if isinstance(want, list) and _named(want):
        if not isinstance(got, list):
            out.append((path, want, got))
            return 1
        live = {i.get("name"): i for i in got if isinstance(i, dict)}
        count = 0
        for item in want:
            name = item["name"]
            if name not in live:
                out.append((f"{path}[name={name}]", "present", "missing"))
                count += 1
            else:
                count += differences(item, live[name], f"{path}[name={name}]", out)
        return count
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            out.append((path, want, got))
            return 1
        return sum(differences(w, g, f"{path}[{i}]", out) for i, (w, g) in enumerate(zip(want, got, strict=True)))
    if want == got or (want is not None and got is not None and str(want) == str(got)
                       and not isinstance(want, bool) and not isinstance(got, bool)):
        return 1
    if ".resources." in f".{path}." and _quantity_equal(want, got):
        return 1
    out.append((path, want, got))
    return 1


@criterion(needs="at least one manifest at the release tag, each with its live object (or its absence)")
def config_matches_git(tag: str, repository: str, objects: Sequence[tuple[str, Mapping[str, Any], Any]]) -> Verdict:
    """``objects``: ``(kind/namespace/name, the manifest at the tag, the live object or None)``."""
    crit = f"running configuration equals Git at {tag}"
    ev_details: dict[str, Any] = {"objects": [key for key, _, _ in objects]}
    if not objects:
        return Verdict.inconclusive(crit, f"{repository}: no manifests at {tag} to recover the configuration from",
                                    evidence=Evidence("git vs live", repository, samples=0))
    found: list[tuple[str, Any, Any]] = []
    compared = 0
    for key, desired, live in objects:
        if not isinstance(desired, Mapping):
            return Verdict.error(crit, f"{repository}@{tag}: {key}: the manifest is not a mapping")
        if live is None:
            found.append((key, "present", "not found in the cluster"))
            compared += 1
            continue
        diffs: list[tuple[str, Any, Any]] = []
        compared += differences(dict(desired), live, "", diffs)
        found.extend((f"{key} {field}", want, got) for field, want, got in diffs)
    ev = Evidence("git vs live", repository, samples=compared,
                  details={**ev_details, "differences": [f"{f}: Git {w!r}, live {g!r}" for f, w, g in found[:20]]})
    if found:
        shown = "; ".join(f"{f}: Git {w!r}, live {g!r}" for f, w, g in found[:_MAX_SHOWN])
        more = f" (and {len(found) - _MAX_SHOWN} more)" if len(found) > _MAX_SHOWN else ""
        return Verdict.failed(crit, f"{len(found)} fields differ", f"0 fields differ from {tag}",
                              f"live edits not in Git: {shown}{more}", evidence=ev)
    return Verdict.passed(crit, "0 fields differ", f"0 fields differ from {tag}",
                          f"{compared} fields of {len(objects)} objects equal the manifests at {tag}", evidence=ev)
