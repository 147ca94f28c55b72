"""A run key, ``namespace/workload@revision``: what the judge keeps evidence for.

Flagger names a run by the canary's namespace, name and ``checksum`` (its pod-template
checksum); Argo Rollouts by the rollout and its ``rollouts-pod-template-hash``. Both are
Kubernetes names, so a key is checked against the DNS-label rules before anything is
looked up: a bad key is a 400 naming the field, never a probe call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BadRequestError", "RunKey"]

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_REVISION = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,127}$")


class BadRequestError(Exception):
    """A request the judge cannot use; ``field`` names what was wrong, the message why."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status = status


@dataclass(frozen=True)
class RunKey:
    namespace: str
    workload: str
    revision: str

    @classmethod
    def of(cls, namespace: object, workload: object, revision: object, *,
           fields: tuple[str, str, str] = ("namespace", "workload", "revision")) -> RunKey:
        """Validate the three parts; ``fields`` are the names the caller's payload uses."""
        for value, name, rule in ((namespace, fields[0], _NAME), (workload, fields[1], _NAME),
                                  (revision, fields[2], _REVISION)):
            if value is None or value == "":
                raise BadRequestError(name, "required")
            if not isinstance(value, str):
                raise BadRequestError(name, f"must be a string, got {type(value).__name__}")
            if not rule.match(value):
                raise BadRequestError(name, f"{value[:80]!r} is not a valid Kubernetes name")
        return cls(str(namespace), str(workload), str(revision))

    def __str__(self) -> str:
        return f"{self.namespace}/{self.workload}@{self.revision}"
