"""Evidence for guide §1.3's readiness lines: the release manifest's communication,
notification and on-call records, the channel's answer, and the audit trail's rehearsals.

The release manifest (``release.yaml``) carries, next to its approvals and window::

    deployment_window: {start: "2026-12-01T06:00:00Z", end: "2026-12-01T10:00:00Z"}
    communication:
      channel: "#trading-releases"
      url: https://chat.example.com/hooks/trading-releases   # must answer an HTTP GET
    notifications:
      - {audience: stakeholders, channel: email, sent_at: "2026-11-30T16:00:00Z"}
    on_call_schedule:
      - {name: dana.ortiz, role: primary, start: "...", end: "...", confirmed: true}
    rollback_rehearsal_log: ops/audit.jsonl    # optional; relative to the manifest

This module reads the raw YAML itself (the shared manifest reader keeps its own fields)
and is strict about meaning: a time that is not ISO-8601 with a time zone, a list that is
not a list, or an entry that is not a mapping is :class:`ArtifactUnavailable` naming the
file and the field, never a guess. A probe never decides; the criteria in
:mod:`goldgate.criteria.readiness` do.

Example::

    facts = read_readiness(Path("release.yaml"))
    answer = probe_channel(facts.channel_url, Timeouts())
    runs = read_audit_runs(Path("reports/audit.jsonl"))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from goldgate import safeload
from goldgate.config import Timeouts
from goldgate.probes.artifacts import ArtifactUnavailable, load_yaml
from goldgate.probes.artifacts.manifest import timestamp
from goldgate.probes.http import HttpProbe

__all__ = [
    "AuditAction",
    "AuditRun",
    "ChannelAnswer",
    "Notification",
    "ReleaseReadiness",
    "Shift",
    "probe_channel",
    "read_audit_runs",
    "read_readiness",
]


@dataclass(frozen=True)
class Notification:
    audience: str
    channel: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class Shift:
    name: str
    role: str
    start: dt.datetime | None
    end: dt.datetime | None
    confirmed: bool


@dataclass(frozen=True)
class ReleaseReadiness:
    """The §1.3 fields of one release manifest."""

    path: str
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    channel: str
    channel_url: str | None
    notifications: tuple[Notification, ...]
    shifts: tuple[Shift, ...]
    rehearsal_log: Path | None


@dataclass(frozen=True)
class ChannelAnswer:
    url: str
    status: int
    elapsed_s: float


@dataclass(frozen=True)
class AuditAction:
    action: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class AuditRun:
    run_id: str
    finished_at: dt.datetime | None
    environment: str
    production: bool
    reason: str
    actions: tuple[AuditAction, ...]


def _entries(path: Path, raw: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    value = raw.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ArtifactUnavailable(path, f"{field}: expected a list, got {type(value).__name__}")
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise ArtifactUnavailable(path, f"{field}[{i}]: expected a mapping, got {type(entry).__name__}")
    return value


def _window(path: Path, raw: Mapping[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    window = raw.get("deployment_window")
    if window is None:
        return None, None
    if isinstance(window, str) and "/" in window:
        start, _, end = window.partition("/")
        return timestamp(path, "deployment_window", start), timestamp(path, "deployment_window", end)
    if not isinstance(window, Mapping):
        raise ArtifactUnavailable(path, "deployment_window: expected {start, end} or 'START/END'")
    return (timestamp(path, "deployment_window.start", window.get("start")),
            timestamp(path, "deployment_window.end", window.get("end")))


def read_readiness(path: Path) -> ReleaseReadiness:
    """The manifest's §1.3 records; fields at the top level or under ``release:``."""
    raw = load_yaml(path, "release manifest")
    if isinstance(raw, Mapping) and isinstance(raw.get("release"), Mapping):
        raw = {**raw, **raw["release"]}
    if not isinstance(raw, Mapping):
        raise ArtifactUnavailable(path, f"expected a mapping at the top level, got {type(raw).__name__}")
    start, end = _window(path, raw)
    comm = raw.get("communication") or {}
    if not isinstance(comm, Mapping):
        raise ArtifactUnavailable(path, "communication: expected a mapping with channel and url")
    url = comm.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise ArtifactUnavailable(path, f"communication.url: not an http(s) URL: {url!r}")
    notes = tuple(
        Notification(str(e.get("audience", "")), str(e.get("channel", "")),
                     timestamp(path, f"notifications[{i}].sent_at", e.get("sent_at")))
        for i, e in enumerate(_entries(path, raw, "notifications")))
    shifts = tuple(
        Shift(str(e.get("name", "")), str(e.get("role", "")),
              timestamp(path, f"on_call_schedule[{i}].start", e.get("start")),
              timestamp(path, f"on_call_schedule[{i}].end", e.get("end")),
              e.get("confirmed") is True)
        for i, e in enumerate(_entries(path, raw, "on_call_schedule")))
    log = raw.get("rollback_rehearsal_log")
    if log is not None and not isinstance(log, str):
        raise ArtifactUnavailable(path, "rollback_rehearsal_log: expected a path")
    log_path = None if not log else (Path(log) if Path(log).is_absolute() else path.parent / log)
    return ReleaseReadiness(str(path), start, end, str(comm.get("channel", "")), url, notes, shifts, log_path)


