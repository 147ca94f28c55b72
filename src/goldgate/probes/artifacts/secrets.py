"""Hardcoded credentials in a source tree, by detect-secrets, honouring its baseline.

A finding recorded in the baseline (``.secrets.baseline``: an audited false positive,
matched by file and secret hash as detect-secrets itself does) is not reported again;
anything new is. The secret values never leave this module: only type, file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable

SKIP_DIRS = {".git", "__pycache__", ".venv", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@dataclass(frozen=True)
class SecretFinding:
    type: str
    file: str
    line: int


def _files(root: Path) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name == ".secrets.baseline":
                continue
            out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


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
            for filename, entries in (data.get("results") or {}).items():
                for entry in entries:
                    known.add((filename, entry["hashed_secret"]))
        except Exception as exc:  # detect-secrets raises several kinds on a bad file
            raise ArtifactUnavailable(baseline, f"unreadable secrets baseline: {exc}") from None
    files = _files(root)
    ctx = transient_settings(config) if config else default_settings()
    with ctx:
        found = SecretsCollection(root=str(root))
        for name in files:  # one by one: scan_files would fork a pool inside pytest
            found.scan_file(name)
    new = [
        SecretFinding(secret.type, filename, secret.line_number or 0)
        for filename, secret in found
        if (filename, secret.secret_hash) not in known
    ]
    return sorted(new, key=lambda f: (f.file, f.line)), len(files)
