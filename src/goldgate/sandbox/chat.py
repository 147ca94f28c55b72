"""A loopback "chat webhook" for the reference release's communication channel (§1.3).

The release manifest names a channel URL that must answer; a real release points at its
chat's incoming webhook. The sandbox serves one on 127.0.0.1 from a daemon thread of the
process that materialises the release, started once and gone when the process ends.
"""

from __future__ import annotations

import http.server
import threading


class _Webhook(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b'{"ok":true,"channel":"#trading-releases"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer  # noqa: N815 - http.server's handler names

    def log_message(self, format: str, *args: object) -> None:
        return


_lock = threading.Lock()
_server: http.server.ThreadingHTTPServer | None = None


def webhook_url() -> str:
    """The URL of this process's webhook, starting it on first use."""
    global _server
    with _lock:
        if _server is None:
            _server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, kwargs={"poll_interval": 0.2},
                             name="sandbox-chat-webhook", daemon=True).start()
        return f"http://127.0.0.1:{_server.server_address[1]}/hooks/trading-releases"
