"""What one evaluation of the rollback triggers means to a rollout controller.

The judge (``goldgate serve``) answers Flagger and Argo Rollouts with one of five words.
The words are a decision, so they are made here, from the trigger verdicts a
:class:`~goldgate.rollout.monitor.RollbackMonitor` produced, and nowhere else:

============  =====================================================================
ROLLBACK      a hard guard breached: a rollback trigger of guide §6.1 (or any other
              trigger the monitor marks ``rollback``, e.g. a trading guard) FAILed
FAIL          measured and breached, but not a hard guard (a §8 alert such as p95 over
              500 ms): the controller counts it against its own failure threshold
ERROR         a rollback trigger could not be measured (metric source down, API refused)
INCONCLUSIVE  not enough evidence yet (too few requests, no baseline, market closed),
              or nothing was evaluated at all
PASS          every rollback trigger PASSed on data of the present
============  =====================================================================

The order is the order of precedence: a breach outranks a blind spot (a release that is
measurably wrong is rolled back even while another probe is down), and ERROR outranks
INCONCLUSIVE so a dead metric source is never mistaken for thin traffic. Alerts that could
not be measured do not hold a release (the monitor's own rule); they are shown in the checks.

The outcome travels as an ordinary :class:`~goldgate.verdict.Verdict`: ROLLBACK is a FAIL
with ``rollback=True``; :func:`controller_verdict` names it.
"""

from __future__ import annotations

from collections.abc import Sequence

from goldgate.criteria.registry import criterion
from goldgate.verdict import Status, Verdict

__all__ = ["CONTROLLER_VERDICTS", "JUDGE", "controller_verdict", "judge_triggers"]

JUDGE = "judge: rollback triggers of the run"
CONTROLLER_VERDICTS = ("PASS", "FAIL", "ROLLBACK", "INCONCLUSIVE", "ERROR")


def controller_verdict(verdict: Verdict) -> str:
    """The controller's word for a verdict: ROLLBACK for a failed hard guard, else the status."""
    if verdict.status is Status.FAIL and verdict.rollback:
        return "ROLLBACK"
    return verdict.status.value


def _names(verdicts: Sequence[Verdict]) -> list[str]:
    return [v.criterion for v in verdicts]


@criterion(needs="at least one rollback trigger evaluated; PASS only when every rollback trigger PASSed")
def judge_triggers(verdicts: Sequence[Verdict], *, criterion: str = JUDGE) -> Verdict:
    """Reduce one evaluation's trigger verdicts to the judge's verdict (table above)."""
    usable = [v for v in verdicts if isinstance(v, Verdict)]
    guards = [v for v in usable if v.rollback]
    breaches = [v for v in guards if v.status is Status.FAIL]
    if breaches:
        return Verdict.failed(criterion, _names(breaches), "no rollback trigger breached",
                              "; ".join(v.message() for v in breaches), rollback=True)
    alerts = [v for v in usable if not v.rollback and v.status is Status.FAIL]
    if alerts:
        return Verdict.failed(criterion, _names(alerts), "no alert breached",
                              "; ".join(v.message() for v in alerts))
    if not guards:
        return Verdict.inconclusive(criterion, "no rollback trigger has been evaluated yet",
                                    threshold="every rollback trigger PASS")
    errors = [v for v in guards if v.status is Status.ERROR]
    if errors:
        return Verdict.error(criterion, "; ".join(v.message() for v in errors),
                             threshold="every rollback trigger measured", observed=_names(errors))
    undecided = [v for v in guards if v.status is not Status.PASS]
    if undecided:
        return Verdict.inconclusive(criterion, "; ".join(v.message() for v in undecided),
                                    observed=_names(undecided), threshold="every rollback trigger PASS")
    return Verdict.passed(criterion, f"{len(guards)}/{len(guards)} rollback triggers PASS",
                          "every rollback trigger PASS", "every rollback trigger passed on data of the present")
