"""The suite's own environment files as evidence: does each one load and validate?

The configuration check (guide §4) wants every file judged, not the first bad one, so a
file that fails is recorded with its message and the next one is still read.
"""

from __future__ import annotations

from pathlib import Path

from goldgate.config import EnvironmentFileError, load_environment
from goldgate.probes.artifacts import ArtifactUnavailable


def validate_environment_files(folder: Path) -> dict[str, str | None]:
    """``{file name: None if it validates, else the loader's message}`` for ``folder/*.yaml``."""
    if not folder.is_dir():
        raise ArtifactUnavailable(folder, "environments folder not found")
    out: dict[str, str | None] = {}
    for file in sorted(folder.glob("*.yaml")):
        try:
            load_environment(file.stem, folder)
            out[file.name] = None
        except EnvironmentFileError as exc:
            out[file.name] = str(exc)
    return out
