"""Dependency lock files: is every dependency pinned to one exact version?

Four formats, each read for that one question:

* pip requirement files — ``requirements.lock`` or a pip-compile ``requirements.txt``
  (``--generate-hashes`` output with continuation backslashes and ``# via`` comments):
  a requirement is pinned when it says ``name==version`` (or ``===``) without a wildcard,
  or is a VCS URL fixed to a full commit id, or a direct archive URL with a hash. A range,
  a bare name, a VCS URL on a branch or tag, a local path and ``-e`` are not. When any
  requirement carries ``--hash`` (or ``--require-hashes`` is given), every one must:
  pip's own hash-checking rule.
* ``poetry.lock`` and ``uv.lock`` (TOML, read with tomllib): versions are exact by
  construction, so what can be loose is the source — a git dependency must be resolved
  to a commit, and a path/editable dependency is not pinned at all. The project's own
  entry in ``uv.lock`` (editable or virtual ``.``, or a workspace member) is the project,
  not a dependency.

Which files to read comes from ``release.lock_files``; without it, the known names in
the project folder (:data:`KNOWN_NAMES`) are discovered.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from goldgate.probes.artifacts import ArtifactUnavailable, read_text

#: lock files looked for in the project folder when the environment names none
KNOWN_NAMES = ("requirements.lock", "requirements.txt", "poetry.lock", "uv.lock")

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PINNED = re.compile(rf"^({_NAME})\s*(\[[^\]]*\])?\s*===?\s*([^\s,;=<>!~*]+)\s*(;.*)?$")
_NAMED = re.compile(rf"^({_NAME})")
_DIRECT = re.compile(rf"^({_NAME})\s*(\[[^\]]*\])?\s*@\s*(\S+)\s*(;.*)?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")
#: pip options that take a value and are not requirements
_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
            "--find-links", "--trusted-host", "--no-index", "--pre", "--prefer-binary", "--only-binary",
            "--no-binary", "--use-feature", "--require-hashes", "--config-settings", "--global-option")


@dataclass(frozen=True)
class Requirement:
    line: int
    text: str
    pinned: bool
    hashed: bool
    problem: str = ""  # why it is not pinned, as a predicate: "<requirement> is <problem>"

    @property
    def name(self) -> str:
        m = _NAMED.match(self.text)
        return m.group(1) if m else self.text


@dataclass(frozen=True)
class LockFile:
    path: str
    requirements: list[Requirement] = field(default_factory=list)
    format: str = "requirements"
    hashes_required: bool = False  # --require-hashes given

    @property
    def uses_hashes(self) -> bool:
        return self.hashes_required or any(r.hashed for r in self.requirements)


def _vcs_pinned(url: str) -> tuple[bool, str]:
    """A VCS URL is pinned only to a full commit id after ``@`` (branches and tags move)."""
    path = urlsplit(url.split("+", 1)[1] if "+" in url else url).path
    ref = path.rsplit("@", 1)[1] if "@" in path.rsplit("/", 1)[-1] else ""
    if _COMMIT.match(ref):
        return True, ""
    return False, f"a VCS URL {'on ' + repr(ref) if ref else 'without a commit'}, not fixed to a full commit id"


def _judge_requirement(spec: str, hashed: bool) -> tuple[bool, str]:
    if spec.startswith(("-e ", "--editable")):
        return False, "an editable install, not a pinned version"
    if _PINNED.match(spec):
        return True, ""
    url = spec
    direct = _DIRECT.match(spec)
    if direct:
        url = direct.group(3)
    if url.startswith(_VCS):
        return _vcs_pinned(url)
    if "://" in url:
        archive = urlsplit(url).path.endswith(_ARCHIVE)
        if archive and (hashed or re.search(r"#(sha256|sha384|sha512)=", url)):
            return True, ""
        return False, "a URL without a hash" if archive else "a URL that is not an archive"
    if spec.startswith((".", "/", "file:")):
        return False, "a local path, not a pinned version"
    if "*" in spec:
        return False, "a wildcard version, not pinned with =="
    return False, "not pinned with =="


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Requirement lines with continuations joined and comments dropped, with their first line number."""
    out: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        line = "" if stripped.startswith("#") else re.split(r"\s+#", stripped, maxsplit=1)[0].strip()
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            out.append((start, " ".join(buffer.split())))
        buffer = ""
    if buffer.strip():
        out.append((start, " ".join(buffer.split())))
    return out


def read_requirements(path: Path) -> LockFile:
    text = read_text(path, "lock file")
    reqs: list[Requirement] = []
    require_hashes = False
    for number, line in _logical_lines(text):
        first = line.split()[0].split("=", 1)[0]
        if first in _OPTIONS:
            require_hashes = require_hashes or first == "--require-hashes"
            continue
        hashed = "--hash" in line
        spec = re.split(r"\s+--hash", line, maxsplit=1)[0].strip()
        pinned, problem = _judge_requirement(spec, hashed)
        reqs.append(Requirement(number, spec, pinned, hashed, problem))
    return LockFile(str(path), reqs, "requirements", require_hashes)


