"""The judge's listener over TLS, and mutual TLS as the alternative to the bearer token.

uvicorn takes its certificate, key and client CA as file paths. A value of ``judge.tls``
that is a file path is passed as it is (a mounted Secret's file); a secret reference is
resolved and its PEM written to a private folder (mode 0700, files 0600) that is removed
when the judge stops, so a key fetched from Vault never lands anywhere readable by others.

With ``client_ca`` the listener asks every client for a certificate and refuses the
handshake (``CERT_REQUIRED``) unless the CA signed it: such a connection is authenticated
before any HTTP is read, which is why the app then asks for no token
(:func:`goldgate.judge.app.create_app`'s ``client_certs``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from goldgate.config import JudgeTls, resolve_secret
from goldgate.secrets import REF_RE

__all__ = ["TlsSetupError", "uvicorn_tls"]


class TlsSetupError(Exception):
    """A ``judge.tls`` value that cannot be used; the message names the field, never the PEM."""


def _materialise(field: str, value: str, folder: Path) -> str:
    if REF_RE.match(value):
        pem = resolve_secret(value)
        if "-----BEGIN" not in pem:
            raise TlsSetupError(f"judge.tls.{field}: the secret {value.split(':', 1)[0]}:... holds no PEM block")
        path = folder / f"{field}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(pem)
        return str(path)
    if not Path(value).is_file():
        raise TlsSetupError(f"judge.tls.{field}: no file {value}")
    return value


@contextlib.contextmanager
def uvicorn_tls(tls: JudgeTls | None) -> Iterator[dict[str, Any]]:
    """uvicorn's ``ssl_*`` options for ``tls`` (empty without it); files of resolved secrets live as long as this."""
    if tls is None:
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix="goldgate-judge-tls-"))
    folder.chmod(0o700)
    try:
        options: dict[str, Any] = {"ssl_certfile": _materialise("cert", tls.cert, folder),
                                   "ssl_keyfile": _materialise("key", tls.key, folder)}
        if tls.client_ca:
            options |= {"ssl_ca_certs": _materialise("client_ca", tls.client_ca, folder),
                        "ssl_cert_reqs": ssl.CERT_REQUIRED}
        _check(options)
        yield options
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check(options: dict[str, Any]) -> None:
    """Load the files once now: a wrong key or CA is one line at start, not a failed handshake later."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(options["ssl_certfile"], options["ssl_keyfile"])
    except (ssl.SSLError, OSError) as exc:
        raise TlsSetupError(f"judge.tls.cert/key: not a usable certificate and key: {exc.__class__.__name__}: "
                            f"{getattr(exc, 'reason', None) or exc.strerror or 'unreadable'}") from None
    if "ssl_ca_certs" in options:
        try:
            ctx.load_verify_locations(options["ssl_ca_certs"])
        except (ssl.SSLError, OSError) as exc:
            raise TlsSetupError(f"judge.tls.client_ca: not a usable CA bundle: {exc.__class__.__name__}") from None
