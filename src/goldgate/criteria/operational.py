"""Operational readiness (guide §1.3, §10.1, §11.2): runbooks, approvals, on-call, the
deployment window and other rollouts. Pure; "now" is always an argument."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from goldgate.probes.artifacts.manifest import ReleaseManifest
from goldgate.probes.artifacts.runbooks import Runbook
from goldgate.probes.cluster_specs import RolloutState
from goldgate.verdict import Evidence, Verdict


def runbooks_complete(books: Mapping[str, Runbook], required: Mapping[str, Sequence[str]], folder: str) -> Verdict:
    crit = "runbooks with their required sections"
    ev = Evidence("runbooks", folder, samples=len(books), details={"found": sorted(books)})
    problems = []
    for name, sections in required.items():
        book = books.get(name.lower())
        if book is None:
            problems.append(f"{folder}/{name}.md missing")
            continue
        problems += [f"{book.path}: section '{s}' missing" for s in sections if s.lower() not in book.sections]
    if problems:
        return Verdict.failed(crit, f"{len(problems)} gaps", "all present", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, sorted(required), "all present", f"{len(required)} runbooks complete", evidence=ev)


def approvals(m: ReleaseManifest, minimum: int) -> Verdict:
    crit = "approvals by people other than the author"
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


def on_call(m: ReleaseManifest, roles: Sequence[str]) -> Verdict:
    crit = "on-call team assigned"
    ev = Evidence("release manifest", m.path, details={"on_call": dict(m.on_call)})
    missing = [r for r in roles if not m.on_call.get(r)]
    if missing:
        return Verdict.failed(crit, dict(m.on_call), list(roles), f"{m.path}: on_call.{', on_call.'.join(missing)} not assigned", evidence=ev)
    return Verdict.passed(crit, {r: m.on_call[r] for r in roles}, list(roles), "assigned", evidence=ev)


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
    return Verdict.failed(crit, now.isoformat(), window, f"{m.path}: window {when} {delta.total_seconds() / 3600:.1f} h {'from now' if now < m.window_start else 'ago'}", evidence=ev)


def no_rollout_in_progress(states: Sequence[RolloutState], namespace: str, server: str) -> Verdict:
    crit = f"no other rollout in progress in namespace {namespace}"
    ev = Evidence("kubernetes", f"{server} deployments in {namespace}", samples=len(states))
    busy = [s for s in states if s.in_progress]
    if busy:
        lines = [f"deployment/{s.name}: {s.updated}/{s.replicas} updated, {s.available} available, {s.total} total, "
                 f"generation {s.observed_generation}/{s.generation}" for s in busy]
        return Verdict.failed(crit, len(busy), 0, "; ".join(lines), evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(states)} deployments settled", evidence=ev)


def change_ticket(m: ReleaseManifest, pattern: str) -> Verdict:
    crit = "the change is tracked by a ticket"
    ev = Evidence("release manifest", m.path, details={"change_ticket": m.change_ticket})
    if m.change_ticket and re.fullmatch(pattern, m.change_ticket):
        return Verdict.passed(crit, m.change_ticket, pattern, "ticketed", evidence=ev)
    return Verdict.failed(crit, m.change_ticket or "none", pattern,
                          f"{m.path}: change_ticket {m.change_ticket or '(missing)'!s} does not match {pattern}", evidence=ev)


def manifest_for_version(m: ReleaseManifest, version: str) -> Verdict:
    crit = "the release manifest is for the version under test"
    ev = Evidence("release manifest", m.path)
    if m.version.removeprefix("v") == version.removeprefix("v"):
        return Verdict.passed(crit, m.version, version, "same version", evidence=ev)
    return Verdict.failed(crit, m.version or "none", version, f"{m.path}: version {m.version or '(missing)'} is not {version}", evidence=ev)
