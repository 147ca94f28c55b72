"""Database migrations (guide §3.1/§3.2), one rule per function, each with a stable id.

``single-head``, ``upgrade``, ``reversible``, ``models-match``, ``backward-compatible``,
``descriptive-names`` (and ``migrations-prepared`` of the checklist), and
:func:`migration_applied`: the live database carries the release's migration head. Pure: the walk in
``goldgate.probes.migrations`` measured everything on a scratch database and proved it
ran there; these functions only decide. An empty history never passes anything: with
no revision there is nothing to judge, which is INCONCLUSIVE.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from goldgate.criteria.registry import criterion
from goldgate.probes.migrations.loading import MigrationScripts
from goldgate.probes.migrations.results import Walk
from goldgate.verdict import Evidence, Verdict

#: rule id -> criterion label (the label of descriptive-names carries the word count in force)
RULES = {
    "single-head": "a single migration head",
    "upgrade": "every migration upgrades from base to heads on scratch",
    "reversible": "every downgrade restores the schema its upgrade started from",
    "models-match": "the migrated schema matches the models",
    "backward-compatible": "the previous release's queries still run after the migration",
    "descriptive-names": "migration names are descriptive",
}

GENERIC_WORDS = frozenset({"update", "updates", "migration", "migrations", "change", "changes", "fix", "misc",
                           "auto", "autogenerate", "temp", "tmp", "wip", "test", "new", "rev", "revision", "initial",
                           "empty", "message", "generated"})


def _scripts_evidence(s: MigrationScripts) -> Evidence:
    return Evidence("alembic", s.project, samples=len(s.revisions), details={"heads": list(s.heads)})


def _walk_evidence(w: Walk) -> Evidence:
    return Evidence("alembic", w.project, samples=len(w.upgraded), details={
        "scratch": w.backend, "env.py connected to": w.landed, "alembic_version after the first upgrade":
        w.version_after_first, "revisions": list(w.revisions), "scratch databases used": w.scratch_databases})


def _file(path: str) -> str:
    return Path(path).name if path else "?"


def _unproven(w: Walk) -> bool:
    """A walk without the scratch proof is no evidence at all (the probe refuses to make one)."""
    return bool(w.upgraded) and not (w.landed and w.version_after_first and w.scratch_databases > 0)


@criterion(needs="a history of at least one revision")
def single_head(s: MigrationScripts) -> Verdict:
    crit, ev = RULES["single-head"], _scripts_evidence(s)
    if not s.revisions:
        return Verdict.inconclusive(crit, f"{s.project}: empty history, no revision to judge", threshold=1, evidence=ev)
    if len(s.heads) == 1:
        return Verdict.passed(crit, 1, 1, f"head {s.heads[0]}", evidence=ev)
    return Verdict.failed(crit, len(s.heads), 1, f"{len(s.heads)} heads: {', '.join(s.heads) or 'none'} "
                                                 "(join them with alembic merge)", evidence=ev)


@criterion(needs="at least one revision upgraded on scratch, with the proof that alembic_version moved there")
def upgrade_clean(w: Walk) -> Verdict:
    crit, ev, total = RULES["upgrade"], _walk_evidence(w), len(w.revisions)
    if not w.revisions:
        return Verdict.inconclusive(crit, f"{w.project}: empty history, nothing to upgrade", threshold=0, evidence=ev)
    if _unproven(w):
        return Verdict.error(crit, f"{w.project}: no proof that the migrations ran on {w.backend}", evidence=ev)
    f = w.upgrade_failure
    if f is not None:
        return Verdict.failed(crit, f"{len(w.upgraded)} of {total} upgraded", f"all {total}",
                              f"upgrade {f.revision} ({_file(f.file)}) failed: {f.cause}"
                              + (f"; not reached: {', '.join(w.not_reached[1:])}" if len(w.not_reached) > 1 else ""),
                              evidence=ev)
    if w.not_reached or len(w.upgraded) < total:
        return Verdict.inconclusive(crit, f"{len(w.not_reached)} revisions never upgraded", threshold=f"all {total}",
                                    evidence=ev)
    return Verdict.passed(crit, f"{len(w.upgraded)} of {total} upgraded", f"all {total}",
                          f"base → heads one revision at a time on {w.backend}; env.py's connection was "
                          f"{w.landed}; alembic_version held {', '.join(w.version_after_first)} after the first "
                          "upgrade", evidence=ev)


@criterion(needs="every revision upgraded, downgraded and upgraded again on scratch, schema compared each time")
def reversible(w: Walk) -> Verdict:
    crit, ev, total = RULES["reversible"], _walk_evidence(w), len(w.revisions)
    if not w.revisions:
        return Verdict.inconclusive(crit, f"{w.project}: empty history, nothing to downgrade", threshold=0, evidence=ev)
    if _unproven(w):
        return Verdict.error(crit, f"{w.project}: no proof that the migrations ran on {w.backend}", evidence=ev)
    if not w.round_trip:
        return Verdict.inconclusive(crit, "the walk ran without downgrades", threshold=0, evidence=ev)
    bad = [r for r in w.reversals if not r.ok]
    if bad:
        return Verdict.failed(crit, f"{len(bad)} not reversible", "0 not reversible",
                              "; ".join(f"{r.revision} ({_file(r.file)}): {r.problem}" for r in bad), evidence=ev)
    judged = {r.revision for r in w.reversals if r.ok}
    missing = [r for r in w.revisions if r not in judged]
    if missing:
        why = f" (upgrade of {w.upgrade_failure.revision} failed)" if w.upgrade_failure else ""
        return Verdict.inconclusive(crit, f"{len(missing)} of {total} revisions not round-tripped{why}: "
                                          f"{', '.join(missing[:5])}", threshold="0 not reversible", evidence=ev)
    return Verdict.passed(crit, "0 not reversible", "0 not reversible",
                          f"{total} revisions: each downgrade restored tables, columns, keys, indexes and "
                          f"constraints, and upgrading again gave the same schema ({w.backend})", evidence=ev)


@criterion(needs="the schema at heads on scratch and models declaring at least one table")
def models_match(w: Walk) -> Verdict:
    m, ev = w.models, _walk_evidence(w)
    crit = f"{RULES['models-match']} ({m.models})" if m else RULES["models-match"]
    if not w.revisions:
        return Verdict.inconclusive(crit, f"{w.project}: empty history, no migrated schema", threshold=0, evidence=ev)
    if _unproven(w):
        return Verdict.error(crit, f"{w.project}: no proof that the migrations ran on {w.backend}", evidence=ev)
    if w.models_error:
        return Verdict.error(crit, w.models_error, evidence=ev)
    if m is None:
        why = f"upgrade of {w.upgrade_failure.revision} failed" if w.upgrade_failure else "no models were compared"
        return Verdict.inconclusive(crit, f"no schema at heads to compare: {why}", threshold=0, evidence=ev)
    if m.tables == 0:
        return Verdict.inconclusive(crit, f"{m.models} declares no table", threshold=0, evidence=ev)
    if m.differences:
        return Verdict.failed(crit, len(m.differences), 0, f"heads vs {m.models}: {'; '.join(m.differences[:8])}",
                              evidence=ev)
    return Verdict.passed(crit, 0, 0, f"alembic's compare_metadata finds no difference between the schema at heads "
                                      f"and the {m.tables} tables of {m.models}", evidence=ev)


@criterion(needs="the schema at heads on scratch and at least one query of the previous release")
def backward_compatible(w: Walk, previous: str) -> Verdict:
    crit, r = f"{previous}'s queries still run after the migration", w.smoke
    ev = Evidence("alembic", r.sql_file if r else w.project, samples=r.statements if r else 0,
                  details={"scratch": w.backend})
    if not w.revisions:
        return Verdict.inconclusive(crit, f"{w.project}: empty history, no migrated schema", threshold=0, evidence=ev)
    if _unproven(w):
        return Verdict.error(crit, f"{w.project}: no proof that the migrations ran on {w.backend}", evidence=ev)
    if r is None:
        why = f"upgrade of {w.upgrade_failure.revision} failed" if w.upgrade_failure else "no queries were run"
        return Verdict.inconclusive(crit, f"no schema at heads to query: {why}", threshold=0, evidence=ev)
    if r.statements == 0:
        return Verdict.inconclusive(crit, f"{r.sql_file}: no SQL statement in the file", threshold=0, evidence=ev)
    if r.failures:
        return Verdict.failed(crit, f"{len(r.failures)} of {r.statements} failing", "0 failing",
                              f"{r.sql_file}: {'; '.join(r.failures[:3])}", evidence=ev)
    return Verdict.passed(crit, f"0 of {r.statements} failing", "0 failing",
                          "expand-only: the old queries run on the new schema", evidence=ev)


def _words(text: str) -> list[str]:
    words = [w for w in re.split(r"[\s_\-.,:;()]+", text.lower()) if w]
    return [w for w in words if w not in GENERIC_WORDS and not re.fullmatch(r"[0-9a-f]{6,}|\d+", w)]


def _slug(path: str, rev_id: str) -> str:
    """The words of a revision's file name, without its date and revision id."""
    return Path(path).stem.replace(rev_id, " ") if path else ""


