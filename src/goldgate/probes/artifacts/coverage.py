"""Cobertura XML coverage reports (coverage.py ``xml``, JaCoCo converters, gcovr...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable, parse_xml


@dataclass(frozen=True)
class CoverageSummary:
    path: str
    line_rate: float
    lines_covered: int | None
    lines_valid: int | None
    weakest_files: list[tuple[str, float]] = field(default_factory=list)


def read_cobertura(path: Path) -> CoverageSummary:
    root = parse_xml(path, "coverage report", "Cobertura")
    if root.tag != "coverage" or root.get("line-rate") is None:
        raise ArtifactUnavailable(path, "not a Cobertura report (no <coverage line-rate=...>)")
    try:
        rate = float(root.get("line-rate", ""))
        covered = int(root.get("lines-covered")) if root.get("lines-covered") else None
        valid = int(root.get("lines-valid")) if root.get("lines-valid") else None
    except ValueError as exc:
        raise ArtifactUnavailable(path, f"unparsable coverage totals: {exc}") from None
    files = [(c.get("filename", "?"), float(c.get("line-rate", "0"))) for c in root.iter("class")]
    files.sort(key=lambda f: f[1])
    return CoverageSummary(str(path), rate, covered, valid, files[:5])
