"""Region failover (guide §9.1, §9.3): recovery time, data lost, manual failback, drill cadence.

Pure decisions over what :mod:`goldgate.probes.failover` measured. The RTO is the time
from failing the primary to the first paper order the global endpoint acknowledged again;
the RPO is the span of acknowledged orders the secondary no longer returns (from the
oldest missing one to the failure), in seconds of data, against ``recovery.rpo_s``. A
drill that wrote nothing before the failure proves nothing about either and is
INCONCLUSIVE, never a pass. Labels carry the thresholds in force.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from goldgate.criteria.registry import criterion
from goldgate.criteria.timing import with_duration
from goldgate.probes.failover import DataLoss, DrillRecord, Recovery, Routing
from goldgate.verdict import Evidence, Verdict


def _usable_limit(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@criterion(needs="at least one order acknowledged through the global endpoint before the failure, a finite "
                 "elapsed time, and a finite positive RTO")
def failover_within_rto(recovery: Recovery, acked_before: int, rto_s: float, served_by: str | None = None,
                        scaled: str = "") -> Verdict:
    """``scaled`` names the RTO used against the guide's 15 minutes (goldgate.durations)."""
    crit = f"region failover within the RTO ({rto_s:g} s)"
    if not _usable_limit(rto_s):
        return Verdict.error(crit, f"recovery.rto_s = {rto_s!r} is not a positive finite number of seconds")
    elapsed = recovery.elapsed_s
    ev = Evidence("http", recovery.url, window=elapsed if isinstance(elapsed, int | float) else None,
                  samples=recovery.attempts, details={"failures": dict(recovery.failures),
                                                      "deadline_s": recovery.deadline_s, "served_by": served_by,
                                                      **({"duration": scaled} if scaled else {})})
    if not isinstance(elapsed, int | float) or isinstance(elapsed, bool) or not math.isfinite(elapsed) or elapsed < 0:
        return Verdict.error(crit, f"the drill's elapsed time {elapsed!r} is not a duration", evidence=ev)
    if _count(acked_before) in (None, 0):
        return Verdict.inconclusive(crit, f"no order was acknowledged through {recovery.url or 'the global endpoint'} "
                                    "before the failure: the drill shows no recovery of a working service",
                                    threshold=rto_s, evidence=ev)
    failures = ", ".join(f"{k} x{v}" for k, v in sorted(recovery.failures.items())) or "none"
    if not recovery.recovered:
        return Verdict.failed(crit, f"> {elapsed:.1f}", rto_s,
                              with_duration(f"no order acknowledged through {recovery.url} within {elapsed:.1f} s "
                                            f"of the failure ({recovery.attempts} attempts: {failures}); RTO is "
                                            f"{rto_s:g} s", scaled), unit="s", evidence=ev)
    if served_by is not None and served_by != "secondary":
        return Verdict.failed(crit, round(elapsed, 2), rto_s,
                              f"the first order after the failure was served by the {served_by} region, not the "
                              "secondary: no failover happened", unit="s", evidence=ev)
    if elapsed > rto_s:
        return Verdict.failed(crit, round(elapsed, 2), rto_s,
                              with_duration(f"orders were acknowledged again {elapsed:.1f} s after the failure (RTO "
                                            f"{rto_s:g} s; {recovery.attempts} attempts: {failures})", scaled),
                              unit="s", evidence=ev)
    return Verdict.passed(crit, round(elapsed, 2), rto_s,
                          with_duration(f"orders acknowledged again {elapsed:.1f} s after the failure, after "
                                        f"{recovery.attempts} attempts ({failures})", scaled), unit="s", evidence=ev)


@criterion(needs="at least one acknowledged order checked after the failover and a finite positive RPO")
def data_loss_within_rpo(loss: DataLoss, rpo_s: float) -> Verdict:
    crit = f"data lost in the failover within the RPO ({rpo_s:g} s)"
    if not _usable_limit(rpo_s):
        return Verdict.error(crit, f"recovery.rpo_s = {rpo_s!r} is not a positive finite number of seconds")
    checked = _count(loss.checked)
    ev = Evidence("http", loss.url, samples=checked, details={
        "missing": [{"id": o.order_id, "client_order_id": o.client_order_id} for o in loss.missing[:20]],
        "missing_count": len(loss.missing)})
    if checked is None:
        return Verdict.error(crit, f"checked order count {loss.checked!r} is not a count", evidence=ev)
    if checked == 0:
        return Verdict.inconclusive(crit, "no acknowledged order to look for after the failover: data loss unmeasured",
                                    threshold=rpo_s, evidence=ev)
    if len(loss.missing) > checked:
        return Verdict.error(crit, f"{len(loss.missing)} missing of {checked} checked orders is impossible", evidence=ev)
    window = loss.window_s
    walls = [loss.failed_at_wall, *(o.acked_wall for o in loss.missing)]
    if not all(isinstance(w, int | float) and math.isfinite(w) and w > 0 for w in walls) or not math.isfinite(window):
        return Verdict.error(crit, f"the lost-data window {window!r} is not a duration", evidence=ev)
    if window > rpo_s:
        return Verdict.failed(crit, round(window, 2), rpo_s,
                              f"{len(loss.missing)} of {checked} acknowledged orders are missing after the failover: "
                              f"{window:.1f} s of data lost, RPO is {rpo_s:g} s", unit="s", evidence=ev)
    lost = f"{len(loss.missing)} of {checked} acknowledged orders missing ({window:.1f} s of data)" \
        if loss.missing else f"all {checked} acknowledged orders present after the failover"
    return Verdict.passed(crit, round(window, 2), rpo_s, lost, unit="s", evidence=ev)


