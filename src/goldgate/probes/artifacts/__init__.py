"""CI artifacts and project files as evidence: JUnit, Cobertura, SARIF, secrets, lock files,
changelog, runbooks and the release manifest. One evidence source per module.

Every reader raises :class:`ArtifactUnavailable` naming the path and the cause when its
input is missing or unreadable; the step turns that into an ERROR verdict, never a PASS.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from goldgate import safeload


class ArtifactUnavailable(Exception):  # noqa: N818 - reads as the condition
    """The artifact could not be read; the message names the path and why."""

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = str(path)


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a readable file, else :class:`ArtifactUnavailable`."""
    if not path.exists():
        raise ArtifactUnavailable(path, f"{what} not found")
    if not path.is_file():
        raise ArtifactUnavailable(path, f"{what} is not a file")
    return path


def read_text(path: Path, what: str) -> str:
    require_file(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactUnavailable(path, f"cannot read {what}: {exc}") from None


def load_yaml(path: Path, what: str) -> Any:
    """The one YAML document of ``what`` through the safe loader; every refusal names file and cause."""
    if not safeload.exists_as_link_or_file(path):
        raise ArtifactUnavailable(path, f"{what} not found")
    try:
        return safeload.load_yaml(path)
    except safeload.LoadError as exc:
        raise ArtifactUnavailable(path, f"{what}: {exc.located_cause}") from None


def parse_xml(path: Path, what: str, kind: str) -> ET.Element:
    """The root element of the XML report ``what``; ``kind`` names the format in the error."""
    require_file(path, what)
    try:
        return ET.parse(path).getroot()  # noqa: S314
    except (ET.ParseError, LookupError) as exc:  # LookupError: a declared encoding Python does not know
        raise ArtifactUnavailable(path, f"not valid {kind} XML: {exc}") from None
