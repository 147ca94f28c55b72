"""What ``kubectl exec`` needs to run a command "inside" a pod of the sandbox."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass


@dataclass
class ExecContext:
    """The container's environment and its working directory (the pod's filesystem)."""

    env: dict[str, str]
    cwd: pathlib.Path
