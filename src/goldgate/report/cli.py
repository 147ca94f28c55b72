"""``goldgate report`` and ``goldgate verdict``: the HTML report and the CI decision.

``goldgate report`` builds ``reports/allure-report/`` from ``reports/allure-results/`` with
the real Allure CLI, pinned in ``tools/package.json`` and installed into a project-local
``.goldgate/tools/node_modules`` (``goldgate report --install``). The previous report's
``history/`` is copied into the results first, so the trend charts grow run after run.

``goldgate verdict`` reads ``reports/verdict.json`` and exits 0 for GO, 1 for NO-GO and
3 for ROLLBACK (2 when the file is missing or unreadable): a pipeline stage that needs
only the decision calls it after pytest instead of parsing JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from goldgate.children import NpmInstallError, npm_ci

TOOLS_DIR = Path(".goldgate") / "tools"
GENERATE_TIMEOUT_S = 300
INSTALL_TIMEOUT_S = 300

EXIT_BY_DECISION = {"GO": 0, "NO-GO": 1, "ROLLBACK": 3}
EXIT_UNREADABLE = 2


class ReportError(Exception):
    """The report cannot be built; the message says what is missing and how to get it."""


def _root() -> Path:
    from goldgate.cli import project_root

    return project_root()


def find_allure(root: Path) -> Path | None:
    """GOLDGATE_ALLURE, then the project-local install, then ``allure`` on PATH."""
    explicit = os.environ.get("GOLDGATE_ALLURE")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    local = root / TOOLS_DIR / "node_modules" / ".bin" / "allure"
    if local.is_file():
        return local
    found = shutil.which("allure")
    return Path(found) if found else None


def java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


def install_allure(root: Path) -> Path:
    """``npm ci`` the pinned tools/package.json into .goldgate/tools; returns the allure binary."""
    target = root / TOOLS_DIR
    try:
        npm_ci(root / "tools", target, package="the Allure CLI (allure-commandline)", timeout_s=INSTALL_TIMEOUT_S)
    except NpmInstallError as exc:
        raise ReportError(str(exc)) from None
    binary = target / "node_modules" / ".bin" / "allure"
    if not binary.is_file():
        raise ReportError(f"npm ci succeeded but {binary} is missing")
    return binary


def carry_history(results: Path, output: Path) -> bool:
    """Copy the last report's history/ into the results, so trends span runs."""
    history = output / "history"
    if not history.is_dir():
        return False
    target = results / "history"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(history, target)
    return True


def build_report(results: Path, output: Path, *, allure: Path, timeout_s: float = GENERATE_TIMEOUT_S) -> dict[str, Any]:
    """Run ``allure generate``; returns the report's summary statistic."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportError(f"{results}: no Allure results; run pytest with --alluredir={results} first")
    if not java_available():
        raise ReportError("Java is not installed (the Allure CLI needs it): apt-get install default-jre-headless")
    carry_history(results, output)
    cmd = [str(allure), "generate", str(results), "-o", str(output), "--clean"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ReportError(f"allure generate took longer than {timeout_s:g}s") from None
    except OSError as exc:
        raise ReportError(f"cannot run {allure}: {exc.strerror}") from None
    if done.returncode != 0 or not (output / "index.html").is_file():
        raise ReportError(f"allure generate failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
    summary = output / "widgets" / "summary.json"
    try:
        return json.loads(summary.read_text(encoding="utf-8")).get("statistic", {})
    except (OSError, ValueError):
        return {}


def _report(args: argparse.Namespace) -> int:
    root = _root()
    results = Path(args.results) if Path(args.results).is_absolute() else root / args.results
    output = Path(args.output) if Path(args.output).is_absolute() else root / args.output
    try:
        allure = install_allure(root) if args.install else find_allure(root)
        if allure is None:
            raise ReportError(
                "Allure CLI not found: run `goldgate report --install` (npm ci of tools/package.json "
                f"into {TOOLS_DIR}), or set GOLDGATE_ALLURE to an allure binary"
            )
        if args.install_only:
            print(f"goldgate: Allure CLI ready at {allure}")
            return 0
        stats = build_report(results, output, allure=allure)
    except ReportError as exc:
        print(f"goldgate report: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{k} {v}" for k, v in stats.items() if v) or "no tests"
    print(f"goldgate: Allure report in {output} ({counts})")
    print(f"goldgate: open it with `{allure} open {output}` (it loads its data over HTTP, not file://)")
    return 0


def read_verdict(path: Path) -> dict[str, Any]:
    """The validated verdict file (:func:`goldgate.report.verdict_file.read_verdict_file`)."""
    from goldgate.report.verdict_file import VerdictFileError, read_verdict_file

    try:
        return read_verdict_file(path)
    except VerdictFileError as exc:
        raise ReportError(str(exc)) from None


def _verdict(args: argparse.Namespace) -> int:
    path = Path(args.file) if Path(args.file).is_absolute() else _root() / args.file
    try:
        doc = read_verdict(path)
    except ReportError as exc:
        # one line, and nothing that reads as a decision: the exit code says "unreadable"
        print(f"goldgate verdict: {exc} (no decision read; exit {EXIT_UNREADABLE})", file=sys.stderr)
        return EXIT_UNREADABLE
    decision = doc["decision"]
    waivers = doc.get("waivers", []) or []
    if args.json:
        print(json.dumps({"decision": decision, "decision_text": doc.get("decision_text", decision),
                          "reasons": doc.get("reasons", []), "not_run": doc.get("not_run", []),
                          "waivers": waivers, "not_applicable": doc.get("not_applicable", []) or [],
                          "provenance": doc.get("provenance", {})}))
    else:
        print(f"{doc.get('decision_text', decision)}: {doc.get('environment', '?')} {doc.get('version', '?')}")
        for reason in doc.get("reasons", [])[: args.max_reasons]:
            print(f"  - {reason}")
        for entry in waivers:
            w = entry.get("waiver", {})
            print(f"  waived (did not run): {entry.get('test')} — {w.get('reason')} "
                  f"(approved by {w.get('approver')}, expires {w.get('expiry')})")
        from goldgate.report.verdict_file import not_applicable_line

        for entry in doc.get("not_applicable", []) or []:
            if isinstance(entry, dict):
                print(not_applicable_line(entry))
        if doc.get("provenance"):
            from goldgate.report.verdict_file import provenance_text

            print(f"  evidence: {provenance_text(doc['provenance'])}")
        if isinstance(doc.get("guide_lines"), dict):
            from goldgate.report.guide_lines import summary_text

            print(f"  {summary_text(doc['guide_lines'])}")
    return EXIT_BY_DECISION[decision]


def register(subparsers: Any) -> None:
    rep = subparsers.add_parser("report", help="build the Allure HTML report (reports/allure-report/)")
    rep.add_argument("--results", default="reports/allure-results", help="pytest --alluredir folder")
    rep.add_argument("--output", default="reports/allure-report", help="where the HTML report goes")
    rep.add_argument("--install", action="store_true", help="install the pinned Allure CLI first (npm ci)")
    rep.add_argument("--install-only", action="store_true", help="with --install: install and stop")
    rep.set_defaults(func=_report)

    ver = subparsers.add_parser(
        "verdict", help="print reports/verdict.json's decision; exit 0 GO, 1 NO-GO, 3 ROLLBACK, 2 unreadable",
    )
    ver.add_argument("--file", default="reports/verdict.json")
    ver.add_argument("--json", action="store_true", help="print decision and reasons as JSON")
    ver.add_argument("--max-reasons", type=int, default=20)
    ver.set_defaults(func=_verdict)
