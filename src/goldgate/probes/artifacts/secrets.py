"""Hardcoded credentials in a source tree, by detect-secrets, honouring its baseline.

What is scanned is what would ship: in a git checkout, the files git does not ignore
(``git ls-files --cached --others --exclude-standard``, so build output, virtualenvs and
caches listed in ``.gitignore`` are skipped, while a committed file is scanned even if a
pattern matches it); elsewhere, everything except :data:`DEFAULT_SKIP` (build/, dist/,
virtualenvs, caches). A finding recorded in the baseline (``.secrets.baseline``: an
audited false positive) is matched by its hashed secret and type, so moving the audited
line to another file does not make it new. The secret values never leave this module:
only type, file and line.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable

#: folders skipped when the tree is not a git checkout (git's own ignore rules win otherwise)
DEFAULT_SKIP = (".git", "__pycache__", ".venv", "venv", "env", "node_modules", "build", "dist", ".eggs",
                "*.egg-info", ".tox", ".nox", ".pytest_cache", ".mypy_cache", ".ruff_cache", "htmlcov")
GIT_TIMEOUT_S = 30


@dataclass(frozen=True)
class SecretFinding:
    type: str
    file: str
    line: int


def _walk(root: Path) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not any(fnmatch.fnmatch(d, pat) for pat in DEFAULT_SKIP)]
        out += [os.path.relpath(os.path.join(folder, name), root) for name in files]
    return out


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run([git, *args], cwd=root, capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _git_files(root: Path) -> list[str] | None:
    """Files git would ship from ``root``; None when ``root`` is not inside a usable checkout."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != b"true":
        return None
    ignored = _git(root, "check-ignore", "-q", ".")
    if ignored is not None and ignored.returncode == 0:
        return None  # the whole tree is ignored by an outer checkout: judge it on its own
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None or listed.returncode != 0:
        return None
    names = [n for n in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    return [n for n in names if (root / n).is_file()]


def source_files(root: Path) -> list[str]:
    """Relative paths of the files to scan, without the baseline itself."""
    files = _git_files(root)
    if files is None:
        files = _walk(root)
    return sorted(f for f in files if Path(f).name != ".secrets.baseline")


def scan_tree(root: Path, baseline: Path | None) -> tuple[list[SecretFinding], int]:
    """New findings (not in the baseline) and the number of files scanned."""
    from detect_secrets.core import baseline as ds_baseline
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings, transient_settings

    if not root.is_dir():
        raise ArtifactUnavailable(root, "source tree not found")
    known: set[tuple[str, str]] = set()
    config = None
    if baseline is not None:
        if not baseline.is_file():
            raise ArtifactUnavailable(baseline, "secrets baseline not found")
        try:
            data = ds_baseline.load_from_file(str(baseline))
            config = {"plugins_used": data["plugins_used"], "filters_used": data.get("filters_used", [])}
            for entries in (data.get("results") or {}).values():
                for entry in entries:
                    known.add((entry["hashed_secret"], entry["type"]))
        except Exception as exc:  # detect-secrets raises several kinds on a bad file
            raise ArtifactUnavailable(baseline, f"unreadable secrets baseline: {exc}") from None
    files = source_files(root)
    ctx = transient_settings(config) if config else default_settings()
    with ctx:
        found = SecretsCollection(root=str(root))
        for name in files:  # one by one: scan_files would fork a pool inside pytest
            found.scan_file(name)
    new = [
        SecretFinding(secret.type, filename, secret.line_number or 0)
        for filename, secret in found
        if (secret.secret_hash, secret.type) not in known
    ]
    return sorted(new, key=lambda f: (f.file, f.line)), len(files)
