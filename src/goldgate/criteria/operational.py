"""Operational readiness (guide §1.3, §10.1, §11.2): runbooks, approvals, on-call, the
deployment window and other rollouts. Pure; "now" is always an argument."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from goldgate.criteria.registry import criterion
from goldgate.probes.artifacts.manifest import ReleaseManifest
from goldgate.probes.artifacts.runbooks import Runbook, normalise_heading
from goldgate.probes.cluster_specs import RolloutState
from goldgate.verdict import DECLARED, Evidence, Verdict


@criterion(needs="at least one required runbook subject, and for each a runbook file of the minimum length "
                 "with every heading the team declares")
def runbooks_complete(books: Mapping[str, Runbook], required: Mapping[str, Sequence[str]], folder: str,
                      subjects: Mapping[str, Sequence[str]] | None = None, min_words: int = 1) -> Verdict:
    """Every subject in ``required`` has a runbook (any of its accepted file stems in
    ``subjects``) of at least ``min_words`` words with the headings listed for it."""
    crit = "runbooks with their required sections"
    ev = Evidence("runbooks", folder, samples=len(books), details={"found": sorted(books)})
    if not required:
        return Verdict.failed(crit, "no subjects", ">= 1 runbook subject", f"{folder}: no runbook subjects required", evidence=ev)
    problems = []
    for name, sections in required.items():
        stems = [s.lower() for s in (subjects or {}).get(name) or [name]]
        book = next((books[s] for s in stems if s in books), None)
        if book is None:
            also = f" (accepted names: {', '.join(stems)})" if len(stems) > 1 else ""
            problems.append(f"{folder}/{name}.md missing{also}")
            continue
        if book.words < max(min_words, 1):
            problems.append(f"{book.path}: {book.words} words, a stub (at least {max(min_words, 1)})")
        problems += [f"{book.path}: section '{s}' missing" for s in sections
                     if normalise_heading(s) not in book.sections]
    if problems:
        return Verdict.failed(crit, f"{len(problems)} gaps", "all present", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, sorted(required), "all present", f"{len(required)} runbooks complete", evidence=ev)


@criterion(needs="a release manifest naming its author and at least `minimum` (>= 1) other approvers", provenance=DECLARED)
def approvals(m: ReleaseManifest, minimum: int) -> Verdict:
    crit = "approvals by people other than the author"
    if minimum < 1:
        return Verdict.error(crit, f"{m.path}: a minimum of {minimum} approvals reviews nothing")
    names = [a.name for a in m.approvals if a.name]
    independent = sorted(m.independent_approvers())
    ev = Evidence("release manifest", m.path, samples=len(names), details={"author": m.author, "approvals": names})
    if not m.author:
        return Verdict.failed(crit, 0, minimum, f"{m.path}: no author named, approvals cannot be judged independent", evidence=ev)
    if len(independent) >= minimum:
        return Verdict.passed(crit, len(independent), minimum, f"approved by {', '.join(independent)}", evidence=ev)
    self_note = " (the author's own approval does not count)" if m.author.lower() in (n.lower() for n in names) else ""
    return Verdict.failed(crit, len(independent), minimum,
                          f"{m.path}: {len(independent)} independent approval(s) [{', '.join(independent) or 'none'}], "
                          f"need {minimum}{self_note}", evidence=ev)


@criterion(needs="at least one on-call role, each assigned a person in the manifest", provenance=DECLARED)
def on_call(m: ReleaseManifest, roles: Sequence[str]) -> Verdict:
    crit = "on-call team assigned"
    ev = Evidence("release manifest", m.path, details={"on_call": dict(m.on_call)})
    if not roles:
        return Verdict.error(crit, f"{m.path}: no on-call roles asked for")
    missing = [r for r in roles if not m.on_call.get(r)]
    if missing:
        return Verdict.failed(crit, dict(m.on_call), list(roles), f"{m.path}: on_call.{', on_call.'.join(missing)} not assigned", evidence=ev)
    return Verdict.passed(crit, {r: m.on_call[r] for r in roles}, list(roles), "assigned", evidence=ev)


@criterion(needs="a deployment window with a start and an end containing now", provenance=DECLARED)
def inside_window(m: ReleaseManifest, now: dt.datetime) -> Verdict:
    crit = "now is inside the deployment window"
    ev = Evidence("release manifest", m.path, details={"now": now.isoformat()})
    if m.window_start is None or m.window_end is None:
        return Verdict.failed(crit, now.isoformat(), "a scheduled window", f"{m.path}: deployment_window start/end not set", evidence=ev)
    window = f"{m.window_start.isoformat()} .. {m.window_end.isoformat()}"
    if m.window_start <= now <= m.window_end:
        return Verdict.passed(crit, now.isoformat(), window, f"{(m.window_end - now).total_seconds() / 60:.0f} minutes left", evidence=ev)
    when = "opens in" if now < m.window_start else "closed"
    delta = abs((m.window_start if now < m.window_start else m.window_end) - now)
    return Verdict.failed(crit, now.isoformat(), window, f"{m.path}: deployment_window {when} {delta.total_seconds() / 3600:.1f} h {'from now' if now < m.window_start else 'ago'}", evidence=ev)


@criterion(needs="at least one Deployment read from the namespace, none mid-rollout")
def no_rollout_in_progress(states: Sequence[RolloutState], namespace: str, server: str) -> Verdict:
    crit = f"no other rollout in progress in namespace {namespace}"
    ev = Evidence("kubernetes", f"{server} deployments in {namespace}", samples=len(states))
    if not states:
        return Verdict.inconclusive(crit, f"{server}: no Deployments in {namespace} to judge", evidence=ev)
    busy = [s for s in states if s.in_progress]
    if busy:
        lines = [f"deployment/{s.name}: {s.updated}/{s.replicas} updated, {s.available} available, {s.total} total, "
                 f"generation {s.observed_generation}/{s.generation}" for s in busy]
        return Verdict.failed(crit, len(busy), 0, "; ".join(lines), evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(states)} deployments settled", evidence=ev)


@criterion(needs="a change ticket in the manifest matching the environment's non-empty pattern", provenance=DECLARED)
def change_ticket(m: ReleaseManifest, pattern: str, field: str = "policy.change_ticket.pattern") -> Verdict:
    crit = "the change is tracked by a ticket"
    ev = Evidence("release manifest", m.path, details={"change_ticket": m.change_ticket, "pattern": pattern})
    try:
        matcher = re.compile(pattern) if pattern and pattern.strip() else None
    except re.error as exc:
        return Verdict.error(crit, f"{field}: {pattern!r} is not a regular expression: {exc}")
    if matcher is None:
        return Verdict.error(crit, f"{field} is empty: no ticket form to check against")
    if m.change_ticket and matcher.fullmatch(m.change_ticket.strip()):
        return Verdict.passed(crit, m.change_ticket, pattern, "ticketed", evidence=ev)
    return Verdict.failed(crit, m.change_ticket or "none", pattern,
                          f"{m.path}: change_ticket {m.change_ticket or '(missing)'!s} does not match {pattern}", evidence=ev)


@criterion(needs="a manifest version and the version under test, equal", provenance=DECLARED)
def manifest_for_version(m: ReleaseManifest, version: str) -> Verdict:
    crit = "the release manifest is for the version under test"
    ev = Evidence("release manifest", m.path)
    if not version.strip():
        return Verdict.error(crit, f"{m.path}: no version under test to compare with")
    if m.version and m.version.removeprefix("v") == version.removeprefix("v"):
        return Verdict.passed(crit, m.version, version, "same version", evidence=ev)
    return Verdict.failed(crit, m.version or "none", version, f"{m.path}: version {m.version or '(missing)'} is not {version}", evidence=ev)
