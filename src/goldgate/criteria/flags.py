"""Guide §4.2 feature flags, judged on what the flag server and the pods show. Pure.

The release's ``flags.yaml`` says what a team intends; these criteria read what holds: the
flags the server has (every feature the changelog adds needs one), its ``stale`` markers and
the flags' ages (cleanup), its client metrics (usage tracked, by the release's own pods),
the pods' behaviour while a flag is off (the kill switch works without redeployment), and
the split of an A/B flag's evaluations between its variants.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

from goldgate.criteria.changelog_flags import named_flag, new_features
from goldgate.criteria.registry import criterion
from goldgate.probes.artifacts.changelog import ChangelogEntry
from goldgate.probes.feature_pods import KillSwitchRun
from goldgate.probes.flag_variants import VariantWindow
from goldgate.probes.flags import FlagUsage, ServerFlag
from goldgate.verdict import Evidence, Status, Verdict


@criterion(needs="the release's changelog entry and the server's flags of the project")
def features_on_server(entry: ChangelogEntry | None, flags: Sequence[ServerFlag], changelog: str, server: str,
                       section: str = "Features") -> Verdict:
    """Every feature the release's changelog adds names a flag the server holds as a kill switch."""
    crit = "every new feature has a flag on the flag server"
    ev = Evidence("unleash", server, samples=len(flags), details={"flags": sorted(f.name for f in flags)})
    if entry is None:
        return Verdict.failed(crit, "no changelog entry", "a flag per feature",
                              f"{changelog}: no entry for the release, its features are unknown", evidence=ev)
    features = new_features(entry, section)
    if not features:
        return Verdict.inconclusive(crit, f"{changelog}:{entry.line}: the release adds no feature to look up",
                                    evidence=ev)
    by_name = {f.name: f for f in flags}
    problems = []
    for feature in features:
        flag = named_flag(feature)
        if flag is None:
            problems.append(f"{changelog}: feature '{feature[:60]}' names no flag")
        elif flag not in by_name:
            problems.append(f"{server}: no flag {flag} for feature '{feature[:60]}'")
        elif not by_name[flag].killswitch:
            problems.append(f"{server}: flag {flag} is of type {by_name[flag].type or '?'}, not kill-switch")
        elif by_name[flag].enabled is None:
            problems.append(f"{server}: flag {flag} is not in the judged environment")
    if problems:
        return Verdict.failed(crit, f"{len(problems)} without", "0 without", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, f"{len(features)} features flagged", "0 without",
                          "every new feature has a kill-switch flag on the server", evidence=ev)


@criterion(needs="at least one flag on the server, each with its creation time, and a positive age limit")
def server_flags_not_stale(flags: Sequence[ServerFlag], now: dt.datetime, max_age_days: float,
                           server: str) -> Verdict:
    """No flag the server marks stale, none older than the environment's age limit."""
    crit = "no feature flag on the server is stale"
    ev = Evidence("unleash", server, samples=len(flags), details={"now": now.isoformat(),
                                                                    "max_age_days": max_age_days})
    if not isinstance(max_age_days, int | float) or not math.isfinite(max_age_days) or max_age_days <= 0:
        return Verdict.error(crit, f"flags.max_age_days={max_age_days!r} is not a positive number", evidence=ev)
    if not flags:
        return Verdict.inconclusive(crit, f"{server}: the project holds no flags", evidence=ev)
    problems = []
    for f in flags:
        if f.stale:
            problems.append(f"{f.name}: marked stale on the server")
        elif f.created_at is None:
            problems.append(f"{f.name}: no creation time")
        else:
            age = (now - f.created_at).total_seconds() / 86400
            if age > max_age_days:
                problems.append(f"{f.name}: {age:.0f} days old > {max_age_days:g}")
    if problems:
        return Verdict.failed(crit, f"{len(problems)} stale", f"0 stale or older than {max_age_days:g} days",
                              "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, "0 stale", f"0 stale or older than {max_age_days:g} days",
                          f"{len(flags)} flags, none marked stale, all younger than {max_age_days:g} days", evidence=ev)


