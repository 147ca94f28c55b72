"""Rollout decisions (guide §2, §6.2): progress, quorum, backups, promotion and rollback.

The strategies in :mod:`goldgate.rollout` schedule and act; the feature steps parse the
sentences. Both hand their observations (counts of Ready pods, images, outcomes, the
trigger that fired) to these functions, and only these functions say PASS or FAIL. The
rules every function keeps:

* A PASS needs the observation it is about: a rollout that never polled, a report without
  an outcome, a trigger that was never evaluated are ERROR or INCONCLUSIVE, never PASS.
* A trigger verdict that already decided (the rollback monitor's own FAIL, INCONCLUSIVE
  or ERROR) is passed through unchanged, so the reader sees the original numbers.
* Labels carry the values in force (the environment's timeout, the planned weights),
  never the guide's numbers when the environment set others.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

from goldgate.criteria.registry import criterion as registered
from goldgate.criteria.timing import duration_evidence, with_duration
from goldgate.verdict import Evidence, Status, Verdict

__all__ = [
    "BLUE_BACKUP",
    "ORDER",
    "PROGRESS",
    "QUORUM",
    "blue_backup",
    "canary_phases",
    "held_without_traffic",
    "pod_by_pod",
    "previous_revision_restored",
    "promoted",
    "quorum_kept",
    "recorded_verdict",
    "release_on_every_replica",
    "rolled_back",
    "rollout_progress",
    "smoke_on_green_only",
    "trigger_fired",
    "user_traffic",
]

QUORUM = "availability (§2.3 always maintain quorum)"
ORDER = "pod by pod (§2.3 each new pod healthy before an old one goes)"
BLUE_BACKUP = "blue kept as ready backup (§2.1 blue becomes backup)"
PROGRESS = "rollout progress (§2.3 health checks: verify each pod)"


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _evidence(evidence: Evidence | Iterable[Evidence] | None) -> tuple[Evidence, ...]:
    if evidence is None:
        return ()
    if isinstance(evidence, Evidence):
        return (evidence,)
    return tuple(evidence)


@registered(needs="a Deployment status read while waiting, with non-negative pod counts and a finite wait")
def rollout_progress(deployment: str, *, ready: int, want: int, waited_s: float, deadline_s: float,
                     deadline_exceeded: bool, condition: str = "",
                     evidence: Evidence | Iterable[Evidence] | None = None,
                     condition_age_s: float | None = None) -> Verdict:
    """FAIL (rollback) when a rollout stopped making progress before enough pods were Ready.

    Stopped means Kubernetes reported ``ProgressDeadlineExceeded`` or the wait passed the
    environment's ``deadline_s``; PASS when ``want`` pods are Ready inside the deadline;
    INCONCLUSIVE while it is still progressing.

    The verdict's value is the fact that decided: for a stall that is the
    ``ProgressDeadlineExceeded`` condition and its age (``condition_age_s``, from its
    lastTransitionTime), not the Ready count, which can even equal the wanted count while
    old pods still serve; for a wait past the deadline it is the Ready count that fell short.
    """
    ev = _evidence(evidence)
    kw: dict[str, Any] = {"evidence": ev, "rollback": True, "unit": "Ready pods"}
    finite = all(isinstance(x, int | float) and math.isfinite(x) and x >= 0 for x in (waited_s, deadline_s))
    if not (_count(ready) and _count(want) and want > 0 and finite):
        return Verdict.error(PROGRESS, f"unusable rollout status of deployment/{deployment}: ready {ready!r}, "
                                       f"want {want!r}, waited {waited_s!r}s, deadline {deadline_s!r}s",
                             threshold=want, **kw)
    waited = f"{ready} of {want} pods Ready after {waited_s:.1f}s (deadline {deadline_s:g}s)"
    if deadline_exceeded:
        age = (f"for {condition_age_s:.1f}s" if isinstance(condition_age_s, int | float)
               and math.isfinite(condition_age_s) and condition_age_s >= 0 else "age unknown")
        return Verdict.failed(PROGRESS, f"ProgressDeadlineExceeded ({age})", "progressing within the deadline",
                              f"rollout of deployment/{deployment} stalled: ProgressDeadlineExceeded "
                              f"({condition}); {waited}", **{**kw, "unit": ""})
    if waited_s > deadline_s:
        return Verdict.failed(PROGRESS, ready, want, f"rollout of deployment/{deployment} stalled: {waited}; "
                                                     "the deadline passed", **kw)
    if ready >= want:
        return Verdict.passed(PROGRESS, ready, want, f"deployment/{deployment}: {waited}", **kw)
    return Verdict.inconclusive(PROGRESS, f"deployment/{deployment} still progressing: {waited}",
                                observed=ready, threshold=want, **kw)


@registered(needs="at least one successful poll of the pods during the rollout")
def quorum_kept(min_ready: int | None, quorum: int, *, polls: int,
                evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """FAIL when the fewest Ready pods seen at any poll fell below ``replicas - maxUnavailable``."""
    kw: dict[str, Any] = {"evidence": _evidence(evidence), "unit": "Ready pods"}
    if min_ready is None or not polls:
        return Verdict.inconclusive(QUORUM, "no poll of the pods succeeded", threshold=quorum, **kw)
    if not (_count(min_ready) and _count(quorum) and _count(polls)):
        return Verdict.error(QUORUM, f"unusable poll counts: min_ready {min_ready!r}, quorum {quorum!r}, "
                                     f"polls {polls!r}", threshold=quorum, **kw)
    if min_ready < quorum:
        return Verdict.failed(QUORUM, min_ready, quorum,
                              f"Ready pods fell to {min_ready}, below the quorum {quorum} "
                              f"(replicas - maxUnavailable), over {polls} polls", **kw)
    return Verdict.passed(QUORUM, min_ready, quorum,
                          f"at least {min_ready} pods Ready at every one of {polls} polls (quorum {quorum})", **kw)


@registered(needs="at least one successful poll of the pods during the rollout")
def pod_by_pod(violations: Sequence[str], *, polls: int, old_gone: int,
               evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """FAIL when an old pod went before a new one was Ready (one entry per early removal)."""
    kw: dict[str, Any] = {"evidence": _evidence(evidence), "unit": "early removals"}
    if violations:
        return Verdict.failed(ORDER, len(violations), 0, "; ".join(violations), **kw)
    if not (_count(polls) and polls > 0 and _count(old_gone)):
        return Verdict.inconclusive(ORDER, f"no poll of the pods to judge the order on (polls {polls!r})",
                                    threshold=0, **kw)
    return Verdict.passed(ORDER, 0, 0, f"{old_gone} old pods went, each after a new pod was Ready", **kw)


@registered(needs="a read of blue's Deployment status with non-negative counts")
def blue_backup(ready: int, replicas: int, *, evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """FAIL when blue no longer has all its replicas Ready while green is live."""
    kw: dict[str, Any] = {"evidence": _evidence(evidence), "unit": "pods"}
    if not (_count(ready) and _count(replicas) and replicas > 0):
        return Verdict.error(BLUE_BACKUP, f"unusable status of blue: {ready!r} of {replicas!r} Ready",
                             threshold=replicas, **kw)
    if ready >= replicas:
        return Verdict.passed(BLUE_BACKUP, ready, replicas, f"blue has {ready} of {replicas} pods Ready", **kw)
    return Verdict.failed(BLUE_BACKUP, ready, replicas, f"blue has only {ready} of {replicas} pods Ready", **kw)


@registered(needs="a service address that is not on this machine and a finite positive rate")
def user_traffic(url: str, rate_rps: float, *, on_this_machine: bool) -> Verdict:
    """PASS when the release is judged on real users: the service is not on this machine.

    goldgate sends generated traffic only to loopback; elsewhere the sentence's rate is the
    traffic the real users bring, and the rollback monitor judges that.
    """
    ev = Evidence("traffic", url or "(no address)")
    usable = isinstance(rate_rps, int | float) and math.isfinite(rate_rps) and rate_rps > 0
    if not url or not usable:
        return Verdict.error("trading traffic", f"no usable service address or rate ({url!r}, {rate_rps!r})",
                             threshold=rate_rps, evidence=ev)
    if on_this_machine:
        return Verdict.inconclusive("trading traffic", f"{url} is on this machine: traffic must be generated",
                                    threshold=rate_rps, evidence=ev)
    return Verdict.passed("trading traffic", "production users", rate_rps,
                          f"{url} is not on this machine: the rollout is judged on real user traffic", evidence=ev)


@registered(needs="the rollout's report: the trigger that fired or the assessments' breaches")
def trigger_fired(name: str, found: Verdict | None, *, outcome: str, trigger: Verdict | None,
                  evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when the named rollback trigger FAILed (the fault scenarios: it must fire)."""
    criterion = f"automatic rollback on {name}"
    ev = _evidence(evidence)
    if found is not None and found.status is Status.FAIL:
        return Verdict.passed(criterion, found.observed, found.threshold, f"the trigger fired: {found.message()}",
                              evidence=(*found.evidence, *ev), unit=found.unit)
    seen = trigger.message() if trigger is not None else "no trigger fired"
    return Verdict.failed(criterion, outcome, f'"{name}" FAIL',
                          f"the release ended {outcome!r} without the {name} trigger failing ({seen})", evidence=ev)


