"""``env:VAR`` and ``file:PATH``: secrets the process already holds.

CI systems inject credentials as variables; Kubernetes mounts Secrets as files. Both are
read as they are at the moment of use (a rotated file is picked up by the next run).
"""

from __future__ import annotations

import os
from pathlib import Path

from goldgate.secrets.errors import unresolved
from goldgate.secrets.refs import Reference


def read_env(ref: Reference) -> str:
    value = os.environ.get(ref.location)
    if value is None:
        raise unresolved(ref.text, f"environment variable {ref.location} is not set")
    return value


def read_file(ref: Reference) -> str:
    path = Path(ref.location).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise unresolved(ref.text, f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise unresolved(ref.text, f"cannot read {path}: not UTF-8 text") from None
