"""Backups and disaster recovery (guide §3.3, §9): RPO, restore fidelity, PITR, RTO and the
standby. Pure; "now" is an argument."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from goldgate.probes.database import Backup, PitrSettings, RestoreResult
from goldgate.probes.http import HttpObservation
from goldgate.verdict import Evidence, Verdict


def latest_backup_fresh(backups: Sequence[Backup], now: dt.datetime, rpo_s: float, folder: str) -> Verdict:
    crit = "latest backup younger than the RPO"
    ev = Evidence("backups", folder, samples=len(backups))
    if not backups:
        return Verdict.failed(crit, "no backups", f"<= {rpo_s:g} s old", f"{folder}: no backups at all", evidence=ev)
    latest = backups[-1]
    age = (now - latest.taken_at).total_seconds()
    ev = Evidence("backups", folder, samples=len(backups), details={"latest": latest.path, "taken_at": latest.taken_at.isoformat()})
    if age <= rpo_s:
        return Verdict.passed(crit, round(age), rpo_s, f"{latest.path} taken {age / 60:.0f} min ago", unit="s", evidence=ev)
    return Verdict.failed(crit, round(age), rpo_s, f"latest backup {latest.path} is {age / 3600:.1f} h old "
                          f"(taken {latest.taken_at.isoformat()}), RPO is {rpo_s / 3600:g} h", unit="s", evidence=ev)


def restore_matches(result: RestoreResult, recorded: Mapping[str, int] | None) -> Verdict:
    crit = "latest backup restores into scratch with matching row counts"
    ev = Evidence("restore", f"{result.backup} -> {result.target}", details={"restored": dict(result.tables),
                                                                           "recorded": dict(recorded or {})})
    if not result.ok:
        return Verdict.failed(crit, "restore failed", "restore succeeds", f"{result.backup}: {result.error}", evidence=ev)
    if not recorded:
        return Verdict.inconclusive(crit, f"{result.backup}: no row counts recorded with the backup to compare against",
                                    observed=dict(result.tables), evidence=ev)
    wrong = [f"{t}: {result.tables.get(t, 'missing')} rows restored, {n} recorded" for t, n in recorded.items()
             if result.tables.get(t) != n]
    if wrong:
        return Verdict.failed(crit, dict(result.tables), dict(recorded), f"{result.backup}: {'; '.join(wrong)}", evidence=ev)
    return Verdict.passed(crit, dict(result.tables), dict(recorded), f"restored in {result.duration_s:.2f} s", evidence=ev)


def pitr_enabled(settings: PitrSettings, backups: Sequence[Backup], now: dt.datetime, min_days: float) -> Verdict:
    """Archiving on (wal_level >= replica, archive_mode on, a command) and a recovery window
    reaching back ``min_days``: the oldest base backup the WAL archive can replay from."""
    crit = "point-in-time recovery enabled"
    s = settings.settings
    ev = Evidence("postgresql settings", settings.source, details=dict(s))
    problems = []
    if s.get("wal_level") not in ("replica", "logical"):
        problems.append(f"wal_level = {s.get('wal_level', 'unset')} (needs replica or logical)")
    if s.get("archive_mode") not in ("on", "always"):
        problems.append(f"archive_mode = {s.get('archive_mode', 'unset')} (needs on)")
    if not s.get("archive_command") or s.get("archive_command") in ("(disabled)", "/bin/true", "true"):
        problems.append(f"archive_command = {s.get('archive_command') or 'unset'}")
    if problems:
        return Verdict.failed(crit, "archiving off", "archiving on", f"{settings.source}: {'; '.join(problems)}", evidence=ev)
    bases = [b for b in backups if b.kind in ("base", "full")]
    if not bases:
        return Verdict.failed(crit, 0, min_days, "archiving on but no base backup to replay from", unit="days", evidence=ev)
    days = round((now - bases[0].taken_at).total_seconds() / 86400, 2)
    if days < min_days:
        return Verdict.failed(crit, days, min_days, f"recovery window reaches back {days:g} days (oldest base backup "
                              f"{bases[0].path}), need {min_days:g}", unit="days", evidence=ev)
    return Verdict.passed(crit, days, min_days, f"archiving on, window {days:g} days", unit="days", evidence=ev)


def restore_within_rto(result: RestoreResult, rto_s: float) -> Verdict:
    crit = "restore of the latest backup within the RTO"
    ev = Evidence("restore drill", f"{result.backup} -> {result.target}", window=result.duration_s)
    if not result.ok:
        return Verdict.failed(crit, "restore failed", f"{rto_s:g} s", f"{result.backup}: {result.error}", evidence=ev)
    took = round(result.duration_s, 3)
    if took <= rto_s:
        return Verdict.passed(crit, took, rto_s, f"restored in {took:g} s", unit="s", evidence=ev)
    return Verdict.failed(crit, took, rto_s, f"restore took {took:g} s, RTO is {rto_s:g} s", unit="s", evidence=ev)


def standby_healthy(obs: HttpObservation) -> Verdict:
    crit = "the standby region answers its health check"
    if not obs.answered:
        return Verdict.failed(crit, obs.error, 200, f"{obs.url}: {obs.error}", evidence=obs.evidence())
    if obs.status != 200:
        return Verdict.failed(crit, obs.status, 200, f"{obs.url} answered {obs.status}", evidence=obs.evidence())
    return Verdict.passed(crit, obs.status, 200, f"{obs.url} healthy", evidence=obs.evidence())