@criterion(needs="an order written through the global endpoint after the primary returned, found in exactly one "
               "region, after waiting at least `min_wait_s` (several health-check intervals)")
def no_automatic_failback(routing: Routing, min_wait_s: float) -> Verdict:
    crit = "no automatic failback to the primary region"
    ev = Evidence("http", routing.detail, window=routing.waited_s if isinstance(routing.waited_s, int | float) else None,
                  samples=1 if routing.order else 0)
    if not _usable_limit(min_wait_s):
        return Verdict.error(crit, f"the wait {min_wait_s!r} is not a positive finite number of seconds")
    waited = routing.waited_s
    if not isinstance(waited, int | float) or isinstance(waited, bool) or not math.isfinite(waited) or waited < min_wait_s:
        return Verdict.inconclusive(crit, f"waited {waited!r} s after the primary returned, less than {min_wait_s:g} s: "
                                    "too short for the health checks to have acted", evidence=ev)
    if routing.served_by == "primary":
        return Verdict.failed(crit, "primary", "secondary",
                              f"{waited:.0f} s after the primary returned, the global endpoint sent an order to the "
                              f"primary region ({routing.detail}): it failed back by itself (guide §9.3: manual)",
                              evidence=ev)
    if routing.served_by != "secondary":
        return Verdict.inconclusive(crit, f"cannot tell which region serves: {routing.detail}", evidence=ev)
    return Verdict.passed(crit, "secondary", "secondary",
                          f"{waited:.0f} s after the primary returned the secondary still serves ({routing.detail})",
                          evidence=ev)


@criterion(needs="the audit trail read, and a finite positive maximum drill age")
def drills_recent(drills: Sequence[DrillRecord], now: dt.datetime, max_age_days: float, source: str) -> Verdict:
    crit = f"a passed failover drill within the last {max_age_days:g} days"
    if not _usable_limit(max_age_days):
        return Verdict.error(crit, f"recovery.drill_max_age_days = {max_age_days!r} is not a positive number of days")
    passed = [d for d in drills if d.outcome == "passed"]
    ev = Evidence("audit", source, samples=len(drills),
                  details={"drills": [{"at": d.at.isoformat(), "outcome": d.outcome, "run": d.run_id} for d in drills[-10:]]})
    if not passed:
        seen = f"{len(drills)} drill(s), none passed" if drills else "no failover drill at all"
        return Verdict.failed(crit, "none", f"<= {max_age_days:g} days old", f"{source}: {seen}", evidence=ev)
    if now.tzinfo is None or any(d.at.tzinfo is None for d in drills):
        return Verdict.error(crit, f"{source}: drill times and now must carry a time zone", evidence=ev)
    latest = passed[-1]
    age_days = (now - latest.at).total_seconds() / 86400
    if age_days < 0:
        return Verdict.error(crit, f"{source}: the latest drill ({latest.at.isoformat()}) is dated in the future",
                             evidence=ev)
    if age_days > max_age_days:
        return Verdict.failed(crit, round(age_days, 1), max_age_days,
                              f"{source}: the last passed drill was {latest.at:%Y-%m-%d}, {age_days:.0f} days ago",
                              unit="days", evidence=ev)
    return Verdict.passed(crit, round(age_days, 1), max_age_days,
                          f"{source}: last passed drill {latest.at:%Y-%m-%d} (run {latest.run_id or '?'})",
                          unit="days", evidence=ev)


@criterion(needs="an order acknowledged through the global endpoint after the failback and found in the primary region")
def serves_from_primary(routing: Routing) -> Verdict:
    crit = "the global endpoint serves from the primary region after the manual failback"
    ev = Evidence("http", routing.detail, samples=1 if routing.order else 0)
    if routing.order is None:
        return Verdict.failed(crit, "no order taken", "orders taken and stored in the primary region", routing.detail,
                              evidence=ev)
    if routing.served_by != "primary":
        return Verdict.failed(crit, "not in the primary region", "stored in the primary region", routing.detail,
                              evidence=ev)
    return Verdict.passed(crit, "primary", "primary", routing.detail, evidence=ev)
