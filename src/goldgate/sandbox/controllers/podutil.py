"""Small readings of stored objects that several controllers share."""

from __future__ import annotations

import datetime as dt
from typing import Any

Obj = dict[str, Any]


def controller_uid(obj: Obj) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def owner_ref(owner: Obj, kind: str, api_version: str) -> Obj:
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def is_deleting(obj: Obj) -> bool:
    return "deletionTimestamp" in obj.get("metadata", {})


def is_active(pod: Obj) -> bool:
    """Counts toward a ReplicaSet: not terminating, not finished (FilterActivePods)."""
    phase = pod.get("status", {}).get("phase")
    return not is_deleting(pod) and phase not in ("Succeeded", "Failed")


def condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def is_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_available(pod: Obj, min_ready_seconds: int, now: dt.datetime | None = None) -> bool:
    """Ready for at least ``minReadySeconds`` (podutil.IsPodAvailable)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time((condition(pod, "Ready") or {}).get("lastTransitionTime"))
    if since is None:
        return False
    return (now or utcnow()) - since >= dt.timedelta(seconds=min_ready_seconds)


def set_condition(conditions: list[Obj], new: Obj, now: str) -> list[Obj]:
    """Upsert a condition; lastTransitionTime only moves when status changes."""
    out = [c for c in conditions if c.get("type") != new["type"]]
    old = next((c for c in conditions if c.get("type") == new["type"]), None)
    cond = dict(new)
    if old is not None and old.get("status") == new["status"]:
        cond["lastTransitionTime"] = old.get("lastTransitionTime", now)
    else:
        cond["lastTransitionTime"] = now
    out.append(cond)
    return out
