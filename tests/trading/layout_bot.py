"""A second bot layout: a small trading bot whose record and kill switch use other names.

A team's bot need not look like the reference bot. This one keeps its decisions under
``/v2/journal`` (``after``/``max`` parameters), calls a bar ``ts`` (epoch seconds), the
symbol ``instrument``, the signal ``action``, its orders ``tickets`` (``lots``,
``state``...), its P&L ``equity_pnl`` and its kill switch ``/v2/kill``. It serves on
loopback from a thread; every test configures goldgate's ``trading:`` names for it.
It decides every ``bar_s`` on its own, like a real bot, and can ignore its kill switch.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from goldgate.config import TradingFields, TradingSettings

SETTINGS = TradingSettings(
    decisions_path="/v2/journal", halt_path="/v2/kill", resume_path="/v2/unkill", status_path="/v2/state",
    since_param="after", limit_param="max", page_size=50, time_format="epoch",
    fields=TradingFields(decisions="journal", bar_time="ts", symbol="instrument", signal="action",
                         model_version="model", mid="mid_price", orders="tickets", order_id="ticket",
                         side="direction", volume="lots", limit_price="price", status="state",
                         fill_price="filled_at", reject_reason="why", placed_at="sent",
                         halted="paused", position="exposure", pnl="equity_pnl", open_orders="resting",
                         cancelled_orders="cancelled"),
)


@dataclass
class LayoutBot:
    bar_s: float = 0.05
    volume: float = 0.1
    ignore_kill: bool = False
    malformed: bool = False
    fail_every: int = 0
    journal: list[dict[str, Any]] = field(default_factory=list)
    paused: bool = False
    requests: int = 0

    def start(self) -> str:
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                bot.requests += 1
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if bot.fail_every and bot.requests % bot.fail_every == 0:
                    self._send(503, {"error": "burst"})
                    return
                if url.path != "/v2/journal":
                    self._send(404, {"error": "not found"})
                    return
                if bot.malformed:
                    self._send(200, {"journal": [{"instrument": "XAUUSD", "action": "BUY"}]})
                    return
                after = float(q.get("after", "0"))
                limit = int(q.get("max", "50"))
                with bot._lock:
                    rows = [r for r in bot.journal if r["ts"] > after][:limit]
                    self._send(200, {"journal": rows, **bot.state()})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path == "/v2/kill":
                    with bot._lock:
                        cancelled = [t["ticket"] for r in bot.journal for t in r["tickets"] if t["state"] == "open"]
                        for r in bot.journal:
                            for t in r["tickets"]:
                                if t["state"] == "open":
                                    t["state"] = "cancelled"
                        bot.paused = True
                        self._send(200, {"paused": True, "cancelled": cancelled, **bot.state()})
                    return
                if self.path == "/v2/unkill":
                    bot.paused = False
                    self._send(200, {"paused": False})
                    return
                self._send(404, {"error": "not found"})

        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._loop, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def state(self) -> dict[str, Any]:
        lots = sum((1 if t["direction"] == "BUY" else -1) * t["lots"] for r in self.journal for t in r["tickets"]
                   if t["state"] == "filled")
        resting = sum(1 for r in self.journal for t in r["tickets"] if t["state"] == "open")
        return {"paused": self.paused, "exposure": {"XAUUSD": round(lots, 3)},
                "equity_pnl": -1.5 * len(self.journal) / 10, "resting": resting}

    def _loop(self) -> None:
        k = int(time.time() / self.bar_s)
        n = 0
        while not self._stop.is_set():
            k += 1
            wait = k * self.bar_s - time.time()
            if wait > 0:
                time.sleep(wait)
            n += 1
            ts = round(k * self.bar_s, 3)
            action = ("BUY", "SELL", "HOLD")[k % 3]
            with self._lock:
                for r in self.journal:  # last bar's orders fill now
                    for t in r["tickets"]:
                        if t["state"] == "open":
                            t["state"], t["filled_at"] = "filled", t["price"]
                tickets = []
                if action != "HOLD" and (not self.paused or self.ignore_kill):
                    tickets.append({"ticket": f"t-{k}", "direction": action, "lots": self.volume,
                                    "price": 2350.0, "state": "open", "filled_at": None, "why": None,
                                    "sent": time.time()})
                self.journal.append({"ts": ts, "instrument": "XAUUSD", "action": action, "model": "m-7",
                                     "mid_price": 2350.0, "tickets": tickets})

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