@criterion(needs="a history of at least one revision and a word count of at least 1")
def descriptive_names(s: MigrationScripts, min_words: int) -> Verdict:
    crit = f"migration names have at least {min_words} meaningful words"
    ev = _scripts_evidence(s)
    if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 1:
        return Verdict.error(crit, f"the word count {min_words!r} is not a positive whole number", evidence=ev)
    if not s.revisions:
        return Verdict.inconclusive(crit, f"{s.project}: empty history, no name to judge", threshold=min_words,
                                    evidence=ev)
    bad = []
    for r in s.revisions:
        # the message says what the revision does; without one, the file name has to
        words = _words(r.message) if r.message.strip() else _words(_slug(r.path, r.id))
        if len(words) < min_words:
            bad.append(f"{r.id} '{r.message}' ({_file(r.path)}): {len(words)} meaningful words")
    if bad:
        return Verdict.failed(crit, len(bad), 0, f"need {min_words} words: " + "; ".join(bad), evidence=ev)
    return Verdict.passed(crit, [r.message for r in s.revisions], f">= {min_words} words",
                          "every revision says what it does", evidence=ev)


@criterion(needs="a history of at least one revision and the release manifest's declared head")
def migrations_prepared(s: MigrationScripts, declared: str | None, manifest: str) -> Verdict:
    crit = "database migrations prepared"
    ev = Evidence("alembic", s.project, details={"heads": s.heads, "declared": declared})
    if not s.revisions:
        return Verdict.inconclusive(crit, f"{s.project}: empty history", threshold=declared, evidence=ev)
    if not declared:
        return Verdict.failed(crit, s.heads, "declared head", f"{manifest}: database.migration_head not set",
                              evidence=ev)
    if s.heads == [declared]:
        return Verdict.passed(crit, declared, declared, "the release's migration is the single head", evidence=ev)
    return Verdict.failed(crit, s.heads, declared, f"{manifest} declares migration head {declared}, the scripts "
                                                   f"have {', '.join(s.heads) or 'none'}", evidence=ev)


