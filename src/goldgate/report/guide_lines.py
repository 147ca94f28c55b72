"""Guide lines a run earned: the coverage table's provenance, checked against what actually ran.

README's "Guide coverage" table (``docs/guide_coverage.yaml``) says, for each requirement
line of the deployment guide, which scenarios decide it and whether their evidence is
measured, partly measured, declared or not checked. That is a claim about the suite; a run
can fall short of it: a scenario deselected, skipped or waived decides nothing, and a
scenario whose verdicts rest on what a team declared is not a measurement, whatever the
table says. So verdict.json's ``guide_lines`` states what *this run* earned per line, with
the reason, and totals in the table's four classes; ``scripts/guide_coverage.py
--check-verdict`` fails when the two differ.

A line never earns more than its table provenance (the table's "partly" says the check
covers part of the line, however measured its verdicts), and earns less when:
- none of its scenarios ran (not in the run, skipped, waived, or ran without a verdict):
  not checked;
- none of the verdicts of its scenarios that ran is measured: declared;
- some of its scenarios did not run while others measured: partly measured.
A declared verdict beside measured ones does not lower a line: the table already names the
lines where a declared scenario (a flags file) stands beside one that measures (the flag
server), and a measured line resting only on declared criteria is refused by
``tests/architecture/test_guide_coverage.py``.

The YAML ships inside the package (``goldgate/report/guide_coverage.yaml``, a copy of the
repository's ``docs/guide_coverage.yaml`` written by ``scripts/guide_coverage.py --write``
and kept identical by its ``--check``), so a run outside the repository finds it. When it
cannot be read, ``guide_lines`` says so in one line instead of failing the run.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

PROVENANCES = ("measured", "partly measured", "declared", "not checked")
_RANK = {p: i for i, p in enumerate(reversed(PROVENANCES))}  # not checked 0 … measured 3
PACKAGED = Path(__file__).with_name("guide_coverage.yaml")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: read at the end of every run


class CoverageError(ValueError):
    """The coverage YAML cannot be read or an entry lacks what the rollup needs: one line."""


def load_coverage(path: Path = PACKAGED) -> list[dict[str, Any]]:
    """The coverage entries, each checked for its fields; a bad entry is one line naming it."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise CoverageError(f"{path}: cannot read the guide coverage: {exc.strerror or exc}") from None
    return copy.deepcopy(_load(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int, size: int) -> list[dict[str, Any]]:
    """Read once per file version: every run's verdict file rolls the same table up."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - CSafeLoader or SafeLoader
    except OSError as exc:
        raise CoverageError(f"{path}: cannot read the guide coverage: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise CoverageError(f"{path}:{where} not valid YAML") from None
    if not isinstance(data, list):
        raise CoverageError(f"{path}: expected a list of guide lines")
    for i, entry in enumerate(data):
        where = f"{path}: entry {i + 1} ({entry.get('id', '?') if isinstance(entry, dict) else '?'})"
        if not isinstance(entry, dict) or not {"id", "text", "provenance"} <= entry.keys():
            raise CoverageError(f"{where}: needs id, text and provenance")
        if entry["provenance"] not in PROVENANCES:
            raise CoverageError(f"{where}: provenance {entry['provenance']!r} is not one of {PROVENANCES}")
        if entry["provenance"] != "measured" and not entry.get("why"):
            raise CoverageError(f"{where}: a {entry['provenance']} line says why")
        if entry["provenance"] != "not checked" and not entry.get("checks"):
            raise CoverageError(f"{where}: a {entry['provenance']} line names the checks that decide it")
        checks = entry.get("checks") or []
        if not isinstance(checks, list) or not all(isinstance(c, str) and ".feature: " in c for c in checks):
            raise CoverageError(f"{where}: checks must be a list of '<feature file>: <scenario>'")
    return data


def totals(provenances: list[str]) -> dict[str, int]:
    count = Counter(provenances)
    return {p: count[p] for p in PROVENANCES}


def totals_text(counts: dict[str, int]) -> str:
    """``106 measured, 36 partly measured, 8 declared, 14 not checked of 164 guide lines``."""
    return (", ".join(f"{counts.get(p, 0)} {p}" for p in PROVENANCES)
            + f" of {sum(counts.get(p, 0) for p in PROVENANCES)} guide lines")


# ----------------------------------------------------------------------------- matching
def python_name(scenario: str) -> str:
    """The test function pytest-bdd names a scenario (``test_`` + its words), for verdict
    files written before tests carried their scenario."""
    name = re.sub(r"\W", "", scenario.replace(" ", "_"))
    return "test_" + re.sub(r"^\d+_*", "", name).lower()


def _tests_of(check: str, tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's tests of one ``"<feature file>: <scenario>"``: by the scenario each test
    records, else by pytest-bdd's function name in the feature's folder."""
    recorded = [t for t in tests if t.get("scenario")]
    if recorded:
        return [t for t in recorded if t["scenario"] == check]
    feature, scenario = check.split(".feature: ", 1)
    folder = "features/" + feature.rsplit("/", 1)[0] + "/" if "/" in feature else "features/"
    name = python_name(scenario)
    pattern = re.compile(re.escape(name) + r"(_\d+)?(\[.*\])?$")
    return [t for t in tests if str(t.get("nodeid", "")).startswith(folder)
            and pattern.match(str(t.get("nodeid", "")).rsplit("::", 1)[-1])]


def _scenario_earned(check: str, tests: list[dict[str, Any]]) -> tuple[str, str]:
    """What one scenario earned in the run, and why when it is less than measured."""
    mine = _tests_of(check, tests)
    if not mine:
        return "not checked", f"{check}: not in this run"
    ran = [t for t in mine if t.get("outcome") != "skipped"]
    if not ran:
        t = mine[0]
        why = "waived" if t.get("waiver") else "not applicable" if t.get("not_applicable") else "skipped"
        return "not checked", f"{check}: {why}: {t.get('message') or 'did not run'}"
    kinds = {str(v.get("provenance", "measured")) for t in ran for v in t.get("criteria") or []
             if isinstance(v, dict)}
    if not kinds:
        return "not checked", f"{check}: ran without a verdict"
    if "measured" in kinds:
        return "measured", ""
    return "declared", f"{check}: decided by declared verdicts only"


def line_earned(entry: dict[str, Any], tests: list[dict[str, Any]]) -> dict[str, str]:
    """One guide line: its table provenance, what the run earned, and why they differ."""
    table = entry["provenance"]
    if table == "not checked":
        return {"id": entry["id"], "table": table, "earned": table, "reason": "no check decides it"}
    per = [_scenario_earned(c, tests) for c in entry.get("checks") or []]
    got = {p for p, _ in per}
    if got == {"not checked"}:
        evidence = "not checked"
    elif "measured" not in got:
        evidence = "declared"
    elif "not checked" in got:
        evidence = "partly measured"
    else:
        evidence = "measured"
    earned = min(table, evidence, key=_RANK.__getitem__)
    reasons = "; ".join(r for _, r in per if r)
    return {"id": entry["id"], "table": table, "earned": earned,
            "reason": reasons if earned != table else (entry.get("why") or "")}


def rollup(entries: list[dict[str, Any]], doc: dict[str, Any]) -> dict[str, Any]:
    """``guide_lines`` of a verdict document: per line and totals, the table's and the run's."""
    tests = [t for t in doc.get("tests") or [] if isinstance(t, dict)]
    lines = [line_earned(e, tests) for e in entries]
    return {
        "totals": totals([line["earned"] for line in lines]),
        "table_totals": totals([line["table"] for line in lines]),
        "differ": [line["id"] for line in lines if line["earned"] != line["table"]],
        "lines": lines,
    }


def guide_lines_block(doc: dict[str, Any], path: Path = PACKAGED) -> dict[str, Any]:
    """What verdict.json carries as ``guide_lines``: the rollup, or the one line saying why not."""
    try:
        return {"source": path.name, **rollup(load_coverage(path), doc)}
    except CoverageError as exc:
        return {"error": str(exc)}


def summary_text(block: dict[str, Any] | None) -> str:
    """The end-of-run line: ``guide lines: 106 measured, … of 164 (as the table)``."""
    if not block:
        return ""
    if block.get("error"):
        return f"guide lines: not rolled up: {block['error']}"
    differ = block.get("differ") or []
    tail = "as README's table" if not differ else f"{len(differ)} below README's table: {', '.join(differ[:5])}" + (
        " …" if len(differ) > 5 else "")
    return f"guide lines: {totals_text(block.get('totals') or {})} ({tail})"
