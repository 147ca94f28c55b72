"""Database migrations (guide §3.1/§3.2): one head, reversible, round-trip clean,
backward compatible, descriptive names, and the schema the bot expects. Pure."""

from __future__ import annotations

import re
from pathlib import Path

from goldgate.probes.migrations import MigrationScripts, RoundTrip, SmokeResult
from goldgate.verdict import Evidence, Verdict

GENERIC_WORDS = frozenset({"update", "updates", "migration", "migrations", "change", "changes", "fix", "misc",
                           "auto", "autogenerate", "temp", "tmp", "wip", "test", "new", "rev", "revision", "initial"})


def single_head(s: MigrationScripts) -> Verdict:
    crit = "a single migration head"
    ev = Evidence("alembic", f"{s.project}/migrations", samples=len(s.revisions))
    if len(s.heads) == 1:
        return Verdict.passed(crit, 1, 1, f"head {s.heads[0]}", evidence=ev)
    return Verdict.failed(crit, len(s.heads), 1, f"{len(s.heads)} heads: {', '.join(s.heads) or 'none'}", evidence=ev)


def every_revision_has_downgrade(s: MigrationScripts) -> Verdict:
    crit = "every migration has a downgrade"
    ev = Evidence("alembic", f"{s.project}/migrations", samples=len(s.revisions))
    missing = [f"{r.id} ({r.path}:{r.downgrade_line or 0})" for r in s.revisions if not r.has_downgrade]
    if missing:
        return Verdict.failed(crit, len(missing), 0, f"no working downgrade() in {', '.join(missing)}", evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(s.revisions)} revisions reversible", evidence=ev)


def round_trip_clean(t: RoundTrip) -> Verdict:
    crit = "upgrade, downgrade to base and upgrade again on scratch"
    ev = Evidence("alembic", t.backend, samples=len(t.steps), details={"steps": t.steps})
    if t.failure:
        return Verdict.failed(crit, "failed", "clean round trip", f"{t.backend}: {t.failure}", evidence=ev)
    return Verdict.passed(crit, f"{len(t.steps)} steps", "clean round trip", " → ".join(t.steps), evidence=ev)


def backward_compatible(r: SmokeResult, previous: str) -> Verdict:
    crit = f"{previous}'s queries still run after the migration"
    ev = Evidence("alembic", r.sql_file, samples=r.statements)
    if r.failures:
        return Verdict.failed(crit, f"{len(r.failures)} failing", "0 failing", f"{r.sql_file}: {'; '.join(r.failures[:3])}", evidence=ev)
    return Verdict.passed(crit, f"{r.statements} statements ok", "0 failing", "expand-only: old queries run on the new schema", evidence=ev)


def descriptive_names(s: MigrationScripts, min_words: int) -> Verdict:
    crit = "migration names are descriptive"
    ev = Evidence("alembic", f"{s.project}/migrations", samples=len(s.revisions))
    bad = []
    for r in s.revisions:
        words = [w for w in re.split(r"[\s_\-]+", r.message.lower()) if w]
        meaningful = [w for w in words if w not in GENERIC_WORDS and not re.fullmatch(r"[0-9a-f]{6,}|\d+", w)]
        slug = Path(r.path).stem
        if len(meaningful) < min_words:
            bad.append(f"{r.id} '{r.message}' ({slug}.py): {len(meaningful)} meaningful words, need {min_words}")
    if bad:
        return Verdict.failed(crit, len(bad), 0, "; ".join(bad), evidence=ev)
    return Verdict.passed(crit, [r.message for r in s.revisions], f">= {min_words} words", "every revision says what it does", evidence=ev)


def schema_matches(differences: list[str], backend: str, table_source: str) -> Verdict:
    crit = "migrations at head produce the schema the bot defines"
    ev = Evidence("alembic", backend, details={"reference": table_source, "differences": differences})
    if differences:
        return Verdict.failed(crit, f"{len(differences)} differences", "identical", f"head vs {table_source}: {'; '.join(differences[:6])}", evidence=ev)
    return Verdict.passed(crit, "identical", "identical", f"head matches {table_source}", evidence=ev)


def migrations_prepared(s: MigrationScripts, declared: str | None, manifest: str) -> Verdict:
    crit = "database migrations prepared"
    ev = Evidence("alembic", f"{s.project}/migrations", details={"heads": s.heads, "declared": declared})
    if not declared:
        return Verdict.failed(crit, s.heads, "declared head", f"{manifest}: database.migration_head not set", evidence=ev)
    if s.heads == [declared]:
        return Verdict.passed(crit, declared, declared, "the release's migration is the single head", evidence=ev)
    return Verdict.failed(crit, s.heads, declared, f"{manifest} declares migration head {declared}, the scripts have {', '.join(s.heads) or 'none'}", evidence=ev)
