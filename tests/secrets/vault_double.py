"""A small HTTP test double of the Vault endpoints goldgate uses, on 127.0.0.1.

No Vault server package is available to the test environment, so the Vault path is
exercised through the real hvac client against this double: KV v2 reads
(``GET /v1/<mount>/data/<path>``), KV v1 reads (``GET /v1/<mount>/<path>``), the token
lookup (``GET /v1/auth/token/lookup-self``) and the Kubernetes login
(``POST /v1/auth/<path>/login``), with Vault's status codes and JSON shapes (403 with
``{"errors": ["permission denied"]}``, 404 with ``{"errors": []}``). Everything else —
timeouts, retries, TLS, redaction — runs for real against it.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class VaultState:
    """What the double knows: mounts, secrets, tokens and their allowed path prefixes."""

    mounts: dict[str, int] = field(default_factory=lambda: {"secret": 2, "kv1": 1})
    secrets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, list[str]] = field(default_factory=dict)
    #: (auth path, role) -> (accepted service-account JWT, allowed path prefixes)
    roles: dict[tuple[str, str], tuple[str, list[str]]] = field(default_factory=dict)
    #: status codes answered (once each) before the real answer, to exercise retries
    fail_next: list[int] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0


def _handler(state: VaultState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _record(self) -> str:
            path = urlsplit(self.path).path
            state.log.append({"method": self.command, "path": path, "token": self.headers.get("X-Vault-Token"),
                              "namespace": self.headers.get("X-Vault-Namespace")})
            return path

        def _allowed(self, logical: str) -> bool:
            prefixes = state.tokens.get(self.headers.get("X-Vault-Token") or "")
            return prefixes is not None and any(logical.startswith(p) for p in prefixes)

        def do_GET(self) -> None:
            path = self._record()
            if state.fail_next:
                self._answer(state.fail_next.pop(0), {"errors": ["Vault is sealed"]})
                return
            if path == "/v1/auth/token/lookup-self":
                token = self.headers.get("X-Vault-Token") or ""
                if token in state.tokens:
                    self._answer(200, {"data": {"id": token, "policies": ["goldgate-read"], "ttl": 3600}})
                else:
                    self._answer(403, {"errors": ["permission denied"]})
                return
            parts = path.removeprefix("/v1/").split("/")
            mount = parts[0]
            version = state.mounts.get(mount)
            if version == 2 and len(parts) > 2 and parts[1] == "data":
                secret_path = "/".join(parts[2:])
            elif version == 1 and len(parts) > 1:
                secret_path = "/".join(parts[1:])
            else:
                self._answer(404, {"errors": [f"no handler for route '{path}'"]})
                return
            if not self._allowed(f"{mount}/{secret_path}"):
                self._answer(403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]})
                return
            data = state.secrets.get((mount, secret_path))
            if data is None:
                self._answer(404, {"errors": []})
            elif version == 2:
                self._answer(200, {"data": {"data": data, "metadata": {"version": 3, "deletion_time": ""}}})
            else:
                self._answer(200, {"data": data, "lease_duration": 2764800})

        def do_POST(self) -> None:
            path = self._record()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if state.fail_next:
                self._answer(state.fail_next.pop(0), {"errors": ["Vault is sealed"]})
                return
            parts = path.removeprefix("/v1/auth/").split("/")
            if len(parts) != 2 or parts[1] != "login":
                self._answer(404, {"errors": [f"no handler for route '{path}'"]})
                return
            role = state.roles.get((parts[0], body.get("role", "")))
            if role is None:
                self._answer(400, {"errors": [f"invalid role name \"{body.get('role')}\""]})
            elif body.get("jwt") != role[0]:
                self._answer(403, {"errors": ["permission denied"]})
            else:
                state.issued += 1
                token = f"hvs.issued-by-double-{state.issued:04d}"
                state.tokens[token] = role[1]
                self._answer(200, {"auth": {"client_token": token, "policies": ["goldgate-read"],
                                            "lease_duration": 3600, "renewable": True}})

    return Handler


class VaultDouble:
    """Serve :class:`VaultState` on 127.0.0.1 (HTTPS with ``ssl_context``) in a thread."""

    def __init__(self, state: VaultState | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        self.state = state or VaultState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.server.daemon_threads = True
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def reads(self, fragment: str) -> int:
        """How many requests reached a path containing ``fragment``."""
        return sum(1 for entry in self.state.log if fragment in entry["path"])

    def __enter__(self) -> VaultDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
