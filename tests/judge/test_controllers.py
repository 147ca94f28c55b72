"""Each controller's loop, played over a sequence of judge verdicts as its documentation says.

Flagger (https://docs.flagger.app/usage/webhooks, /usage/how-it-works): every ``interval``
the ``rollback`` hook is polled (200 rolls back at once), the ``rollout`` hook's non-2xx
counts a failed check and ``threshold`` failed checks roll back; the weight advances by
``stepWeight`` to ``maxWeight`` only on a passing iteration, and promotion waits for the
``confirm-promotion`` hook's 200.

Argo Rollouts (https://argoproj.github.io/argo-rollouts/features/analysis/): the web
provider's non-2xx is an Error measurement, ``successCondition`` / ``failureCondition``
on the body decide Successful / Failed, neither is Inconclusive. The metric is Failed when
failed measurements exceed ``failureLimit``, Inconclusive (rollout paused) when inconclusive
ones exceed ``inconclusiveLimit``, Error (aborted) when consecutive errors exceed
``consecutiveErrorLimit``; ``count`` measurements all passing is Successful.
"""

from __future__ import annotations

import pytest

from goldgate.judge import argo, flagger


def play_flagger(verdicts: list[str], *, threshold: int = 3, step: int = 10, max_weight: int = 50) -> str:
    weight, failed = 0, 0
    for v in verdicts:
        if flagger.status_for("rollback", v) == 200:
            return "rolled back (rollback hook)"
        if not 200 <= flagger.status_for("rollout", v) < 300:
            failed += 1
            if failed >= threshold:
                return f"rolled back ({failed} failed checks)"
            continue
        if weight < max_weight:
            weight += step
        elif flagger.status_for("confirm-promotion", v) == 200:
            return "promoted"
    return f"progressing at {weight} %"


def play_argo(verdicts: list[str], *, failure_limit: int = 0, inconclusive_limit: int = 0,
              consecutive_error_limit: int = 4, count: int = 5) -> str:
    failed = inconclusive = consecutive_errors = successful = 0
    for v in verdicts:
        if argo.status_for(v) != 200:
            consecutive_errors += 1
            if consecutive_errors > consecutive_error_limit:
                return "aborted (Error)"
            continue
        consecutive_errors = 0
        if v == "PASS":
            successful += 1
        elif v in ("FAIL", "ROLLBACK"):
            failed += 1
            if failed > failure_limit:
                return "aborted (Failed)"
        else:
            inconclusive += 1
            if inconclusive > inconclusive_limit:
                return "paused (Inconclusive)"
        if successful >= count:
            return "promoted (Successful)"
    return "running"


@pytest.mark.parametrize("verdicts,outcome", [
    (["PASS"] * 8, "promoted"),
    (["INCONCLUSIVE", "PASS"] + ["PASS"] * 6, "promoted"),  # one thin interval costs one check, not the release
    (["PASS", "ROLLBACK"], "rolled back (rollback hook)"),
    (["PASS", "FAIL", "PASS", "FAIL", "FAIL"], "rolled back (3 failed checks)"),
    (["INCONCLUSIVE"] * 3, "rolled back (3 failed checks)"),  # no evidence by threshold x interval: never promoted
    (["ERROR"] * 3, "rolled back (3 failed checks)"),
    (["PASS", "PASS", "INCONCLUSIVE"], "progressing at 20 %"),
])
def test_flagger_loop_promotes_pauses_or_rolls_back_as_the_verdicts_say(verdicts: list[str], outcome: str) -> None:
    assert play_flagger(verdicts) == outcome


@pytest.mark.parametrize("verdicts,kw,outcome", [
    (["PASS"] * 5, {}, "promoted (Successful)"),
    (["PASS", "ROLLBACK"], {}, "aborted (Failed)"),
    (["FAIL", "PASS", "FAIL"], {"failure_limit": 1}, "aborted (Failed)"),
    (["PASS", "INCONCLUSIVE"], {}, "paused (Inconclusive)"),  # Argo's job provider could never say this (#2250)
    (["INCONCLUSIVE", "PASS", "PASS", "PASS", "PASS", "PASS"], {"inconclusive_limit": 1}, "promoted (Successful)"),
    (["ERROR"] * 5, {}, "aborted (Error)"),  # a dead metric source never reads as Successful (#4479)
    (["ERROR"] * 4 + ["PASS"] * 5, {}, "promoted (Successful)"),
])
def test_argo_loop_counts_failure_inconclusive_and_error_limits(verdicts: list[str], kw: dict, outcome: str) -> None:
    assert play_argo(verdicts, **kw) == outcome