@criterion(needs="the server's usage of every flag and at least one running pod of the release")
def usage_tracked(usages: Mapping[str, FlagUsage], instances: Sequence[str], pods: Sequence[str],
                  app_name: str, server: str) -> Verdict:
    """Every flag was evaluated, by the release's application, and every pod reported."""
    crit = "feature flag usage is tracked"
    ev = Evidence("unleash", server, samples=sum(u.evaluations for u in usages.values()),
                  details={"app_name": app_name, "pods": sorted(pods), "instances": sorted(instances),
                           "evaluations": {n: u.evaluations for n, u in usages.items()}})
    if not usages:
        return Verdict.inconclusive(crit, f"{server}: no flags whose usage to read", evidence=ev)
    if not pods:
        return Verdict.inconclusive(crit, "no running pod of the release to find in the server's metrics",
                                    evidence=ev)
    problems = []
    for name, usage in sorted(usages.items()):
        if usage.evaluations <= 0:
            problems.append(f"{name}: 0 evaluations in the last hour")
        elif app_name not in usage.applications:
            problems.append(f"{name}: not evaluated by {app_name} (seen: {', '.join(usage.applications) or 'none'})")
    silent = sorted(set(pods) - set(instances))
    if silent:
        problems.append(f"pods not reporting to the server as {app_name}: {', '.join(silent)}")
    if problems:
        return Verdict.failed(crit, f"{len(problems)} untracked", "0 untracked", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, f"{len(usages)} flags evaluated by {len(pods)} pods", "0 untracked",
                          f"the server saw every flag evaluated by {app_name}, every pod reporting", evidence=ev)


@criterion(needs="at least one pod using the feature before the switch, read again after it")
def kill_switch_obeyed(run: KillSwitchRun, limit_s: float) -> Verdict:
    """Every pod stopped the feature within ``limit_s`` of the flag turning off, none restarted."""
    crit = f"kill switch {run.flag} works without redeployment"
    ev = Evidence("pods", f"flag {run.flag}", window=run.watched_s, samples=run.readings,
                  details={"off_after_s": dict(run.off_after_s), "before": {k: list(v) for k, v in run.before.items()},
                           "after": {k: list(v) for k, v in run.after.items()}, "restored": run.restored,
                           "errors": list(run.errors)})
    if not isinstance(limit_s, int | float) or not math.isfinite(limit_s) or limit_s <= 0:
        return Verdict.error(crit, f"kill-switch limit {limit_s!r} is not a positive number", evidence=ev)
    using = [p for p in run.on_before if p.value is not None and p.value > 0]
    unread = [p for p in run.on_before if p.value is None]
    if unread and not using:
        return Verdict.error(crit, f"the feature gauge of {', '.join(p.pod for p in unread)} could not be read: "
                             f"{unread[0].error}", evidence=ev)
    if not using:
        return Verdict.inconclusive(crit, f"no pod used {run.flag} before the switch: nothing to switch off",
                                    evidence=ev)
    late = [p.pod for p in using if run.off_after_s.get(p.pod, math.inf) > limit_s]
    replaced = sorted(p for p in run.before if run.after.get(p, ("", -1))[0] != run.before[p][0])
    restarted = sorted(p for p in run.before if p in run.after and run.after[p][1] > run.before[p][1])
    slowest = max((run.off_after_s.get(p.pod, math.inf) for p in using), default=math.inf)
    observed = "never" if math.isinf(slowest) else f"{slowest:.1f}s"
    problems = []
    if late:
        problems.append(f"flag {run.flag} off, still on after {limit_s:g}s in {', '.join(late)}")
    if replaced:
        problems.append(f"pods replaced: {', '.join(replaced)}")
    if restarted:
        problems.append(f"pods restarted: {', '.join(restarted)}")
    if not run.restored:
        problems.append(f"flag {run.flag} was not turned back on")
    if problems:
        return Verdict.failed(crit, observed, f"<= {limit_s:g}s, no pod restarted", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, observed, f"<= {limit_s:g}s, no pod restarted",
                          f"{len(using)} pods stopped {run.flag} without a restart; flag on again", evidence=ev)


@criterion(needs="at least one kill switch exercised, each with a pod using the feature before the switch")
def kill_switches_obeyed(runs: Sequence[KillSwitchRun], limit_s: float, server: str) -> Verdict:
    """Every kill-switch flag that is on was exercised and obeyed (:func:`kill_switch_obeyed`)."""
    crit = "kill switches work without redeployment"
    if not runs:
        return Verdict.inconclusive(crit, f"{server}: no kill-switch flag is on in the judged environment",
                                    evidence=Evidence("unleash", server, samples=0))
    verdicts = [kill_switch_obeyed(run, limit_s) for run in runs]
    worst = next((v for status in (Status.FAIL, Status.ERROR, Status.INCONCLUSIVE) for v in verdicts
                  if v.status == status), None)
    if worst is not None:
        return worst
    slowest = max(max(r.off_after_s.values(), default=0.0) for r in runs)
    return Verdict.passed(crit, f"{slowest:.1f}s", f"<= {limit_s:g}s, no pod restarted",
                          f"{len(runs)} kill switches ({', '.join(r.flag for r in runs)}) obeyed by every pod",
                          evidence=Evidence("unleash", server, samples=sum(r.readings for r in runs),
                                            details={r.flag: dict(r.off_after_s) for r in runs}))


