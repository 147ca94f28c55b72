"""The one safety policy every mutation passes through.

goldgate is read-only by default. Anything that changes a target — a rollback, a traffic
switch, a canary weight, load against production — asks :meth:`SafetyPolicy.require`
first. Against an environment marked ``production: true`` a change ticket is also
required, and it goes into the audit record with every action taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TICKET_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*-\d+$")


class MutationRefused(Exception):  # noqa: N818 - reads as what happened
    """A mutation was asked for without the permission it needs; the message says which."""


@dataclass
class SafetyPolicy:
    environment: str
    production: bool
    allow_mutations: bool = False
    change: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Why a mutating run may not start; empty when it may."""
        out = []
        if not self.allow_mutations:
            out.append("mutations are disabled: pass --allow-mutations")
        if self.production and not self.change:
            out.append(f"environment {self.environment!r} is production: pass --change=TICKET")
        if self.change and not TICKET_RE.match(self.change):
            out.append(f"--change={self.change!r} is not a ticket id like CHG-123")
        return out

    def require(self, action: str) -> None:
        """Raise MutationRefused unless ``action`` is allowed under this run's flags."""
        problems = self.problems()
        if problems:
            raise MutationRefused(f"refused to {action}: " + "; ".join(problems))

    def record(self, action: str, target: str, outcome: str, **details: Any) -> None:
        """Keep every mutation for the evidence and the audit trail."""
        self.actions.append({"action": action, "target": target, "outcome": outcome, "change": self.change, **details})
