"""Flagger's webhooks, answered by goldgate's verdicts.

Flagger POSTs ``{"name", "namespace", "phase", "checksum", "metadata"}`` to each webhook of a
``Canary`` and decides from the status code alone (docs: https://docs.flagger.app/usage/webhooks
and, for the event payload, https://docs.flagger.app/usage/monitoring#event-webhook):

* ``confirm-rollout`` — before the canary is scaled up; the rollout waits until a 2xx;
* ``pre-rollout`` — before traffic reaches the canary; a failure pauses the advancement and
  counts towards the analysis ``threshold`` (then Flagger rolls back);
* ``rollout`` — every analysis iteration before the metric checks; a failure counts likewise;
* ``confirm-traffic-increase`` / ``confirm-promotion`` — before a weight increase / the
  promotion; Flagger waits (uncounted) until HTTP 200;
* ``rollback`` — polled while the canary is Progressing or Waiting; HTTP 200 rolls it back;
* ``post-rollout`` — after promotion or rollback, failures only logged; ``event`` — Flagger's
  event webhook (``metadata.eventMessage``, ``eventType``, ``timestamp``).

Flagger discards the body of a 5xx, so every "no" is a 4xx with the verdict and its reason in
the JSON body; no verdict other than PASS is ever a 2xx on a gating hook:

=============================  ====  ====  ========  ============  =====
hook                           PASS  FAIL  ROLLBACK  INCONCLUSIVE  ERROR
=============================  ====  ====  ========  ============  =====
rollout, pre-rollout           200   422   422       409           424
confirm-rollout,               200   422   422       409           424
confirm-traffic-increase,
confirm-promotion
rollback                       409   409   200       409           409
post-rollout, event            200 (recorded in the audit trail; no verdict)
=============================  ====  ====  ========  ============  =====

On the counting hooks (``rollout``, ``pre-rollout``) an INCONCLUSIVE counts as a failed
check: Flagger's ``threshold`` x ``interval`` is then the deadline for enough evidence, as a
goldgate canary phase still INCONCLUSIVE at its deadline rolls back. On the ``confirm-*``
hooks it only holds the canary where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goldgate.judge.runs import BadRequestError, RunKey

__all__ = ["CONFIRM", "COUNTING", "HOOKS", "RECORDED", "FlaggerCall", "parse", "status_for"]

COUNTING = ("rollout", "pre-rollout")
CONFIRM = ("confirm-rollout", "confirm-traffic-increase", "confirm-promotion")
RECORDED = ("post-rollout", "event")
HOOKS = (*COUNTING, *CONFIRM, "rollback", *RECORDED)

_GATING = {"PASS": 200, "FAIL": 422, "ROLLBACK": 422, "INCONCLUSIVE": 409, "ERROR": 424}


@dataclass(frozen=True)
class FlaggerCall:
    hook: str
    name: str
    namespace: str
    phase: str
    checksum: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> RunKey:
        return RunKey.of(self.namespace, self.name, self.checksum, fields=("namespace", "name", "checksum"))


def parse(hook: str, body: Any) -> FlaggerCall:
    """Validate a webhook payload; a 4xx naming the field for anything unusable."""
    if hook not in HOOKS:
        raise BadRequestError("hook", f"unknown Flagger hook {hook[:60]!r} (known: {', '.join(HOOKS)})", status=404)
    if not isinstance(body, dict):
        raise BadRequestError("body", f"must be a JSON object, got {type(body).__name__}")
    for name in ("name", "namespace"):
        if not isinstance(body.get(name), str) or not body.get(name):
            raise BadRequestError(name, "required (a non-empty string)")
    checksum = body.get("checksum", "")
    if hook not in RECORDED and (not isinstance(checksum, str) or not checksum):
        raise BadRequestError("checksum", "required on a gating hook (the canary's pod-template checksum)")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequestError("metadata", f"must be an object of strings, got {type(metadata).__name__}")
    phase = body.get("phase", "")
    if not isinstance(phase, str):
        raise BadRequestError("phase", f"must be a string, got {type(phase).__name__}")
    call = FlaggerCall(hook, body["name"], body["namespace"], phase, checksum if isinstance(checksum, str) else "",
                       {str(k): str(v) for k, v in metadata.items()})
    if hook not in RECORDED:
        call.key  # noqa: B018 - validates the names (400 naming the field)
    else:
        RunKey.of(call.namespace, call.name, "event", fields=("namespace", "name", "checksum"))
    return call


def status_for(hook: str, verdict: str) -> int:
    """The HTTP status Flagger reads for ``verdict`` on ``hook`` (table above)."""
    if hook == "rollback":
        return 200 if verdict == "ROLLBACK" else 409
    if hook in RECORDED:
        return 200
    return _GATING.get(verdict, 424)
