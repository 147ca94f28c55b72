"""Feature-flag evidence source: the Unleash server's admin API (guide §4.2).

What the server itself holds, not what a team typed into ``flags.yaml``: the flags of a
project with their type, ``stale`` marker, creation time and state per environment; the
variants an A/B flag splits into; the client metrics its SDKs report (evaluations per hour,
the applications and instances that evaluated it). Reads only: turning a kill switch off
is :mod:`goldgate.actions.flags`.

Every call has a connect and read timeout; reads are retried (bounded, with backoff) on a
refused connection, a 5xx or a 429 (its ``Retry-After`` honoured within the bound). The
admin token is sent as Unleash expects (``Authorization: <token>``) and never appears in a
message. A failed read raises :class:`FlagServerError` naming the server and the call.

Examples::

    admin = UnleashAdmin("http://127.0.0.1:4242", token, project="default", environment="production")
    [f.name for f in admin.flags() if f.stale]
    admin.usage("order_idempotency").evaluations
    admin.instances("trading-bot")          # instance ids (pod names) that reported
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

__all__ = ["FlagServerError", "FlagUsage", "ServerFlag", "UnleashAdmin", "Variant", "read_usage"]

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER_S = 10.0


class FlagServerError(RuntimeError):
    """The flag server did not answer a read usably; the message names the call."""


@dataclass(frozen=True)
class Variant:
    name: str
    weight: int  # Unleash weights sum to 1000 over a flag's variants


@dataclass(frozen=True)
class ServerFlag:
    """One flag as the server holds it, in the environment goldgate judges."""

    name: str
    type: str
    stale: bool
    created_at: dt.datetime | None
    enabled: bool | None  # None: the flag is not in that environment
    variants: tuple[Variant, ...] = ()

    @property
    def killswitch(self) -> bool:
        return self.type == "kill-switch"


@dataclass(frozen=True)
class FlagUsage:
    """The server's client metrics of one flag in one environment (its last hour)."""

    name: str
    yes: int
    no: int
    applications: tuple[str, ...] = ()
    variants: Mapping[str, int] = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        return self.yes + self.no


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class UnleashAdmin:
    """Reads of one Unleash server's admin API for one project and environment."""

    def __init__(self, url: str, token: str, *, project: str = "default", environment: str = "production",
                 connect_timeout_s: float = 3.0, read_timeout_s: float = 10.0, retries: int = 2,
                 backoff_s: float = 0.5, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url.rstrip("/")
        self.project = project
        self.environment = environment
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.retries = retries
        self.backoff_s = backoff_s
        self._token = token
        self._session = session or requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:  # never the token
        return f"UnleashAdmin({self.url!r}, project={self.project!r}, environment={self.environment!r})"

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, body: Any = None, *, retry: bool = True,
                missing: Any = ...) -> Any:
        """One admin call; reads are retried within the bound, writes (``retry=False``) never.
        ``missing``: the answer to a 404 (default: an error)."""
        where = f"Unleash {self.url}: {method} {path}"
        attempts = self.retries + 1 if retry else 1
        last = "no attempt"
        for attempt in range(attempts):
            try:
                resp = self._session.request(method, self.url + path, json=body, timeout=self.timeout,
                                             headers={"Authorization": self._token, "Accept": "application/json"})
            except requests.Timeout:
                last = f"timed out ({self.timeout[0]:g}s connect / {self.timeout[1]:g}s read)"
            except requests.RequestException as exc:
                last = f"connection failed ({type(exc).__name__})"
            else:
                if resp.status_code in (401, 403):
                    raise FlagServerError(f"{where}: HTTP {resp.status_code} (the admin token was refused)")
                if resp.status_code == 404 and missing is not ...:
                    return missing
                if resp.status_code not in RETRY_STATUSES:
                    if resp.status_code >= 400:
                        raise FlagServerError(f"{where}: HTTP {resp.status_code} {resp.text[:160]!r}")
                    if not resp.content:
                        return None
                    try:
                        return resp.json()
                    except ValueError:
                        raise FlagServerError(f"{where}: the answer is not JSON") from None
                last = f"HTTP {resp.status_code}"
                wait = self._retry_after(resp)
                if wait is not None and attempt + 1 < attempts:
                    self._sleep(wait)
                    continue
            if attempt + 1 < attempts:
                self._sleep(self.backoff_s * 2 ** attempt)
        raise FlagServerError(f"{where}: {last} after {attempts} attempt(s)")

    @staticmethod
    def _retry_after(resp: requests.Response) -> float | None:
        raw = resp.headers.get("Retry-After", "")
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(raw)))
        except ValueError:
            return None

    def _object(self, path: str, key: str | None = None) -> Any:
        body = self.request("GET", path)
        if not isinstance(body, dict) or (key is not None and not isinstance(body.get(key), list)):
            raise FlagServerError(f"Unleash {self.url}: GET {path}: expected a JSON object"
                                  + (f" with a list '{key}'" if key else ""))
        return body

    # ---------------------------------------------------------------------- reads
    def health(self) -> bool:
        try:
            self.request("GET", "/health")
        except FlagServerError:
            return False
        return True

    def flags(self) -> list[ServerFlag]:
        """Every flag of the project, with its state in the judged environment."""
        path = f"/api/admin/projects/{self.project}/features"
        body = self._object(path, "features")
        return [self._flag(item, path) for item in body["features"]]

    def flag(self, name: str) -> ServerFlag:
        """One flag with its variants in the judged environment."""
        path = f"/api/admin/projects/{self.project}/features/{name}"
        return self._flag(self._object(path), path)

    def _flag(self, item: Any, path: str) -> ServerFlag:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FlagServerError(f"Unleash {self.url}: GET {path}: a flag without a name")
        env = next((e for e in item.get("environments") or [] if isinstance(e, dict)
                    and e.get("name") == self.environment), None)
        variants = [] if env is None else self._variants(env)
        return ServerFlag(name=item["name"], type=str(item.get("type") or ""), stale=bool(item.get("stale")),
                          created_at=_time(item.get("createdAt")),
                          enabled=None if env is None else bool(env.get("enabled")), variants=tuple(variants))

    @staticmethod
    def _variants(env: Mapping[str, Any]) -> list[Variant]:
        found: list[Variant] = []
        sources: list[Any] = [env.get("variants") or []]
        sources += [s.get("variants") or [] for s in env.get("strategies") or [] if isinstance(s, dict)]
        for items in sources:
            for v in items:
                if isinstance(v, dict) and isinstance(v.get("name"), str) and isinstance(v.get("weight"), int):
                    found.append(Variant(v["name"], v["weight"]))
            if found:
                break
        return found

    def usage(self, name: str) -> FlagUsage:
        """Evaluations of the last hour in the judged environment, and who evaluated it."""
        path = f"/api/admin/client-metrics/features/{name}"
        body = self._object(path, "lastHourUsage")
        yes = no = 0
        variants: dict[str, int] = {}
        for row in body["lastHourUsage"]:
            if isinstance(row, dict) and row.get("environment") == self.environment:
                yes += int(row.get("yes") or 0)
                no += int(row.get("no") or 0)
                for variant, count in (row.get("variants") or {}).items():
                    variants[str(variant)] = variants.get(str(variant), 0) + int(count or 0)
        apps = tuple(str(a) for a in body.get("seenApplications") or [])
        return FlagUsage(name, yes, no, apps, variants)

    def instances(self, app_name: str) -> list[str]:
        """Instance ids (the pods' names) of an application that reported in the environment."""
        path = f"/api/admin/metrics/applications/{app_name}"
        body = self.request("GET", path, missing={})  # 404 until the first instance registers
        if not isinstance(body, dict):
            raise FlagServerError(f"Unleash {self.url}: GET {path}: expected a JSON object")
        items: Sequence[Any] = body.get("instances") or []
        return sorted({str(i.get("instanceId")) for i in items if isinstance(i, dict) and i.get("instanceId")
                       and i.get("environment", self.environment) == self.environment})


def read_usage(admin: UnleashAdmin, names: Sequence[str], app_name: str, pods: Sequence[str], *, wait_s: float,
               poll_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> tuple[dict[str, FlagUsage], list[str]]:
    """Usage of each flag and the application's instances, read again (up to ``wait_s``) until
    every flag shows evaluations by ``app_name`` and every pod reported: SDKs send their
    metrics every few seconds, so a freshly started pod shows up only after one interval."""
    deadline = clock() + wait_s
    while True:
        usages = {name: admin.usage(name) for name in names}
        instances = admin.instances(app_name)
        complete = all(u.evaluations > 0 and app_name in u.applications for u in usages.values()) \
            and set(pods) <= set(instances)
        if complete or clock() >= deadline:
            return usages, instances
        sleep(poll_s)
