"""``goldgate audit verify|show``: prove the audit trail untouched, or read it.

``verify`` exits 0 when every record's hash, the chain and the sequence hold, 1 when a
record was edited, removed or reordered, 2 when the file cannot be read. Damage is summarised
in one line (how many problems of which kind) followed by the first broken record, so a
binary or truncated file gives two lines, not one per line of it; ``--all`` lists every
problem. With ``--postgres env:VAR`` it also checks that the PostgreSQL copy holds
the same records — the only way to notice the last record removed, or the whole file
rewritten with a fresh chain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from goldgate import safeload
from goldgate.report import audit
from goldgate.report.redact import redact


def _path(value: str) -> Path:
    from goldgate.cli import project_root

    path = Path(value)
    return path if path.is_absolute() else project_root() / path


def compare_with_postgres(records: list[dict[str, Any]], stored: list[dict[str, Any]]) -> list[str]:
    """Differences between the file and its PostgreSQL copy, by run_id and record_hash."""
    problems = []
    in_file = {r.get("run_id"): r for r in records}
    for row in stored:
        mine = in_file.get(row.get("run_id"))
        if mine is None:
            problems.append(f"record seq {row.get('seq')} (run {row.get('run_id')}) is in PostgreSQL but not in the file: removed")
        elif mine.get("record_hash") != row.get("record_hash"):
            problems.append(f"record seq {row.get('seq')} differs from its PostgreSQL copy: edited")
    return problems


def _verify(args: argparse.Namespace) -> int:
    path = _path(args.file)
    try:
        count, problems = audit.verify(path)
    except safeload.LoadError as exc:
        print(f"goldgate audit: {exc}", file=sys.stderr)
        return 2
    messages = [str(p) for p in problems]
    if args.postgres:
        from goldgate.config import SecretResolutionError, resolve_secret

        try:
            stored = audit.PostgresAuditSink(resolve_secret(args.postgres)).read_all()
        except SecretResolutionError as exc:
            print(f"goldgate audit: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # any driver error: say which, never a traceback with a URL
            print(redact(f"goldgate audit: cannot read the PostgreSQL copy: {type(exc).__name__}: {exc}"), file=sys.stderr)
            return 2
        messages += compare_with_postgres(audit.read_records(path), stored)
    if messages:
        print(f"goldgate audit: {path}: TAMPERED — {len(messages)} problem(s) in {count} record(s) "
              f"({damage_summary(messages)})" + (":" if args.all else "; the first:"))
        for message in messages if args.all else messages[:1]:
            print(f"  {message}")
        return 1
    print(f"goldgate audit: {path}: OK — {count} record(s), hash chain intact")
    return 0


_KINDS = (("not a JSON record", "unreadable"), ("empty line", "empty"), ("removed", "removed"),
          ("reordered", "reordered"), ("appears twice", "duplicated"), ("edited", "edited"))


def damage_summary(messages: list[str]) -> str:
    """``3 unreadable, 1 edited``: how many problems of each kind, in one phrase."""
    counts: dict[str, int] = {}
    for message in messages:
        kind = next((label for word, label in _KINDS if word in message), "other")
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def _show(args: argparse.Namespace) -> int:
    path = _path(args.file)
    try:
        records = audit.read_records(path)
    except safeload.LoadError as exc:
        print(f"goldgate audit: {exc}", file=sys.stderr)
        return 2
    for rec in records[-args.last:] if args.last else records:
        if args.json:
            print(json.dumps(rec, sort_keys=True))
            continue
        who, what, where, why, status = (rec.get(k, {}) for k in ("who", "what", "where", "why", "status"))
        print(
            f"#{rec.get('seq')} {rec.get('recorded_at', '')} {status.get('decision', '?'):8} "
            f"{where.get('environment', '?')}/{where.get('namespace', '?')} {what.get('version', '?')} "
            f"by {who.get('user', '?')} ({who.get('via', '?')}) change={why.get('change') or '-'} "
            f"actions={len(rec.get('actions', []))}"
        )
    return 0


def register(subparsers: Any) -> None:
    aud = subparsers.add_parser("audit", help="the deployment audit trail (reports/audit.jsonl)")
    sub = aud.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True
    ver = sub.add_parser("verify", help="check the hash chain; names any edited, removed or reordered record")
    ver.add_argument("--file", default="reports/audit.jsonl")
    ver.add_argument("--postgres", default=None, metavar="REF",
                     help="also compare with the PostgreSQL copy (a reference like env:AUDIT_DATABASE_URL)")
    ver.add_argument("--all", action="store_true", help="list every problem, not only the first")
    ver.set_defaults(func=_verify)
    show = sub.add_parser("show", help="one line per run: when, decision, where, version, who, change")
    show.add_argument("--file", default="reports/audit.jsonl")
    show.add_argument("--last", type=int, default=0, help="only the last N records")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
