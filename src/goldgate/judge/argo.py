"""Argo Rollouts' ``web`` metric provider: one measurement per call.

An AnalysisTemplate's ``web`` metric POSTs (``method: POST``, ``jsonBody``) to the judge and
reads the JSON answer; any non-2xx is an Error measurement (counted against
``consecutiveErrorLimit``), and ``successCondition`` / ``failureCondition`` are evaluated on
``result`` (docs: https://argoproj.github.io/argo-rollouts/analysis/web/). So the judge
answers 200 with the body for every verdict the template should read, and 503 only on
ERROR: ``successCondition: result.verdict == "PASS"`` and
``failureCondition: result.verdict in ["FAIL", "ROLLBACK"]`` leave INCONCLUSIVE matching
neither, which Argo records as Inconclusive and pauses the rollout on.

Body: ``{"namespace", "workload" (or "rollout"), "revision" (the rollouts-pod-template-hash),
"baseline" (optional: the stable workload)}``; the revision must name an existing
ReplicaSet of the workload (404 naming ``revision`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goldgate.judge.runs import BadRequestError, RunKey

__all__ = ["ArgoCall", "parse", "status_for"]


@dataclass(frozen=True)
class ArgoCall:
    key: RunKey
    baseline: str | None


def parse(body: Any) -> ArgoCall:
    if not isinstance(body, dict):
        raise BadRequestError("body", f"must be a JSON object, got {type(body).__name__}")
    workload_field = "rollout" if "rollout" in body and "workload" not in body else "workload"
    key = RunKey.of(body.get("namespace"), body.get(workload_field), body.get("revision"),
                    fields=("namespace", workload_field, "revision"))
    baseline = body.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not baseline):
        raise BadRequestError("baseline", "must be a workload name")
    return ArgoCall(key, baseline or None)


def status_for(verdict: str) -> int:
    return 503 if verdict == "ERROR" else 200
