"""Turning a feature flag off and on again on the flag server: the kill-switch exercise.

Guide §4.2 asks that a feature can be disabled without redeployment. The only proof is to
do it: goldgate turns the flag off on the server (an audited mutation behind
--allow-mutations), watches every pod of the release until its gauge shows the feature off
(bounded by the client's refresh interval plus a margin), then turns the flag back on, in a
``finally`` so an interrupted exercise never leaves a feature off. Pod uids and restart
counts are read before and after, so a "kill switch" that works by restarting pods shows.

Examples::

    run = exercise_kill_switch(admin, safety, pods, "order_idempotency", watch_s=4.0)
    run.off_after_s          # {"trading-bot-x": 1.2, ...}
"""

from __future__ import annotations

import time
from collections.abc import Callable

from goldgate.actions.base import ActionFailed, SafetyLike, perform
from goldgate.probes.feature_pods import FeaturePods, KillSwitchRun
from goldgate.probes.flags import FlagServerError, UnleashAdmin

__all__ = ["exercise_kill_switch", "set_flag"]


def set_flag(admin: UnleashAdmin, safety: SafetyLike, name: str, on: bool) -> None:
    """``POST .../environments/<env>/on|off`` (never retried: a write may have been applied)."""
    state = "on" if on else "off"
    path = f"/api/admin/projects/{admin.project}/features/{name}/environments/{admin.environment}/{state}"

    def change() -> None:
        try:
            admin.request("POST", path, retry=False)
        except FlagServerError as exc:
            raise ActionFailed(str(exc)) from None

    perform(safety, f"feature flag {state}", f"{admin.url} {admin.project}/{admin.environment}/{name}", change)


def exercise_kill_switch(admin: UnleashAdmin, safety: SafetyLike, pods: FeaturePods, name: str, *,
                         watch_s: float, poll_s: float = 0.25,
                         clock: Callable[[], float] = time.monotonic,
                         sleep: Callable[[float], None] = time.sleep) -> KillSwitchRun:
    """Off, watch the pods until each shows the feature off (or ``watch_s`` passes), on again."""
    before = pods.identities()
    on_before = tuple(pods.read(name))
    off_after: dict[str, float] = {}
    errors: list[str] = []
    readings = 0
    restored = False
    set_flag(admin, safety, name, on=False)
    started = clock()
    try:
        while True:
            elapsed = clock() - started
            readings += 1
            for reading in pods.read(name):
                if reading.error:
                    errors.append(reading.error)
                elif reading.value == 0 and reading.pod not in off_after:
                    off_after[reading.pod] = round(elapsed, 2)
            if (on_before and all(p.pod in off_after for p in on_before)) or elapsed >= watch_s:
                break
            sleep(poll_s)
    finally:
        set_flag(admin, safety, name, on=True)
        restored = True
    return KillSwitchRun(flag=name, watched_s=round(clock() - started, 2), before=before, after=pods.identities(),
                         on_before=on_before, off_after_s=off_after, readings=readings, restored=restored,
                         errors=tuple(dict.fromkeys(errors))[:5])