class AppliedMigrationLike(Protocol):
    """What :mod:`goldgate.probes.applied_migration` read from the live database."""

    source: str
    has_version_table: bool
    committed_at: dt.datetime | None
    commit_note: str

    @property
    def revision(self) -> str | None: ...


def _commit_text(applied: AppliedMigrationLike) -> str:
    when = getattr(applied, "committed_at", None)
    if isinstance(when, dt.datetime):
        return f"committed at {when.isoformat(timespec='seconds')}"
    return f"commit time unknown ({getattr(applied, 'commit_note', '') or 'not read'})"


def applied_evidence(applied: AppliedMigrationLike) -> Evidence:
    """The live database's migration as evidence: source, revision, commit time or why unknown."""
    when = getattr(applied, "committed_at", None)
    return Evidence("alembic_version", str(getattr(applied, "source", "")), details={
        "revision": getattr(applied, "revision", None),
        "committed_at": when.isoformat() if isinstance(when, dt.datetime) else "unknown",
        "commit_note": getattr(applied, "commit_note", "")})


@criterion(needs="the live database's alembic_version as read, and the release's migration head (release.yaml's "
                 "database.migration_head, else the scripts' single head)")
def migration_applied(applied: AppliedMigrationLike | None, declared: str | None, heads: Sequence[str] = (), *,
                      manifest: str = "release.yaml",
                      criterion: str = "the release's migration is applied to the database it runs on") -> Verdict:
    """Guide §3.2: the database the release runs on carries the release's migration.

    A release running on a schema behind its migration (never migrated, or stopped at an
    earlier revision) is a measured breach: FAIL naming both revisions. The head comes from
    the release manifest; without one, from the scripts when they have a single head; with
    neither there is nothing to compare (ERROR).
    """
    head_list = [h for h in heads if isinstance(h, str) and h] if isinstance(heads, list | tuple) else []
    target = declared if isinstance(declared, str) and declared else (head_list[0] if len(head_list) == 1 else None)
    if applied is None or not hasattr(applied, "has_version_table"):
        return Verdict.inconclusive(criterion, "no reading of the live database's migration", threshold=target)
    ev = applied_evidence(applied)
    kw = {"evidence": (ev, Evidence("alembic", manifest, details={"declared": declared, "heads": head_list}))}
    if target is None:
        return Verdict.error(criterion, f"{manifest}: database.migration_head is not set and the scripts have "
                                        f"{len(head_list)} heads: no release migration to compare with", **kw)
    if not applied.has_version_table:
        return Verdict.failed(criterion, "no alembic_version", target,
                              f"{applied.source} was never migrated (no alembic_version table); the release's "
                              f"migration head is {target}", **kw)
    live = applied.revision
    if not live:
        return Verdict.failed(criterion, "base (alembic_version empty)", target,
                              f"{applied.source} is at base; the release's migration head is {target}", **kw)
    if live != target:
        return Verdict.failed(criterion, live, target, f"{applied.source} runs revision {live}, the release's "
                                                       f"migration head is {target}: the release runs on a schema "
                                                       "that is not its own", **kw)
    return Verdict.passed(criterion, live, target, f"{applied.source} is at {live}, {_commit_text(applied)}", **kw)