@criterion(needs="a flag with at least two weighted variants, per-variant evaluation counts, enough of them")
def variant_split_matches(counts: Mapping[str, int], weights: Mapping[str, int], confidence: float,
                          min_samples: int, flag: str) -> Verdict:
    """Each variant's share of evaluations lies within its confidence bound of the configured split.

    Normal approximation of each share (n large enough, ``min_samples``), two-sided, the
    confidence split over the variants (Bonferroni) so the whole split errs at most 1 - confidence.
    """
    crit = f"A/B split of {flag} matches its weights"
    n = sum(v for v in counts.values() if isinstance(v, int) and v > 0)
    ev = Evidence("unleash", f"flag {flag}", samples=n, details={"counts": dict(counts), "weights": dict(weights),
                                                                 "confidence": confidence})
    if not isinstance(confidence, float | int) or not 0.5 < confidence < 1:
        return Verdict.error(crit, f"confidence {confidence!r} is not in (0.5, 1)", evidence=ev)
    total_w = sum(w for w in weights.values() if isinstance(w, int) and w > 0)
    if len(weights) < 2 or total_w <= 0 or any(not isinstance(w, int) or w < 0 for w in weights.values()):
        return Verdict.error(crit, f"flag {flag}: needs at least two variants with non-negative weights",
                             evidence=ev)
    if any(not isinstance(c, int) or c < 0 for c in counts.values()) or set(counts) - set(weights):
        return Verdict.error(crit, f"flag {flag}: counts of unknown variants or negative counts", evidence=ev)
    if n < max(min_samples, 1):
        return Verdict.inconclusive(crit, f"{n} evaluations < {min_samples} needed", observed=n, evidence=ev)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / (2 * len(weights)))
    off = []
    shares = {}
    for name, w in weights.items():
        p = w / total_w
        share = counts.get(name, 0) / n
        bound = z * math.sqrt(max(p * (1 - p), 1e-12) / n)
        shares[name] = round(share, 4)
        if abs(share - p) > bound:
            off.append(f"{name}: {share:.1%} vs {p:.1%} +- {bound:.1%}")
    if off:
        return Verdict.failed(crit, shares, {k: round(w / total_w, 4) for k, w in weights.items()},
                              f"{n} evaluations; outside the {confidence:.0%} bound: {'; '.join(off)}", evidence=ev)
    return Verdict.passed(crit, shares, {k: round(w / total_w, 4) for k, w in weights.items()},
                          f"{n} evaluations, every share within its {confidence:.0%} bound", evidence=ev)


@criterion(needs="at least one A/B flag on in the judged environment, each with per-variant request counts "
                 "over a window, enough of them")
def variant_splits_match(windows: Sequence[VariantWindow], weights: Mapping[str, Mapping[str, int]],
                         confidence: float, min_samples: int, server: str) -> Verdict:
    """Every A/B flag's requests split as its weights on the server say (:func:`variant_split_matches`)."""
    crit = "A/B variants split requests as configured"
    if not windows:
        return Verdict.inconclusive(crit, f"{server}: no A/B flag (two or more variants) is on in the judged "
                                    "environment", evidence=Evidence("unleash", server, samples=0))
    verdicts = [variant_split_matches(w.counts, weights.get(w.flag, {}), confidence, min_samples, w.flag)
                for w in windows]
    worst = next((v for status in (Status.FAIL, Status.ERROR, Status.INCONCLUSIVE) for v in verdicts
                  if v.status == status), None)
    if worst is not None:
        return worst
    total = sum(sum(w.counts.values()) for w in windows)
    return Verdict.passed(crit, {w.flag: v.observed for w, v in zip(windows, verdicts, strict=True)},
                          {w.flag: v.threshold for w, v in zip(windows, verdicts, strict=True)},
                          f"{len(windows)} A/B flags ({', '.join(w.flag for w in windows)}), {total} requests, "
                          f"every share within its {confidence:.0%} bound",
                          evidence=Evidence("pods", server, window=max(w.window_s for w in windows), samples=total,
                                            details={w.flag: {"counts": dict(w.counts), "pods": list(w.pods)}
                                                     for w in windows}))
