"""A loopback TLS endpoint serving the release's certificate, for the TLS check.

Stands in for the load balancer's HTTPS listener: it completes real handshakes with the
certificate chain of ``ops/tls`` and answers ``GET /health``. It runs in a daemon thread
of the test process and is stopped by whoever started it (a fixture finalizer).
"""

from __future__ import annotations

import http.server
import ssl
import threading
from pathlib import Path


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


class TlsEndpoint:
    """``with TlsEndpoint(tls_dir) as url:`` → ``https://localhost:PORT``."""

    def __init__(self, tls_dir: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_dir / "server.pem", tls_dir / "server.key")
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.ca_bundle = str(tls_dir / "ca.pem")

    @property
    def url(self) -> str:
        return f"https://localhost:{self.server.server_address[1]}"

    def start(self) -> str:
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
