"""§1.3 readiness vocabulary: communication channel, notifications, on-call, rehearsal.

Steps parse words and hand over: :mod:`goldgate.probes.readiness` reads the release
manifest, asks the channel and reads the audit trail; :mod:`goldgate.criteria.readiness`
decides. The release and the clock are the checklist's (``release``, ``gate_clock``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_bdd import parsers, then

from goldgate.config import Environment
from goldgate.criteria import readiness
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.readiness import (
    AuditRun,
    ReleaseReadiness,
    probe_channel,
    read_audit_runs,
    read_readiness,
    this_run,
)
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Evidence, expect
from steps import records as from_records


def _facts(release: ReleaseInputs) -> ReleaseReadiness:
    return read_readiness(release.need("manifest"))


def _evidence(facts: ReleaseReadiness) -> tuple[Evidence, ...]:
    return (Evidence("release manifest", facts.path),)


@then("the release's communication channel answers")
def channel_ready(release: ReleaseInputs, environment: Environment) -> None:
    def measure() -> tuple[ReleaseReadiness, object]:
        facts = _facts(release)
        # An environment that names its channel (release.communication_url) overrides the manifest.
        url = getattr(environment.release, "communication_url", None) or facts.channel_url
        return facts, probe_channel(url, environment.timeouts, source=facts.path)

    expect(measure_and_judge("communication channel ready", measure,
                             lambda got: readiness.channel_answers(got[1], evidence=_evidence(got[0])),
                             (ArtifactUnavailable,)))


@then(parsers.parse('the release manifest records a notification to "{audience}" sent before the deployment window'))
def notified(release: ReleaseInputs, audience: str, environment: Environment) -> None:
    if environment.records.notification is not None:  # the channel or change record, measured
        expect(from_records.notified(environment, release, audience))
        return
    expect(measure_and_judge(f"{audience} notified", lambda: _facts(release),
                             lambda f: readiness.notified_before_window(
                                 f.notifications, audience=audience, window_start=f.window_start,
                                 criterion=f"{audience} notified", evidence=_evidence(f)),
                             (ArtifactUnavailable,)))


@then("confirmed on-call shifts cover the whole deployment window")
def on_call_covers(release: ReleaseInputs, environment: Environment) -> None:
    if environment.records.on_call is not None:  # the paging service's entries, measured
        expect(from_records.on_call(environment, release, "team availability confirmed"))
        return
    expect(measure_and_judge("team availability confirmed", lambda: _facts(release),
                             lambda f: readiness.on_call_covers_window(
                                 f.shifts, window_start=f.window_start, window_end=f.window_end,
                                 evidence=_evidence(f)),
                             (ArtifactUnavailable,)))


@then(parsers.parse("the audit trail records a rollback rehearsal within the last {days:g} days"))
def rehearsed(release: ReleaseInputs, days: float, pytestconfig: pytest.Config, environment: Environment,
              safety: SafetyPolicy, gate_clock: Callable[[], dt.datetime]) -> None:
    now = gate_clock()

    def measure() -> tuple[str, list[AuditRun]]:
        named = _facts(release).rehearsal_log
        run_log = pytestconfig.getoption("goldgate_audit_log", "") or ""
        log = named or (Path(run_log) if run_log else None)
        # The run's own trail may not exist yet (a fresh checkout): no earlier run, not an error.
        earlier = read_audit_runs(log.resolve()) if log is not None and (named or log.is_file()) else []
        current = this_run(safety.actions, environment=environment.name, production=environment.production,
                           reason=str(pytestconfig.getoption("goldgate_reason", "") or ""), finished_at=now)
        return (str(log) if log else "no audit trail file") + " + this run's actions", [*earlier, current]

    expect(measure_and_judge("rollback procedure tested", measure,
                             lambda got: readiness.rollback_rehearsed(
                                 got[1], now=now, max_age_days=days,
                                 evidence=(Evidence("audit trail", got[0]),)),
                             (ArtifactUnavailable,)))