def _toml(path: Path) -> tuple[dict[str, Any], list[str]]:
    text = read_text(path, "lock file")
    try:
        return tomllib.loads(text), text.splitlines()
    except tomllib.TOMLDecodeError as exc:
        raise ArtifactUnavailable(path, f"not valid TOML: {exc}") from None


def _package_lines(lines: list[str]) -> list[int]:
    """Line numbers of the ``[[package]]`` headers, in file order."""
    return [i for i, text in enumerate(lines, start=1) if text.strip() == "[[package]]"]


def _packages(path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    packages = doc.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise ArtifactUnavailable(path, "package: expected an array of [[package]] tables")
    return packages


def read_poetry_lock(path: Path) -> LockFile:
    doc, lines = _toml(path)
    packages, where = _packages(path, doc), _package_lines(lines)
    reqs = []
    for i, pkg in enumerate(packages):
        name, version = str(pkg.get("name", "?")), pkg.get("version")
        source = pkg.get("source") if isinstance(pkg.get("source"), dict) else {}
        kind = source.get("type")
        text = f"{name}=={version}" if version else name
        pinned, problem = bool(version), "" if version else "without a version"
        if kind == "git":
            commit = str(source.get("resolved_reference") or "")
            pinned = bool(_COMMIT.match(commit))
            text = f"{name} @ git+{source.get('url')}@{commit or source.get('reference') or ''}"
            problem = "" if pinned else "a git dependency not resolved to a commit"
        elif kind in ("directory", "file") or pkg.get("develop"):
            pinned, problem = False, f"a {kind or 'path'} dependency{' (develop)' if pkg.get('develop') else ''}, not a pinned version"
            text = f"{name} @ {source.get('url', '?')}"
        reqs.append(Requirement(where[i] if i < len(where) else 0, text, pinned, bool(pkg.get("files")), problem))
    return LockFile(str(path), reqs, "poetry.lock")


def read_uv_lock(path: Path) -> LockFile:
    doc, lines = _toml(path)
    packages, where = _packages(path, doc), _package_lines(lines)
    manifest = doc.get("manifest") if isinstance(doc.get("manifest"), dict) else {}
    members = {str(m) for m in manifest.get("members", [])}
    reqs = []
    for i, pkg in enumerate(packages):
        name, version = str(pkg.get("name", "?")), pkg.get("version")
        source = pkg.get("source") if isinstance(pkg.get("source"), dict) else {}
        local = source.get("editable") or source.get("virtual")
        if local is not None and (local == "." or name in members):
            continue  # the project itself or one of its workspace members
        text, pinned, problem = f"{name}=={version}", bool(version), "" if version else "without a version"
        if "git" in source:
            url = str(source["git"])
            commit = urlsplit(url).fragment
            pinned = bool(_COMMIT.match(commit))
            text, problem = f"{name} @ git+{url}", "" if pinned else "a git dependency not resolved to a commit"
        elif local is not None or "directory" in source or "path" in source:
            kind = next(k for k in ("editable", "virtual", "directory", "path") if k in source)
            text = f"{name} @ {source[kind]}"
            article = "an" if kind == "editable" else "a"
            pinned, problem = False, f"{article} {kind} dependency, not a pinned version"
        hashed = bool(pkg.get("wheels") or pkg.get("sdist"))
        reqs.append(Requirement(where[i] if i < len(where) else 0, text, pinned, hashed, problem))
    return LockFile(str(path), reqs, "uv.lock")


def read_lock_file(path: Path) -> LockFile:
    """Any supported lock file, by its name (``*.lock`` TOML by content)."""
    if path.name == "poetry.lock":
        return read_poetry_lock(path)
    if path.name == "uv.lock":
        return read_uv_lock(path)
    return read_requirements(path)


def is_lock_file_name(name: str) -> bool:
    return name in KNOWN_NAMES or (name.startswith("requirements") and name.endswith((".txt", ".lock")))


def lock_files(project: Path, configured: Sequence[str] | None) -> list[Path]:
    """The lock files to judge: ``configured`` (relative to ``project``) or the known names found there."""
    if configured:
        paths = [Path(p) if Path(p).is_absolute() else project / p for p in configured]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ArtifactUnavailable(", ".join(missing), "lock file named in release.lock_files not found")
        return paths
    if not project.is_dir():
        raise ArtifactUnavailable(project, "project folder not found")
    found = [project / name for name in KNOWN_NAMES if (project / name).is_file()]
    if not found:
        raise ArtifactUnavailable(project, f"no lock file found (looked for {', '.join(KNOWN_NAMES)}; "
                                           "set release.lock_files to name yours)")
    return found
