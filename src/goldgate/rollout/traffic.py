"""A steady, bounded stream of trading requests while a rollout is monitored.

In production the users are the traffic a canary is judged on. The sandbox has no users,
so the rollout scenarios generate their own: a paced stream of XAUUSD signal requests to
the bot's Service, from a few threads, that stops at its duration or request cap,
whichever comes first, and only ever targets a loopback address.

Examples::

    with TrafficStream("http://127.0.0.1:40123", rate_rps=20, max_duration_s=60) as stream:
        ...                       # canary phases run here
    stream.stats.sent, stream.stats.server_errors
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import requests

__all__ = ["NotLoopback", "TrafficStats", "TrafficStream", "is_loopback"]

DEFAULT_PATHS = ("/api/v1/signal?symbol=XAUUSD",)


class NotLoopback(ValueError):  # noqa: N818 - reads as the reason
    """The target is not on this machine; goldgate sends generated traffic only to loopback."""


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class TrafficStats:
    """What the client side saw; compared with the server's metrics it catches a lying probe."""

    sent: int = 0
    ok: int = 0
    server_errors: int = 0
    client_errors: int = 0
    failures: int = 0
    by_status: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "ok": self.ok, "server_errors": self.server_errors,
                "client_errors": self.client_errors, "connection_failures": self.failures,
                "by_status": dict(self.by_status)}


class TrafficStream:
    """Paced GET requests at ``rate_rps`` until stopped, ``max_duration_s`` or ``max_requests``."""

    def __init__(self, base_url: str, *, rate_rps: float, max_duration_s: float, max_requests: int | None = None,
                 paths: Sequence[str] = DEFAULT_PATHS, timeout: tuple[float, float] = (2.0, 5.0),
                 workers: int = 4, observe: Callable[[requests.Response], None] | None = None) -> None:
        if not is_loopback(base_url):
            raise NotLoopback(f"{base_url}: generated traffic goes to loopback addresses only")
        if rate_rps <= 0 or max_duration_s <= 0:
            raise ValueError("rate and duration must be positive")
        self.base_url = base_url.rstrip("/")
        self.rate_rps = rate_rps
        self.max_duration_s = max_duration_s
        self.max_requests = max_requests if max_requests is not None else int(rate_rps * max_duration_s) + 1
        self.paths = tuple(paths)
        self.timeout = timeout
        self.workers = workers
        #: called with every response (e.g. to count which version answered, behind a router)
        self.observe = observe
        self.stats = TrafficStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self.started_at: float | None = None
        self.stopped_at: float | None = None

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def _one(self, path: str) -> None:
        try:
            # One connection per request: a layer-4 balancer spreads connections, not
            # requests, so kept-alive connections would pin all traffic to old pods.
            resp = self._session().get(self.base_url + path, timeout=self.timeout,
                                       headers={"Connection": "close"})
            code = resp.status_code
            if self.observe is not None:
                self.observe(resp)
        except requests.RequestException:
            with self._lock:
                self.stats.failures += 1
            return
        with self._lock:
            self.stats.by_status[code] = self.stats.by_status.get(code, 0) + 1
            if code >= 500:
                self.stats.server_errors += 1
            elif code >= 400:
                self.stats.client_errors += 1
            else:
                self.stats.ok += 1

    def _run(self) -> None:
        gap = 1.0 / self.rate_rps
        start = time.monotonic()
        deadline = start + self.max_duration_s
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="traffic") as pool:
            i = 0
            while not self._stop.is_set() and i < self.max_requests:
                due = start + i * gap
                now = time.monotonic()
                if due >= deadline or now >= deadline:
                    break
                if due > now:
                    self._stop.wait(due - now)
                    continue
                if now - due > 1.0:  # fell behind (CPU starved): skip ahead rather than burst
                    i = int((now - start) / gap)
                    continue
                pool.submit(self._one, self.paths[i % len(self.paths)])
                with self._lock:
                    self.stats.sent += 1
                i += 1
        self.stopped_at = time.time()

    def start(self) -> TrafficStream:
        self.started_at = time.time()
        self._thread = threading.Thread(target=self._run, name="traffic-stream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout[0] + self.timeout[1] + 2)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> TrafficStream:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
