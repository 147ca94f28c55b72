"""The environment's ``policy.require_measured``: checks that must not pass on a declaration.

A criterion that reads a field the team wrote (release.yaml's approvals, on-call names,
the deployment window) can only show that the field was written, not that it is true.
Where an environment lists such a check under ``policy.require_measured`` (production
lists the guide's §1.3 operational-readiness and §11.2 change-management checks), a
declared PASS is not enough: it becomes INCONCLUSIVE, so the run cannot end GO on it, and
says why. Anything that is not a declared PASS is left as it is (a declared FAIL is still
a FAIL: a release.yaml that states too few approvals is a breach either way).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from goldgate.criteria.registry import criterion
from goldgate.verdict import DECLARED, Status, Verdict

__all__ = ["REQUIRES_MEASUREMENT", "require_measured"]

REQUIRES_MEASUREMENT = "declared only; the environment requires a measurement"


@criterion(needs="a verdict and the names of the check it belongs to; a declared PASS of a check the "
                 "environment lists under policy.require_measured is never a PASS")
def require_measured(verdict: Verdict, check_names: Iterable[str], required: Iterable[str]) -> Verdict:
    """The verdict as the environment's policy lets it count.

    ``check_names`` are the names the environment may use for the check (scenario name,
    test name, node id, as for waivers) and the verdict's criterion; ``required`` is
    ``policy.require_measured``.
    """
    if not isinstance(verdict, Verdict):
        raise TypeError(f"require_measured needs a Verdict, got {type(verdict).__name__}")
    if verdict.status is not Status.PASS or verdict.provenance != DECLARED:
        return verdict
    wanted = {str(r) for r in required}
    names = [str(n) for n in (*check_names, verdict.criterion)]
    hit = next((n for n in names if n in wanted), None)
    if hit is None:
        return verdict
    return dataclasses.replace(
        verdict, status=Status.INCONCLUSIVE,
        reason=f"{REQUIRES_MEASUREMENT} (policy.require_measured: {hit!r}); the declaration read: "
               f"{verdict.reason or verdict.observed}")