@registered(needs="the rollout's outcome and the record of the rollback action")
def rolled_back(how: str, action: str, *, outcome: str, reason: str, action_done: bool,
                evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when the rollout ended rolled back and the expected action is recorded as done."""
    criterion = f"automatic rollback ({how})"
    ev = _evidence(evidence)
    if outcome == "rolled back" and action_done:
        return Verdict.passed(criterion, outcome, "rolled back", f"{action} done after: {reason}", evidence=ev)
    return Verdict.failed(criterion, outcome, "rolled back",
                          f"expected {action}; the rollout ended {outcome!r}: {reason or 'no reason'}",
                          evidence=ev, rollback=True)


@registered(needs="the Deployment's images before and now, its Ready counts and the Service's answer")
def previous_revision_restored(*, images_before: Sequence[str], images_now: Sequence[str], complete: bool,
                               ready: int, replicas: int, http_status: int | None, http_error: str = "",
                               version: str | None = None, expected_version: str | None = None,
                               release_version: str | None = None, release_image: str | None = None,
                               evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when the previous images run again, the rollout is complete and the Service answers
    (with the previous version, when it is known).

    A "previous revision" that is the release under test (its image, or the version it
    reports) proves no rollback: the rollout went out over itself and came back to the same
    release. That is a FAIL naming the version, whatever else holds.
    """
    criterion = "previous revision restored (§6.2 verify rollback)"
    ev = _evidence(evidence)
    if not images_before:
        return Verdict.error(criterion, "the images before the rollout were not recorded",
                             threshold="previous revision Ready", evidence=ev)
    same_image = bool(release_image) and tuple(images_before) == (release_image,)
    same_version = bool(release_version) and expected_version == release_version
    if same_image or same_version:
        what = f"version {release_version}" if same_version else f"image {release_image}"
        return Verdict.failed(criterion, f"previous {what}", f"not the release under test ({what})",
                              f"the previous revision is the release under test ({what}, images "
                              f"{list(images_before)}): the rollback restored the release it was to undo",
                              evidence=ev, rollback=True)
    problems = []
    if tuple(images_now) != tuple(images_before):
        problems.append(f"images {list(images_now)} instead of {list(images_before)}")
    if not complete:
        problems.append(f"{ready}/{replicas} Ready, rollout not complete")
    if http_status != 200:
        problems.append(f"the Service answered {http_status or http_error}")
    elif expected_version and version != expected_version:
        problems.append(f"the Service reports version {version}, expected {expected_version}")
    if problems:
        return Verdict.failed(criterion, "; ".join(problems), "previous revision Ready", "; ".join(problems),
                              evidence=ev, rollback=True)
    return Verdict.passed(criterion, f"{ready}/{replicas} Ready", "previous revision Ready",
                          f"{', '.join(images_now)} Ready on {ready} pods, serving version {version}", evidence=ev)


@registered(needs="the rollout's outcome; a promotion stands on the strategy's own passed triggers")
def promoted(criterion: str, *, outcome: str, reason: str, trigger: Verdict | None,
             evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when the strategy promoted the release; otherwise its undecided or failed trigger
    as it stands, else FAIL with the rollout's reason."""
    ev = _evidence(evidence)
    if outcome == "promoted":
        return Verdict.passed(criterion, outcome, "promoted", reason, evidence=ev)
    if trigger is not None and trigger.status is not Status.PASS:
        return trigger
    return Verdict.failed(criterion, outcome, "promoted", reason or "not promoted", evidence=ev, rollback=True)


@registered(needs="the planned canary weights and the phases the rollout recorded")
def canary_phases(passed: Sequence[Any], planned: Sequence[int], *, phase_s: float, outcome: str, reason: str,
                  trigger: Verdict | None, evidence: Evidence | Iterable[Evidence] | None = None,
                  scaled: str = "") -> Verdict:
    """PASS when every planned weight's phase passed, in order; else the trigger or FAIL.

    ``scaled`` names the phase duration used against the guide's (goldgate.durations).
    """
    criterion = "canary phases (§2.2 monitor each phase)"
    ev = (*_evidence(evidence), *duration_evidence(scaled))
    if list(passed) == list(planned) and planned:
        return Verdict.passed(criterion, list(passed), list(planned),
                              with_duration(f"phases {list(passed)} % each passed over {phase_s:g}s", scaled),
                              evidence=ev)
    if trigger is not None and trigger.status is not Status.PASS:
        return trigger
    return Verdict.failed(criterion, list(passed), list(planned),
                          with_duration(f"only phases {list(passed)} passed; {outcome}: {reason}", scaled),
                          evidence=ev, rollback=True)


@registered(needs="the trigger that ended the canary phase")
def held_without_traffic(trigger: Verdict | None, *, outcome: str, reason: str,
                         evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when a canary without traffic was held INCONCLUSIVE and not promoted."""
    criterion = "no-traffic canary is not promoted"
    ev = _evidence(evidence)
    if trigger is not None and trigger.status is Status.INCONCLUSIVE and outcome != "promoted":
        return Verdict.passed(criterion, trigger.status.value, "INCONCLUSIVE",
                              f"held until the phase deadline, then {outcome}: {trigger.message()}",
                              evidence=(*trigger.evidence, *ev))
    return Verdict.failed(criterion, trigger.status.value if trigger is not None else outcome, "INCONCLUSIVE",
                          f"the canary ended {outcome!r}: {reason}", evidence=ev)


@registered(needs="the Deployment's images and Ready counts after the rollout")
def release_on_every_replica(image: str, *, images: Sequence[str], ready: int, replicas: int, complete: bool,
                             evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """PASS when the Deployment runs only ``image`` and its rollout is complete."""
    criterion = "release on every replica"
    ev = _evidence(evidence)
    if not image or not _count(replicas) or replicas == 0:
        return Verdict.error(criterion, f"nothing to compare: image {image!r}, {replicas!r} replicas",
                             threshold=replicas, evidence=ev)
    if tuple(images) == (image,) and complete:
        return Verdict.passed(criterion, f"{ready}/{replicas}", replicas,
                              f"{image} Ready on all {replicas} replicas", evidence=ev)
    return Verdict.failed(criterion, f"{list(images)} {ready}/{replicas}", f"{image} on {replicas}",
                          "the release is not on every replica", evidence=ev)


@registered(needs="the green smoke checks the blue-green rollout ran and the address they went to")
def smoke_on_green_only(checks: Sequence[Verdict], *, url: str, production_url: str, outcome: str,
                        reason: str) -> list[Verdict]:
    """The smoke verdicts on green as they stand, ERROR when none ran, FAIL when they went to
    the production Service instead of green's own preview address."""
    out: list[Verdict] = list(checks)
    if not out:
        out.append(Verdict.error("smoke tests on green", f"no smoke check ran ({outcome}: {reason})"))
    if not url or url.rstrip("/") == production_url.rstrip("/"):
        out.append(Verdict.failed("smoke tests on green only", url or "(none)", "green's own address",
                                  "the smoke tests went to the production Service" if url
                                  else "no smoke address was recorded"))
    return out


@registered(needs="a verdict recorded under that name")
def recorded_verdict(name: str, recorded: Sequence[Verdict], *, why: str, by_prefix: bool = False,
                     scaled: str = "") -> Verdict:
    """The verdict recorded as ``name`` (or, ``by_prefix``, the first whose criterion starts
    with it, ignoring case) as it stands; ERROR saying ``why`` there is none. ``scaled``
    (the watch's duration against the guide's) is added to its evidence."""
    for v in recorded:
        if v.criterion == name or (by_prefix and v.criterion.lower().startswith(name.lower())):
            return dataclasses.replace(v, evidence=(*v.evidence, *duration_evidence(scaled))) if scaled else v
    return Verdict.error(name, why)


@registered(needs="the rollback monitor's verdicts over a window after the rollback (at least one), and the window")
def stable_healthy_after_rollback(verdicts: Sequence[Verdict], *, window_s: float, watched_s: float,
                                  evidence: Evidence | Iterable[Evidence] | None = None) -> Verdict:
    """Guide §6.2 step 5 "monitor metrics": the restored stable version healthy again.

    The stable version is watched with the rollback criteria the rollout used (error rate,
    latency, health checks, OOM kills, free disk) for ``window_s`` after the rollback. FAIL
    names every breached criterion with its value and threshold; a criterion that could not
    decide (thin traffic, no data) leaves it INCONCLUSIVE; a watch shorter than the window,
    or with no verdict, is never a pass.
    """
    criterion = "stable version healthy after the rollback (§6.2 monitor metrics)"
    ev = _evidence(evidence)
    if not (isinstance(window_s, int | float) and math.isfinite(window_s) and window_s > 0):
        return Verdict.error(criterion, f"the window {window_s!r} is not a positive duration", evidence=ev)
    threshold = f"every rollback criterion PASS over {window_s:g}s"
    if not (isinstance(watched_s, int | float) and math.isfinite(watched_s) and watched_s >= 0):
        return Verdict.error(criterion, f"the watched time {watched_s!r} is not a duration", evidence=ev)
    if not verdicts:
        return Verdict.inconclusive(criterion, "the monitor recorded no verdict after the rollback",
                                    threshold=threshold, evidence=ev)
    failed = [v for v in verdicts if v.status is Status.FAIL]
    if failed:
        listing = "; ".join(f"{v.criterion}: observed {v.observed} vs threshold {v.threshold}" for v in failed)
        return Verdict.failed(criterion, f"{len(failed)} of {len(verdicts)} criteria breached", threshold,
                              f"the stable version is not healthy {watched_s:.3g}s after the rollback: {listing}",
                              evidence=ev)
    undecided = [v for v in verdicts if v.status is not Status.PASS]
    if undecided:
        listing = "; ".join(f"{v.criterion}: {v.status.value}" for v in undecided)
        return Verdict.inconclusive(criterion, f"not every criterion decided after {watched_s:.3g}s: {listing}",
                                    threshold=threshold, evidence=ev)
    if watched_s < window_s:
        return Verdict.inconclusive(criterion, f"watched {watched_s:.3g}s of the {window_s:g}s window",
                                    observed=f"{watched_s:.3g}s", threshold=threshold, evidence=ev)
    names = ", ".join(v.criterion for v in verdicts)
    return Verdict.passed(criterion, f"{len(verdicts)} of {len(verdicts)} criteria PASS", threshold,
                          f"watched {watched_s:.3g}s after the rollback: {names}", evidence=ev)
