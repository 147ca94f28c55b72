"""Backups and disaster recovery (guide §3.3, §9): RPO, restore fidelity, PITR, RTO and the
standby. Pure; "now" is an argument."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from goldgate.criteria.registry import criterion
from goldgate.criteria.timing import duration_evidence, with_duration
from goldgate.probes.database import Backup, PitrSettings, RestoreResult
from goldgate.probes.http import HttpObservation
from goldgate.probes.pg_backup import RegionCopy, Verification
from goldgate.probes.restore_drill import RestoreDrill
from goldgate.probes.wal_archive import ArchiverState
from goldgate.verdict import Evidence, Verdict


@criterion(needs="at least one dated backup and a finite positive RPO")
def latest_backup_fresh(backups: Sequence[Backup], now: dt.datetime, rpo_s: float, folder: str) -> Verdict:
    crit = "latest backup younger than the RPO"
    ev = Evidence("backups", folder, samples=len(backups))
    if not (rpo_s > 0 and rpo_s != float("inf")):
        return Verdict.error(crit, f"recovery.rpo_s = {rpo_s!r} is not a positive finite number of seconds")
    if not backups:
        return Verdict.failed(crit, "no backups", f"<= {rpo_s:g} s old", f"{folder}: no backups at all", evidence=ev)
    latest = backups[-1]
    age = (now - latest.taken_at).total_seconds()
    ev = Evidence("backups", folder, samples=len(backups), details={"latest": latest.path, "taken_at": latest.taken_at.isoformat()})
    if age <= rpo_s:
        return Verdict.passed(crit, round(age), rpo_s, f"{latest.path} taken {age / 60:.0f} min ago", unit="s", evidence=ev)
    return Verdict.failed(crit, round(age), rpo_s, f"latest backup {latest.path} is {age / 3600:.1f} h old "
                          f"(taken {latest.taken_at.isoformat()}), RPO is {rpo_s / 3600:g} h", unit="s", evidence=ev)


@criterion(needs="a successful restore with a clean integrity check, at least `min_tables` tables, and one "
                 "independent fidelity proof: the recorded sha256, the migration head, or the recorded row counts")
def restore_matches(result: RestoreResult, recorded: Mapping[str, int] | None, expected_head: str | None = None,
                    min_tables: int = 1, revisions: Collection[str] | None = None) -> Verdict:
    """The latest backup is a usable copy of the database: it restores, the database finds
    nothing wrong with it, it is not empty, and whatever the team's tooling recorded at
    backup time (checksum, row counts) or the migrated schema agrees with it.

    The schema proof: the restored ``alembic_version`` is a revision of the project's own
    migrations (``revisions``; the release's ``expected_head`` when they are unknown). A
    backup taken before this release's migrations is at an earlier revision, and that is
    fine; a revision the project does not have is not its database."""
    crit = "latest backup restores into scratch with matching row counts"
    ev = Evidence("restore", f"{result.backup} -> {result.target}", details={
        "restored": dict(result.tables), "recorded": dict(recorded or {}), "schema_head": result.schema_head,
        "expected_head": expected_head, "checksum_ok": result.checksum_ok, "integrity": result.integrity})
    if not result.ok:
        return Verdict.failed(crit, "restore failed", "restore succeeds", f"{result.backup}: {result.error}", evidence=ev)
    if result.integrity is not None and result.integrity != "ok":
        return Verdict.failed(crit, result.integrity, "ok", f"{result.backup}: integrity check: {result.integrity}", evidence=ev)
    if len(result.tables) < max(min_tables, 1):
        return Verdict.failed(crit, f"{len(result.tables)} tables", f">= {max(min_tables, 1)} tables",
                              f"{result.backup}: the restored database has {len(result.tables)} tables", evidence=ev)
    known = set(revisions or ()) | ({expected_head} if expected_head else set())
    if known and result.schema_head and not set(result.schema_head.split(",")) <= known:
        return Verdict.failed(crit, result.schema_head, f"a revision of the project's migrations (head {expected_head})",
                              f"{result.backup}: restored schema is at {result.schema_head}, not a revision of the "
                              f"project's migrations (the release's database.migration_head is {expected_head})", evidence=ev)
    schema_proof = bool(known and result.schema_head)
    if recorded:
        wrong = [f"{t}: {result.tables.get(t, 'missing')} rows restored, {n} recorded" for t, n in recorded.items()
                 if result.tables.get(t) != n]
        if wrong:
            return Verdict.failed(crit, dict(result.tables), dict(recorded), f"{result.backup}: {'; '.join(wrong)}", evidence=ev)
    proofs = [p for p, ok in (("sha256 matches", result.checksum_ok), (f"schema at {result.schema_head}", schema_proof),
                              ("row counts match", bool(recorded))) if ok]
    if not proofs:
        return Verdict.inconclusive(
            crit, f"{result.backup}: restored with integrity ok, but nothing recorded to compare it with "
                  "(no row counts, no .sha256 beside it, no migration revision of the project in it)",
            observed=dict(result.tables), evidence=ev)
    return Verdict.passed(crit, dict(result.tables), dict(recorded or {}) or proofs,
                          f"restored in {result.duration_s:.2f} s, integrity ok, {', '.join(proofs)}", evidence=ev)


@criterion(needs="the database's archiving settings (PostgreSQL), archiving on, and a base backup at least "
                 "`min_days` old")
def pitr_enabled(settings: PitrSettings, backups: Sequence[Backup], now: dt.datetime, min_days: float) -> Verdict:
    """Archiving on (wal_level >= replica, archive_mode on, a command) and a recovery window
    reaching back ``min_days``: the oldest base backup the WAL archive can replay from."""
    crit = "point-in-time recovery enabled"
    s = settings.settings
    ev = Evidence("postgresql settings", settings.source, details=dict(s))
    if not (min_days > 0 and min_days != float("inf")):
        return Verdict.error(crit, f"recovery.pitr_days = {min_days!r} is not a positive finite number of days")
    if settings.engine != "postgresql":
        return Verdict.failed(crit, f"{settings.engine}: no WAL archive", "archiving on",
                              f"{settings.source}: a {settings.engine} database has no write-ahead-log archive to "
                              f"replay, so no point-in-time recovery (need {min_days:g} days)", evidence=ev)
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


def _finite_positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")


def _archiving_off(s: Mapping[str, str]) -> list[str]:
    problems = []
    if s.get("wal_level") not in ("replica", "logical"):
        problems.append(f"wal_level = {s.get('wal_level', 'unset')} (needs replica or logical)")
    if s.get("archive_mode") not in ("on", "always"):
        problems.append(f"archive_mode = {s.get('archive_mode', 'unset')} (needs on)")
    if not s.get("archive_command") or s.get("archive_command") in ("(disabled)", "/bin/true", "true", ":"):
        problems.append(f"archive_command = {s.get('archive_command') or 'unset'}")
    return problems


@criterion(needs="the running server's archiving settings and pg_stat_archiver: archiving on, at least one "
                 "segment archived, no failure since the last success, the last success within the RPO, and a "
                 "WAL archive folder whose oldest segment reaches back the PITR window")
def wal_archiving(state: ArchiverState, rpo_s: float, window_s: float, scaled: str = "") -> Verdict:
    """Point-in-time recovery works only while the archiver keeps up: settings that say
    ``on`` are necessary, not sufficient. A failure after the last success means the
    archive stopped growing (every later transaction is outside any recovery); a last
    success older than the RPO loses more than the RPO on a restore; an archive younger
    than the window cannot replay back that far. ``scaled`` names the window used against
    the guide's 7 days."""
    crit = "point-in-time recovery: WAL archiving keeps up"
    details = {**state.settings, "archived_count": state.archived_count, "failed_count": state.failed_count,
               "last_archived_wal": state.last_archived_wal, "last_failed_wal": state.last_failed_wal,
               "last_archived_time": state.last_archived_time.isoformat() if state.last_archived_time else None,
               "last_failed_time": state.last_failed_time.isoformat() if state.last_failed_time else None,
               "archive": state.archive, "segments": state.segments, "oldest_segment": state.oldest_segment,
               "backup_histories": list(state.backup_histories)[-3:]}
    ev = (Evidence("pg_stat_archiver", state.source, details=details), *duration_evidence(scaled))
    if not _finite_positive(rpo_s):
        return Verdict.error(crit, f"recovery.rpo_s = {rpo_s!r} is not a positive finite number of seconds")
    if not _finite_positive(window_s):
        return Verdict.error(crit, f"recovery.pitr_window_s = {window_s!r} is not a positive finite number of seconds")
    problems = _archiving_off(state.settings)
    if problems:
        return Verdict.failed(crit, "archiving off", "archive_mode on with an archive_command",
                              f"{state.source}: {'; '.join(problems)}", evidence=ev)
    if state.archived_count <= 0 or state.last_archived_time is None:
        return Verdict.failed(crit, state.archived_count, "> 0 segments archived",
                              f"{state.source}: pg_stat_archiver shows no segment ever archived "
                              f"({state.failed_count} failed attempts)", evidence=ev)
    if state.last_failed_time is not None and state.last_failed_time > state.last_archived_time:
        return Verdict.failed(crit, f"failing since {state.last_failed_time.isoformat()}",
                              "no failure after the last archived segment",
                              f"{state.source}: archive_command failed on {state.last_failed_wal} at "
                              f"{state.last_failed_time.isoformat()}, after the last archived segment "
                              f"{state.last_archived_wal} at {state.last_archived_time.isoformat()} "
                              f"({state.failed_count} failures)", evidence=ev)
    behind = (state.read_at - state.last_archived_time).total_seconds()
    if behind > rpo_s:
        return Verdict.failed(crit, round(behind), rpo_s, f"{state.source}: last segment archived {behind:.0f} s ago "
                              f"({state.last_archived_wal}), more than the RPO of {rpo_s:g} s", unit="s", evidence=ev)
    if state.archive is None or state.segments is None:
        return Verdict.inconclusive(crit, f"{state.source}: archiving keeps up ({state.archived_count} segments, last "
                                    f"{behind:.0f} s ago) but no WAL archive folder (recovery.wal_archive) was read, "
                                    "so how far back a replay reaches is unknown", observed=state.archived_count,
                                    evidence=ev)
    if state.segments == 0 or state.oldest_segment_at is None:
        return Verdict.failed(crit, "empty archive", f"segments reaching back {window_s:g} s",
                              f"{state.archive}: no WAL segment in the archive although the server reports "
                              f"{state.archived_count} archived", evidence=ev)
    reach = round((state.read_at - state.oldest_segment_at).total_seconds(), 1)
    if reach < window_s and state.initialised_at is not None:
        age = round((state.read_at - state.initialised_at).total_seconds(), 1)
        if age < window_s:
            # A database younger than the window cannot have history that old: nothing is
            # lost yet, and nothing shows yet that the archive will keep the whole window.
            return Verdict.inconclusive(crit, with_duration(
                f"{state.source}: the database was initialised {age:g} s ago, less than the PITR window of "
                f"{window_s:g} s; its archive reaches back {reach:g} s", scaled), observed=reach, threshold=window_s,
                unit="s", evidence=ev)
    if reach < window_s:
        return Verdict.failed(crit, reach, window_s, with_duration(
            f"{state.archive}: oldest segment {state.oldest_segment} archived {reach:g} s ago, the window needs "
            f"{window_s:g} s", scaled), unit="s", evidence=ev)
    return Verdict.passed(crit, reach, window_s, with_duration(
        f"archive_mode {state.settings.get('archive_mode')}, {state.archived_count} segments archived, last "
        f"{behind:.0f} s ago, no failure since; {state.segments} segments in {state.archive} reaching back "
        f"{reach:g} s", scaled), unit="s", evidence=ev)


@criterion(needs="a successful restore timed against a finite positive RTO")
def restore_within_rto(result: RestoreResult, rto_s: float, scaled: str = "") -> Verdict:
    """``scaled`` names the RTO used against the guide's 15 minutes (goldgate.durations)."""
    crit = "restore of the latest backup within the RTO"
    ev = (Evidence("restore drill", f"{result.backup} -> {result.target}", window=result.duration_s),
          *duration_evidence(scaled))
    if not (rto_s > 0 and rto_s != float("inf")):
        return Verdict.error(crit, f"recovery.rto_s = {rto_s!r} is not a positive finite number of seconds")
    if not (result.duration_s >= 0 and result.duration_s != float("inf")):
        return Verdict.error(crit, f"{result.backup}: restore duration {result.duration_s!r} is not a measurement")
    if not result.ok:
        return Verdict.failed(crit, "restore failed", f"{rto_s:g} s", f"{result.backup}: {result.error}", evidence=ev)
    took = round(result.duration_s, 3)
    if took < rto_s:  # §9.1 "RTO: 15 minutes" is a recovery in less than that
        return Verdict.passed(crit, took, rto_s, with_duration(f"restored in {took:g} s", scaled), unit="s",
                              evidence=ev)
    return Verdict.failed(crit, took, rto_s, with_duration(f"restore took {took:g} s, RTO is {rto_s:g} s", scaled),
                          unit="s", evidence=ev)


@criterion(needs="a successful timed restore of at least `min_rows` generated orders, a positive restore time and "
                 "size, a finite positive production size and RTO")
def restore_rate_within_rto(drill: RestoreDrill, production_gb: float, rto_s: float, min_rows: int,
                            scaled: str = "") -> Verdict:
    """The drill's measured restore rate (bytes of restored database per second, indexes
    rebuilt) projected to the production database's size must finish inside the RTO.
    A drill too small to take real time (fewer than ``min_rows`` orders) projects noise,
    so it decides nothing. ``scaled`` names the RTO used against the guide's 15 minutes."""
    crit = "restore rate projected to the production database within the RTO"
    ev = (Evidence("restore drill", f"pg_restore into a scratch database on {drill.server}", window=drill.restore_s,
                   samples=drill.restored_rows, details={
                       "rows": drill.rows, "restored_rows": drill.restored_rows, "dump_bytes": drill.dump_bytes,
                       "restored_bytes": drill.restored_bytes, "generate_s": drill.generate_s, "dump_s": drill.dump_s,
                       "restore_s": drill.restore_s, "dump_reused": drill.dump_reused}), *duration_evidence(scaled))
    if not _finite_positive(rto_s):
        return Verdict.error(crit, f"recovery.rto_s = {rto_s!r} is not a positive finite number of seconds")
    if not _finite_positive(production_gb):
        return Verdict.error(crit, f"recovery.production_db_size_gb = {production_gb!r} is not a positive finite size")
    if not drill.ok:
        return Verdict.failed(crit, "restore failed", f"{rto_s:g} s", f"{drill.server}: {drill.error}", evidence=ev)
    if not (_finite_positive(drill.restore_s) and _finite_positive(drill.restored_bytes)):
        return Verdict.error(crit, f"{drill.server}: restore time {drill.restore_s!r} s and size "
                                   f"{drill.restored_bytes!r} bytes are not a measurement", evidence=ev)
    if drill.restored_rows < max(min_rows, 1) or drill.restored_rows != drill.rows:
        return Verdict.inconclusive(crit, f"{drill.server}: {drill.restored_rows} of {drill.rows} orders restored, "
                                    f"the drill needs {max(min_rows, 1)} to measure a rate", observed=drill.restored_rows,
                                    threshold=min_rows, evidence=ev)
    rate = drill.restored_bytes / drill.restore_s
    projected = round(production_gb * 2**30 / rate, 1)
    measured = (f"restored {drill.restored_rows:,} orders ({drill.restored_bytes / 2**20:.0f} MB) in "
                f"{drill.restore_s:g} s: {drill.rows_per_s:,.0f} rows/s, {drill.mb_per_s:.1f} MB/s; "
                f"{production_gb:g} GB at that rate takes {projected:g} s")
    if projected < rto_s:
        return Verdict.passed(crit, projected, rto_s, with_duration(f"{measured}, RTO is {rto_s:g} s", scaled),
                              unit="s", evidence=ev)
    return Verdict.failed(crit, projected, rto_s, with_duration(f"{measured}, more than the RTO of {rto_s:g} s", scaled),
                          unit="s", evidence=ev)


@criterion(needs="the primary store's latest backup with its recorded sha256, and its copy in the second region")
def backup_in_second_region(copy: RegionCopy, store: str) -> Verdict:
    """§3.3 "stored in a separate region": the latest backup exists in the second region's
    store, byte for byte (its sha256 recomputed equals the one recorded at backup time)."""
    crit = "the latest backup has a copy in the second region"
    ev = Evidence("backup stores", store, details={"backup": copy.backup, "taken_at": copy.taken_at.isoformat(),
                                                   "copy": copy.copy, "recorded_sha256": copy.recorded_sha256,
                                                   "copy_sha256": copy.copy_sha256})
    if not copy.recorded_sha256:
        return Verdict.inconclusive(crit, f"{copy.backup}: no sha256 was recorded when it was taken, so a copy "
                                    "cannot be proven identical", evidence=ev)
    if copy.copy is None:
        return Verdict.failed(crit, "no copy", f"{copy.backup} in {store}",
                              f"{store}: no copy of the latest backup {copy.backup}", evidence=ev)
    if copy.copy_sha256 != copy.recorded_sha256:
        return Verdict.failed(crit, f"sha256 {str(copy.copy_sha256)[:16]}…", f"sha256 {copy.recorded_sha256[:16]}…",
                              f"{copy.copy}: the copy differs from the backup taken", evidence=ev)
    return Verdict.passed(crit, f"sha256 {copy.recorded_sha256[:16]}…", "identical copy",
                          f"{copy.copy} identical to {copy.backup} (sha256)", evidence=ev)


@criterion(needs="at least one verification record of a real restore, a finite positive interval")
def backup_verified_recently(verifications: Sequence[Verification], now: dt.datetime, interval_s: float,
                             log: str) -> Verdict:
    """§3.3 "verified twice daily": the latest verification the backup tool logged (it
    logs only after a restore really ran) is at most ``interval_s`` old and found the row
    counts recorded at backup time."""
    crit = "backups verified by a restore at least twice a day"
    ev = Evidence("verification log", log, samples=len(verifications))
    if not _finite_positive(interval_s):
        return Verdict.error(crit, f"recovery.verify_interval_s = {interval_s!r} is not a positive finite number")
    if not verifications:
        return Verdict.failed(crit, "never verified", f"<= {interval_s:g} s ago", f"{log}: no verification recorded",
                              evidence=ev)
    last = verifications[-1]
    ev = Evidence("verification log", log, samples=len(verifications), details={
        "file": last.file, "verified_at": last.verified_at.isoformat(), "restored": last.restored,
        "recorded": last.recorded, "ok": last.ok})
    if not last.matches:
        wrong = "; ".join(f"{t}: {last.restored.get(t, 'missing')} restored, {n} recorded"
                          for t, n in last.recorded.items() if last.restored.get(t) != n) or \
            ("restore failed" if not last.ok else "no row counts recorded")
        return Verdict.failed(crit, last.restored, last.recorded, f"{log}: the latest verification of {last.file} "
                              f"at {last.verified_at.isoformat()} did not match: {wrong}", evidence=ev)
    age = (now - last.verified_at).total_seconds()
    if age < 0 or age > interval_s:
        return Verdict.failed(crit, round(age), interval_s, f"{log}: the latest verification ({last.file}) is "
                              f"{age / 3600:.1f} h old, backups must be verified every {interval_s / 3600:g} h",
                              unit="s", evidence=ev)
    return Verdict.passed(crit, round(age), interval_s, f"{last.file} restored at {last.verified_at.isoformat()} "
                          f"with the recorded row counts {last.recorded}", unit="s", evidence=ev)


@criterion(needs="an HTTP answer from the standby with status 200")
def standby_healthy(obs: HttpObservation) -> Verdict:
    crit = "the standby region answers its health check"
    if not obs.answered:
        return Verdict.failed(crit, obs.error, 200, f"{obs.url}: {obs.error}", evidence=obs.evidence())
    if obs.status != 200:
        return Verdict.failed(crit, obs.status, 200, f"{obs.url} answered {obs.status}", evidence=obs.evidence())
    return Verdict.passed(crit, obs.status, 200, f"{obs.url} healthy", evidence=obs.evidence())
