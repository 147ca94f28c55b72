"""A loopback HTTP server that answers as a record system's API documentation shows.

Each test gives it a handler ``(path, query) -> (status, headers, body)``; the server
records every request (path, query, headers) so a test can check what the probe asked
and what it sent. Threaded ``http.server`` on 127.0.0.1, started and stopped per test
(milliseconds), nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Answer = tuple[int, dict[str, str], Any]
Handler = Callable[[str, dict[str, str]], Answer]


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    method: str = "GET"


@dataclass
class Fake:
    url: str
    requests: list[Seen] = field(default_factory=list)
    ca: str = ""  # with tls=True: the PEM file a client trusts the server's certificate by


def _tls(directory: str) -> tuple[ssl.SSLContext, str]:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (EC P-256: milliseconds)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_pem, key_pem = Path(directory, "cert.pem"), Path(directory, "key.pem")
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    return ctx, str(cert_pem)


@contextmanager
def serve(handler: Handler, tls: bool = False) -> Iterator[Fake]:
    """Serve ``handler`` on 127.0.0.1 (a str body is sent as it is: a malformed body); ``tls``
    serves HTTPS for clients that refuse plain HTTP, with ``fake.ca`` the certificate to trust."""
    fake = Fake("")
    tmp = tempfile.TemporaryDirectory(prefix="goldgate-fake-tls-")

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer({})

        def do_POST(self) -> None:
            """A form-encoded POST (Slack's Web API takes every method's arguments either way)."""
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True) if length else {}
            self._answer({k: v[-1] for k, v in form.items()})

        def _answer(self, form: dict[str, str]) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()} | form
            fake.requests.append(Seen(parts.path, query, dict(self.headers.items()), self.command))
            status, headers, body = handler(parts.path, query)
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v.replace("{url}", fake.url))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    if tls:
        ctx, fake.ca = _tls(tmp.name)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        fake.url = fake.url.replace("http://", "https://")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        tmp.cleanup()


def rate_limited_once(handler: Handler, retry_after: str = "1") -> Handler:
    """The first request answers 429 with ``Retry-After``; the rest go to ``handler``."""
    calls = {"n": 0}

    def answer(path: str, query: dict[str, str]) -> Answer:
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, {"Retry-After": retry_after}, {"message": "rate limited"}
        return handler(path, query)

    return answer
