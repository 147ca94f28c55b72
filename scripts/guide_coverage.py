"""The guide coverage table: every requirement line of the deployment guide, its check, its provenance.

The guide (``production-deployment-guide.md``) is the contract goldgate enforces. Which of
its lines a run measures, which rest only on what a team declared and which no check decides
at all is the first question a reviewer of a GO asks, so the answer is kept as data
(``docs/guide_coverage.yaml``, beside the guide's copy ``docs/production-deployment-guide.md``)
and README's "Guide coverage" table is generated from it between markers, the way the
environment field table is. ``tests/architecture/test_guide_coverage.py`` keeps the three in step: every
requirement line of the guide listed, every scenario named existing, the table current.

    python scripts/guide_coverage.py --write   # regenerate README's table and the packaged copy
    python scripts/guide_coverage.py --check   # exit 1 when either is stale
    python scripts/guide_coverage.py --check-verdict reports/verdict.json
                                               # exit 1 naming each line a run earned below the table

The YAML is read, and a run's verdicts rolled up per guide line, by the library
(``goldgate.report.guide_lines``), which verdict.json's ``guide_lines`` comes from; the run
reads the copy shipped in the package (``src/goldgate/report/guide_coverage.yaml``), which
``--write`` refreshes from ``docs/`` and ``--check`` holds identical. Parsing the guide
itself stays here: nothing at run time reads the guide.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the library, also when goldgate is not installed

from goldgate.report import guide_lines as rollup  # noqa: E402
from goldgate.report.guide_lines import PROVENANCES, CoverageError  # noqa: E402

COVERAGE_FILE = ROOT / "docs" / "guide_coverage.yaml"
PACKAGED_REL = rollup.PACKAGED.relative_to(rollup.PACKAGED.parents[2])  # goldgate/report/guide_coverage.yaml
README_START = "<!-- guide-coverage:start -->"
README_END = "<!-- guide-coverage:end -->"
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
    """The coverage entries, each checked for its fields (by the library's reader)."""
    return rollup.load_coverage(path)


def totals(entries: list[dict]) -> dict[str, int]:
    return rollup.totals([e["provenance"] for e in entries])


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


def packaged_copy(root: Path = ROOT) -> Path:
    """Where the package's copy of the YAML lives in a checkout (``src/`` + its package path)."""
    return root / "src" / PACKAGED_REL


def stale(root: Path = ROOT) -> bool:
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    return readme_with_table(text, load_coverage(root / "docs" / "guide_coverage.yaml")) != text


def copy_stale(root: Path = ROOT) -> bool:
    """The packaged copy differs from ``docs/guide_coverage.yaml`` (or is missing)."""
    copy = packaged_copy(root)
    source = (root / "docs" / "guide_coverage.yaml").read_bytes()
    return not copy.is_file() or copy.read_bytes() != source


def check_verdict(path: Path, coverage: Path | None = None) -> int:
    """0 when the run earned every line its table provenance, 1 naming each that fell short.

    Rolled up afresh from the run's ``tests`` and the repository's YAML (not the
    ``guide_lines`` the run wrote), so a table edited since the run is what is held to.
    """
    entries = load_coverage(coverage or COVERAGE_FILE)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CoverageError(f"{path}: cannot read the verdict file: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise CoverageError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        raise CoverageError(f"{path}: tests: expected a verdict file with a list of tests")
    if not all(isinstance(t, dict) for t in doc["tests"]):
        raise CoverageError(f"{path}: tests: every entry must be an object")
    result = rollup.rollup(entries, doc)
    for line in result["lines"]:
        if line["earned"] != line["table"]:
            print(f"{line['id']}: README says {line['table']}, the run earned {line['earned']}: {line['reason']}")
    print(f"README's table: {rollup.totals_text(result['table_totals'])}")
    print(f"this run ({path}): {rollup.totals_text(result['totals'])}")
    return 1 if result["differ"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/guide_coverage.py", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate README's guide coverage table")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 when README's table or the packaged copy of the YAML is stale")
    mode.add_argument("--check-verdict", metavar="VERDICT_JSON", type=Path,
                      help="exit 1 naming each guide line the run earned below README's table")
    args = parser.parse_args(argv)
    try:
        if args.check_verdict is not None:
            return check_verdict(args.check_verdict)
        if args.write:
            readme = ROOT / "README.md"
            readme.write_text(readme_with_table(readme.read_text(encoding="utf-8"), load_coverage()),
                              encoding="utf-8")
            packaged_copy().write_bytes(COVERAGE_FILE.read_bytes())
            print(f"wrote {readme} and {packaged_copy()}")
            return 0
        out = 0
        if stale():
            print("stale: README.md guide coverage (run `python scripts/guide_coverage.py --write`)",
                  file=sys.stderr)
            out = 1
        if copy_stale():
            print(f"stale: {packaged_copy()} differs from {COVERAGE_FILE} "
                  "(run `python scripts/guide_coverage.py --write`)", file=sys.stderr)
            out = 1
        return out
    except (OSError, ValueError) as exc:
        print(f"guide coverage: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
