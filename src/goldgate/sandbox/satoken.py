"""ServiceAccount bearer tokens: minted by the kubelet for a pod, checked by the API server.

A real cluster signs projected tokens (JWTs) with a key only the control plane holds; the
sandbox keeps the same trust shape with an HMAC over ``namespace/name`` keyed by a random
file in the state directory that both the daemon's API server and its kubelet read. The
account named in a token must still exist when the token is used, as upstream checks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import pathlib
import secrets

KEY_FILE = "sa-signing.key"
_PREFIX = "sandbox-sa"


def signing_key(state_dir: pathlib.Path) -> bytes:
    """The state directory's key, created once (first writer wins, readers wait for it)."""
    path = state_dir / KEY_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _mac(key: bytes, subject: str) -> str:
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()


def issue(key: bytes, namespace: str, name: str) -> str:
    subject = f"{namespace}/{name}"
    encoded = base64.urlsafe_b64encode(subject.encode()).decode().rstrip("=")
    return f"{_PREFIX}.{encoded}.{_mac(key, subject)}"


def verify(key: bytes, token: str) -> tuple[str, str] | None:
    """(namespace, name) of a well-signed token, None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    try:
        subject = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if "/" not in subject or not hmac.compare_digest(parts[2], _mac(key, subject)):
        return None
    namespace, name = subject.split("/", 1)
    return namespace, name
