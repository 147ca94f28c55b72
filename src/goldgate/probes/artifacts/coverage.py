"""Line coverage reports: Cobertura XML (coverage.py ``xml``, gcovr, JaCoCo converters) and
coverage.py's own JSON (``coverage json``).

Judged by counted lines, not by the ``line-rate`` / ``percent_covered`` summaries: a
report that measured nothing carries ``line-rate="1"`` and must read "0 lines valid",
never "100 %". In Cobertura a line is one ``<line number= hits=>`` element, counted once
per file even when several ``<class>`` elements repeat it; in coverage.py JSON it is one
entry of a file's ``executed_lines`` or ``missing_lines``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable, parse_xml, read_text, require_file


@dataclass(frozen=True)
class CoverageSummary:
    path: str
    lines_covered: int
    lines_valid: int
    weakest_files: list[tuple[str, float]] = field(default_factory=list)  # (file, covered fraction)
    reported_rate: float | None = None  # what the report's own summary claims, for the evidence only
    format: str = "cobertura"

    @property
    def percent(self) -> float | None:
        return 100.0 * self.lines_covered / self.lines_valid if self.lines_valid > 0 else None


def _weakest(per_file: dict[str, tuple[int, int]]) -> list[tuple[str, float]]:
    rates = [(name, covered / valid) for name, (covered, valid) in per_file.items() if valid]
    return sorted(rates, key=lambda f: (f[1], f[0]))[:5]


def read_cobertura(path: Path) -> CoverageSummary:
    root = parse_xml(path, "coverage report", "Cobertura")
    if root.tag != "coverage":
        raise ArtifactUnavailable(path, f"not a Cobertura report (root element <{root.tag}>, expected <coverage>)")
    lines: dict[str, dict[int, bool]] = defaultdict(dict)
    for cls in root.iter("class"):
        name = cls.get("filename") or cls.get("name") or "?"
        for line in cls.iter("line"):
            try:
                number, hits = int(line.get("number", "")), int(line.get("hits", ""))
            except ValueError:
                raise ArtifactUnavailable(path, f"{name}: <line number={line.get('number')!r} hits={line.get('hits')!r}> "
                                                "is not a pair of integers") from None
            lines[name][number] = lines[name].get(number, False) or hits > 0
    per_file = {name: (sum(hit.values()), len(hit)) for name, hit in lines.items()}
    try:
        reported = float(root.get("line-rate")) if root.get("line-rate") is not None else None
    except ValueError:
        reported = None
    return CoverageSummary(str(path), sum(c for c, _ in per_file.values()), sum(v for _, v in per_file.values()),
                           _weakest(per_file), reported, "cobertura")


def _line_list(data: dict[str, Any], key: str, where: str, path: Path) -> set[int]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(n, int) for n in value):
        raise ArtifactUnavailable(path, f"{where}.{key}: expected a list of line numbers")
    return set(value)


def read_coverage_json(path: Path) -> CoverageSummary:
    text = read_text(path, "coverage report")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ArtifactUnavailable(path, f"not valid JSON: {exc}") from None
    if not is_coverage_json(doc):
        raise ArtifactUnavailable(path, "not a coverage.py JSON report (no meta.format and files)")
    per_file: dict[str, tuple[int, int]] = {}
    for name, data in doc["files"].items():
        if not isinstance(data, dict):
            raise ArtifactUnavailable(path, f"files[{name!r}]: expected an object")
        executed = _line_list(data, "executed_lines", f"files[{name!r}]", path)
        missing = _line_list(data, "missing_lines", f"files[{name!r}]", path)
        per_file[name] = (len(executed), len(executed | missing))
    totals = doc.get("totals") if isinstance(doc.get("totals"), dict) else {}
    reported = totals.get("percent_covered")
    return CoverageSummary(str(path), sum(c for c, _ in per_file.values()), sum(v for _, v in per_file.values()),
                           _weakest(per_file), reported / 100 if isinstance(reported, int | float) else None,
                           "coverage.py json")


def is_coverage_json(doc: Any) -> bool:
    """coverage.py's JSON report: ``meta`` with a ``format`` number and a ``files`` object."""
    return (isinstance(doc, dict) and isinstance(doc.get("meta"), dict) and "format" in doc["meta"]
            and isinstance(doc.get("files"), dict))


def read_coverage(path: Path) -> CoverageSummary:
    """Either format, chosen by the file's first non-blank character."""
    require_file(path, "coverage report")
    try:
        head = path.read_bytes()[:512].lstrip()[:1]
    except OSError as exc:
        raise ArtifactUnavailable(path, f"cannot read coverage report: {exc}") from None
    return read_coverage_json(path) if head in (b"{", b"[") else read_cobertura(path)
