"""TLS endpoints: a real handshake with chain and hostname verification, plus expiry.

Two connections: one verifying (trust store or the given CA bundle, hostname checked) to
learn whether a client would accept the endpoint, and one without verification to read
the certificate even when the first is refused, so an expired certificate still shows its
dates. Both bounded by the connect timeout.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class TlsUnavailable(Exception):  # noqa: N818 - reads as the condition
    """No TLS handshake at all (refused, timeout, not TLS); the message names the endpoint."""


@dataclass(frozen=True)
class TlsObservation:
    endpoint: str
    hostname: str
    verified: bool
    verify_error: str
    not_after: dt.datetime
    subject: str
    issuer: str
    protocol: str

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def _peer_cert(host: str, port: int, context: ssl.SSLContext, server_hostname: str, timeout: float) -> tuple[bytes, str]:
    with socket.create_connection((host, port), timeout=timeout) as sock, \
            context.wrap_socket(sock, server_hostname=server_hostname) as tls:
        der = tls.getpeercert(binary_form=True)
        return der or b"", tls.version() or ""


def inspect(url: str, *, ca_bundle: str | None = None, timeout_s: float = 3.0) -> TlsObservation:
    """Handshake with ``https://host:port`` and describe what a client would see."""
    from cryptography import x509

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    if not host:
        raise TlsUnavailable(f"{url}: no host in the TLS endpoint URL")
    verifying = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    verified, verify_error = True, ""
    try:
        _peer_cert(host, port, verifying, host, timeout_s)
    except ssl.SSLCertVerificationError as exc:
        verified, verify_error = False, exc.verify_message or str(exc)
    except (OSError, ssl.SSLError) as exc:
        raise TlsUnavailable(f"{url}: TLS handshake failed: {type(exc).__name__}: {exc}") from None
    lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lenient.check_hostname = False
    lenient.verify_mode = ssl.CERT_NONE
    try:
        der, protocol = _peer_cert(host, port, lenient, host, timeout_s)
    except (OSError, ssl.SSLError) as exc:
        raise TlsUnavailable(f"{url}: TLS handshake failed: {type(exc).__name__}: {exc}") from None
    cert = x509.load_der_x509_certificate(der)
    return TlsObservation(
        endpoint=f"{host}:{port}", hostname=host, verified=verified, verify_error=verify_error,
        not_after=cert.not_valid_after_utc, subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(), protocol=protocol,
    )
