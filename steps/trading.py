"""Trading vocabulary: the market's session, the release's trading per phase, the kill switch.

Steps parse words and hand over: the rollout strategies judge the trading triggers every
evaluation (:mod:`goldgate.rollout.trading_monitor`), :mod:`goldgate.actions.trading`
opens or closes a rehearsal market, and :mod:`goldgate.criteria.trading_rollout` decides
what the rollout report shows. The rollout itself (``When the release under test rolls
out as a canary``) and the trigger steps are the rollout vocabulary's (steps/rollout.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from goldgate.actions.trading import set_market_session
from goldgate.config import Environment
from goldgate.criteria import rollout as rollout_judge
from goldgate.criteria import trading_rollout as judge
from goldgate.rollout.base import RolloutReport
from goldgate.rollout.trading_monitor import MARKET, TRADING_TRIGGERS
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Evidence, Verdict, expect


def _report(rollout_report: RolloutReport | None) -> RolloutReport:
    if rollout_report is None:
        pytest.fail("ERROR: no rollout ran in this scenario", pytrace=False)
    return rollout_report


def _latest(report: RolloutReport, prefix: str) -> Verdict:
    """The latest verdict of a trading trigger over the rollout's evaluations."""
    for a in reversed(report.assessments):
        for v in a.verdicts:
            if v.criterion.lower().startswith(prefix.lower()):
                return v
    return rollout_judge.recorded_verdict(prefix, (), why=f"no {prefix} verdict in any evaluation ({report.outcome})")


def _halt_phase(report: RolloutReport) -> dict[str, Any]:
    return next((p for p in report.phases if p.get("phase") == "trading halt"), {})


@pytest.fixture
def market_session(environment: Environment, safety: SafetyPolicy) -> Iterator[dict[str, bool]]:
    """Sets the rehearsal market's session for one scenario and opens it again afterwards."""
    state = {"closed": False}
    yield state
    url = environment.trading.market_control_url
    if state["closed"] and url:
        set_market_session(safety, url, open_=True, reason="scenario done: the market opens again")


# ----------------------------------------------------------------------------- Given
@given("the market is open")
def market_open(environment: Environment, safety: SafetyPolicy, market_session: dict[str, bool]) -> None:
    if environment.trading.market_control_url and not safety.problems():
        set_market_session(safety, environment.trading.market_control_url, open_=True, reason="scenario: market open")


@given("the market is closed")
def market_closed(environment: Environment, safety: SafetyPolicy, market_session: dict[str, bool]) -> None:
    if not environment.rehearsals or not environment.trading.market_control_url:
        pytest.skip(f"{environment.source_file}: closing the market is a rehearsal (rehearsals: true and "
                    "trading.market_control_url)")
    market_session["closed"] = True
    set_market_session(safety, environment.trading.market_control_url, open_=False, reason="rehearsal: market closed")


@given(parsers.parse("the release states an expected signal agreement of {pct:g} %"))
def expected_agreement(pct: float, rollout_state: Any) -> None:
    rollout_state.expected_agreement = pct / 100


# ----------------------------------------------------------------------------- Then
@then(parsers.re(r"every (?:canary )?phase judged the release's trading beside the stable version's"))
def trading_per_phase(rollout_report: RolloutReport) -> None:
    report = _report(rollout_report)
    phases = [p for p in report.phases if "trading" in p or "weight" in p or p.get("phase", "").startswith("monitor")]
    expect(judge.trading_judged_per_phase(phases, evidence=(report.evidence(),)))


@then(parsers.parse("the canary's signals agree with the stable version's on at least {pct:g} % of bars"))
def signals_agree(pct: float, rollout_report: RolloutReport) -> None:
    expect(_latest(_report(rollout_report), "signal agreement"))


@then("the canary's orders stayed within the pre-trade limits")
def within_limits(rollout_report: RolloutReport) -> None:
    expect(_latest(_report(rollout_report), "pre-trade limits"))


@then("the canary's trading was halted before its traffic shifted back")
def halted_first(rollout_report: RolloutReport) -> None:
    report, halt = _report(rollout_report), _halt_phase(_report(rollout_report))
    rollback = report.actions[int(halt.get("rollback_from_action", 0)):]
    expect(judge.halted_before_rollback([(a.action, a.outcome) for a in rollback],
                                        cancelled_orders=halt.get("cancelled_orders", ()),
                                        position_left=halt.get("position_left"), evidence=(report.evidence(),)))
    expect(rollout_judge.recorded_verdict(judge.HALT, report.checks, why="the trading halt was not verified"))


@then("the halt is shown ignored, with the orders placed after it")
def halt_ignored(rollout_report: RolloutReport) -> None:
    report = _report(rollout_report)
    found = next((v for v in report.checks if v.criterion == judge.HALT), None)
    expect(rollout_judge.trigger_fired("halt ignored", found, outcome=report.outcome, trigger=report.trigger,
                                       evidence=(report.evidence(),)))


@then("the trading checks are INCONCLUSIVE, never PASS, naming the closed market")
def closed_market(watch_assessment: Any, environment: Environment) -> None:
    trading = [v for v in watch_assessment.verdicts if v.criterion in TRADING_TRIGGERS]
    expect(judge.closed_market_held(trading, outcome=watch_assessment.outcome.value, market=MARKET,
                                    evidence=(Evidence("rollout", watch_assessment.summary()),)))