def probe_channel(url: str | None, timeouts: Timeouts, *, source: str = "release manifest") -> ChannelAnswer:
    """One bounded GET of the channel URL; no HTTP answer is :class:`ArtifactUnavailable`."""
    if not url:
        raise ArtifactUnavailable(source, "communication.url is not set: no channel to check")
    parts = urlsplit(url)
    probe = HttpProbe(f"{parts.scheme}://{parts.netloc}", timeouts)
    try:
        obs = probe.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    finally:
        probe.close()
    if obs.error or obs.status is None:
        raise ArtifactUnavailable(url, f"the communication channel did not answer: {obs.error}")
    return ChannelAnswer(obs.url, obs.status, (obs.elapsed_ms or 0.0) / 1000)


def read_audit_runs(path: Path) -> list[AuditRun]:
    """Every run of a goldgate audit trail, after checking its hash chain.

    A trail that does not verify is not evidence of anything: ArtifactUnavailable names
    the first problem (``goldgate audit verify`` shows them all).
    """
    from goldgate import audit_trail as audit

    if not path.is_file():
        raise ArtifactUnavailable(path, "audit trail not found")
    try:
        _, problems = audit.verify(path)
        records = audit.read_records(path)
    except safeload.LoadError as exc:
        raise ArtifactUnavailable(path, f"cannot read the audit trail: {exc.located_cause}") from None
    if problems:
        raise ArtifactUnavailable(path, f"the audit trail does not verify: {problems[0]}")
    runs = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ArtifactUnavailable(path, f"record {i + 1}: not a JSON object")
        when = rec.get("when") if isinstance(rec.get("when"), Mapping) else {}
        where = rec.get("where") if isinstance(rec.get("where"), Mapping) else {}
        why = rec.get("why") if isinstance(rec.get("why"), Mapping) else {}
        acts = tuple(AuditAction(str(a.get("action", "")), str(a.get("outcome", "")), str(a.get("reason") or ""))
                     for a in rec.get("actions") or [] if isinstance(a, Mapping))
        runs.append(AuditRun(str(rec.get("run_id", "")), timestamp(path, f"record {i + 1} when.finished",
                                                                   when.get("finished")),
                             str(where.get("environment", "")), where.get("production") is not False,
                             str(why.get("reason") or ""), acts))
    return runs


def this_run(actions: Sequence[Mapping[str, Any]], *, environment: str, production: bool, reason: str,
             finished_at: dt.datetime) -> AuditRun:
    """The running run as an audit record so far: the actions the safety policy recorded.

    Its own record is appended to the trail only when the run ends; a check of the trail
    made during the run reads this instead, so the rollbacks it did already count.
    """
    acts = tuple(AuditAction(str(a.get("action", "")), str(a.get("outcome", "")), str(a.get("reason") or ""))
                 for a in actions if isinstance(a, Mapping))
    return AuditRun("this run", finished_at, environment, production, reason, acts)
