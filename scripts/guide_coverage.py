"""The guide coverage table: every requirement line of the deployment guide, its check, its provenance.

The guide (``production-deployment-guide.md``) is the contract goldgate enforces. Which of
its lines a run measures, which rest only on what a team declared and which no check decides
at all is the first question a reviewer of a GO asks, so the answer is kept as data
(``docs/guide_coverage.yaml``, beside the guide's copy ``docs/production-deployment-guide.md``)
and README's "Guide coverage" table is generated from it between markers, the way the
environment field table is. ``tests/architecture/test_guide_coverage.py`` keeps the three in step: every
requirement line of the guide listed, every scenario named existing, the table current.

    python scripts/guide_coverage.py --write   # regenerate README's table from the YAML
    python scripts/guide_coverage.py --check   # exit 1 when the table is stale

A script rather than a module of the package: nothing at run time reads it, so it needs no
floor in the layers contract.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_FILE = ROOT / "docs" / "guide_coverage.yaml"
README_START = "<!-- guide-coverage:start -->"
README_END = "<!-- guide-coverage:end -->"
PROVENANCES = ("measured", "partly measured", "declared", "not checked")
GUIDE_FILE = ROOT / "docs" / "production-deployment-guide.md"

_SECTION = re.compile(r"^###\s+(\d+\.\d+)\s+(.*)$")
_CHECKBOX = re.compile(r"^- \[ \]\s+(.*)$")
_LABELLED = re.compile(r"^\s*- \*\*(.+?)\*\*:\s*(.*)$")
_NUMBERED = re.compile(r"^\s+(\d+)\.\s+(.*)$")
_CODE_STEP = re.compile(r"^#\s+(\d+)\.\s+(.*)$")
_CODE_BULLET = re.compile(r"^#\s+-\s+(.*)$")


@dataclass(frozen=True)
class GuideLine:
    """One requirement line of the guide: ``id`` is ``§<section>/<n>``, n counting from 1."""

    id: str
    text: str


def guide_lines(text: str) -> list[GuideLine]:
    """The guide's requirement lines, in order.

    A requirement line is a checklist item (``- [ ]``), a labelled bullet
    (``- **Label**: ...``, thresholds and triggers), a numbered process step, a numbered
    step comment of a shell block (with the commands under it) or a ``# - `` target under
    one; a code block with no numbered step (the §7.2 manifest) counts as one line.
    """
    out: list[GuideLine] = []
    section, count = "", 0
    in_code, code_lines, code_has_step = False, [], False
    step: list[str] | None = None

    def add(line: str) -> None:
        nonlocal count
        count += 1
        out.append(GuideLine(f"§{section}/{count}", " ".join(line.split())))

    def close_step() -> None:
        nonlocal step
        if step is not None:
            add(step[0] + (": " + "; ".join(step[1:]) if len(step) > 1 else ""))
        step = None

    for raw in text.splitlines():
        if raw.startswith("```"):
            if in_code:
                close_step()
                if not code_has_step and section and code_lines:
                    add(f"the {section} manifest: " + "; ".join(code_lines[:4]) + " ...")
                in_code = False
            else:
                in_code, code_lines, code_has_step = True, [], False
            continue
        if in_code:
            stripped = raw.strip()
            if m := _CODE_STEP.match(stripped):
                close_step()
                code_has_step = True
                step = [f"{m.group(1)}. {m.group(2)}"]
            elif m := _CODE_BULLET.match(stripped):
                close_step()
                add(m.group(1))
            elif stripped and not stripped.startswith("#"):
                if step is not None:
                    step.append(stripped)
                code_lines.append(stripped)
            continue
        if m := _SECTION.match(raw):
            section, count = m.group(1), 0
            continue
        if raw.startswith("## "):
            section, count = "", 0
            continue
        if not section:
            continue
        if m := _CHECKBOX.match(raw):
            add(m.group(1))
        elif m := _LABELLED.match(raw):
            if m.group(2).strip():
                add(f"{m.group(1)}: {m.group(2)}")
        elif m := _NUMBERED.match(raw):
            add(f"{m.group(1)}. {m.group(2)}")
    return out


def load_coverage(path: Path = COVERAGE_FILE) -> list[dict]:
    """The coverage entries, each checked for its fields; a bad entry is one line naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of guide lines")
    for i, entry in enumerate(data):
        where = f"{path}: entry {i + 1} ({entry.get('id', '?') if isinstance(entry, dict) else '?'})"
        if not isinstance(entry, dict) or not {"id", "text", "provenance"} <= entry.keys():
            raise ValueError(f"{where}: needs id, text and provenance")
        if entry["provenance"] not in PROVENANCES:
            raise ValueError(f"{where}: provenance {entry['provenance']!r} is not one of {PROVENANCES}")
        if entry["provenance"] != "measured" and not entry.get("why"):
            raise ValueError(f"{where}: a {entry['provenance']} line says why")
        if entry["provenance"] != "not checked" and not entry.get("checks"):
            raise ValueError(f"{where}: a {entry['provenance']} line names the checks that decide it")
    return data


def totals(entries: list[dict]) -> Counter[str]:
    return Counter(e["provenance"] for e in entries)


def _cell(text: str) -> str:
    """One table cell: on one line, its pipes escaped, and ``<x>`` shown rather than read as HTML."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _check_cell(check: str) -> str:
    if ".feature: " in check:
        feature, scenario = check.split(".feature: ", 1)
        return f"{feature.rsplit('/', 1)[-1]}: {scenario}"
    return check


def readme_table(entries: list[dict]) -> str:
    count = totals(entries)
    lines = ["Totals: " + ", ".join(f"{count[p]} {p}" for p in PROVENANCES) + f" of {len(entries)} guide lines.",
             "", "| id | guide line | check (feature: scenario) | provenance |", "|---|---|---|---|"]
    for e in entries:
        checks = "; ".join(_check_cell(c) for c in e.get("checks") or []) or "—"
        prov = e["provenance"] + (f": {e['why']}" if e.get("why") else "")
        lines.append(f"| {e['id']} | {_cell(e['text'])} | {_cell(checks)} | {_cell(prov)} |")
    return "\n".join(lines)


def readme_with_table(text: str, entries: list[dict]) -> str:
    if README_START not in text or README_END not in text:
        raise ValueError(f"README.md has no {README_START!r} ... {README_END!r} markers")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_START}\n{readme_table(entries)}\n{README_END}{tail}"


def stale(root: Path = ROOT) -> bool:
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    return readme_with_table(text, load_coverage(root / "docs" / "guide_coverage.yaml")) != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/guide_coverage.py", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate README's guide coverage table")
    mode.add_argument("--check", action="store_true", help="exit 1 when README's table is stale")
    args = parser.parse_args(argv)
    try:
        if args.write:
            readme = ROOT / "README.md"
            readme.write_text(readme_with_table(readme.read_text(encoding="utf-8"), load_coverage()),
                              encoding="utf-8")
            print(f"wrote {readme}")
            return 0
        if stale():
            print("stale: README.md guide coverage (run `python scripts/guide_coverage.py --write`)",
                  file=sys.stderr)
            return 1
        return 0
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"guide coverage: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
