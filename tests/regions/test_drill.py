"""The failover drill end to end: ``features/recovery/failover.feature`` run by pytest
against two-region sandboxes, as an SRE would run it (``--allow-mutations``), with the
verdict file and audit trail it writes read back.

Healthy regions pass every step and the audit trail then satisfies the quarterly check;
each planted fault FAILs with the measured value and the threshold: a lagging standby
(replication paused) breaches the RPO, a secondary that is not Ready and a global
endpoint without health checks breach the RTO. ``down`` leaves no process behind.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from goldgate.sandbox import lifecycle
from goldgate.sandbox.regions import pair
from goldgate.sandbox.regions import postgres as pg
from tests.regions.conftest import ROOT, global_state, kubectl

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

DRILL = "fails_over"
RECENT = "quarter"


def run_feature(info: lifecycle.SandboxInfo, select: str, out: pathlib.Path, *, mutations: bool = True,
                **objectives: float) -> tuple[int, dict[str, Any]]:
    verdict_file = out / f"verdict-{select}.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{lifecycle.DIR_ENV: str(info.state_dir)},
               **{f"GOLDGATE_TEST_{k.upper()}": str(v) for k, v in objectives.items()})
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "features/recovery/test_failover.py",
           "--env=local", "-p", "tests.regions.env_plugin", "-k", select, "--audit-log", str(out / "audit.jsonl"),
           "--verdict-file", str(verdict_file), *(["--allow-mutations"] if mutations else []),
           *[arg for fault in info.faults for arg in ("--sandbox-fault", fault)]]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert verdict_file.is_file(), done.stdout[-3000:] + done.stderr[-2000:]
    return done.returncode, json.loads(verdict_file.read_text())


def criteria(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["criterion"].split(" (")[0]: c for c in verdict["criteria"]}


def drills(out: pathlib.Path) -> list[dict[str, Any]]:
    found = []
    for line in (out / "audit.jsonl").read_text().splitlines():
        found += [a for a in json.loads(line)["actions"] if a["action"] == "failover-drill"]
    return found


@pytest.fixture(scope="module")
def healthy(regions_factory: Any) -> lifecycle.SandboxInfo:
    return regions_factory("healthy", [])


def test_two_regions_each_with_its_own_context_and_bot(healthy: lifecycle.SandboxInfo) -> None:
    contexts = kubectl(healthy, "config", "get-contexts", "-o", "name").split()
    assert contexts == ["goldgate-sandbox", "goldgate-sandbox-secondary"]
    for context in contexts:
        ready = kubectl(healthy, "get", "deploy", "trading-bot", "-o", "jsonpath={.status.readyReplicas}",
                        context=context)
        assert int(ready) >= 1
    where = pair.folder(healthy.state_dir)
    primary_db, standby_db = pair.servers(where)
    assert not pg.in_recovery(primary_db) and pg.in_recovery(standby_db)
    assert healthy.regions["global_url"].startswith("http://127.0.0.1:")
    assert global_state(healthy)["active"] == "primary"


def test_healthy_drill_passes_and_the_audit_trail_shows_it(healthy: lifecycle.SandboxInfo,
                                                           tmp_path: pathlib.Path) -> None:
    code, verdict = run_feature(healthy, DRILL, tmp_path)
    assert code == 0 and verdict["decision"] == "GO", verdict["reasons"]
    found = criteria(verdict)
    assert {name: c["status"] for name, c in found.items()} == {
        "region failover within the RTO": "PASS", "data lost in the failover within the RPO": "PASS",
        "no automatic failback to the primary region": "PASS",
        "the global endpoint serves from the primary region after the manual failback": "PASS"}
    assert found["data lost in the failover within the RPO"]["value"] == 0.0
    [drill] = drills(tmp_path)
    assert drill["result"] == "passed" and drill["orders_missing"] == 0 and drill["orders_checked"] > 0
    assert global_state(healthy)["active"] == "primary"  # failed back by the runbook step

    code, verdict = run_feature(healthy, RECENT, tmp_path, mutations=False)
    assert code == 0 and criteria(verdict)["a passed failover drill within the last 92 days"]["status"] == "PASS"


def test_without_mutations_the_drill_does_not_run(healthy: lifecycle.SandboxInfo, tmp_path: pathlib.Path) -> None:
    code, verdict = run_feature(healthy, DRILL, tmp_path, mutations=False)
    assert code != 0 and not verdict["criteria"]
    assert global_state(healthy)["active"] == "primary"


def test_the_lagging_standby_rehearsal_passes_and_fails_back(healthy: lifecycle.SandboxInfo,
                                                             tmp_path: pathlib.Path) -> None:
    code, verdict = run_feature(healthy, "lags", tmp_path)
    assert code == 0, verdict["reasons"]
    rehearsal = criteria(verdict)["a lagging standby fails the §9.1 RPO in a failover drill"]
    assert rehearsal["status"] == "PASS" and rehearsal["value"] == "FAIL"
    assert "acknowledged orders are missing" in rehearsal["reason"] and "threshold 1 s" in rehearsal["reason"]
    [drill] = drills(tmp_path)
    assert drill["result"] == "rehearsal" and drill["orders_missing"] > 0 and drill["planted_fault"]
    assert global_state(healthy)["active"] == "primary"  # the teardown ran the failback runbook
    primary_db, standby_db = pair.servers(pair.folder(healthy.state_dir))
    assert not pg.in_recovery(primary_db) and pg.in_recovery(standby_db)
    pg.wait_caught_up(primary_db, standby_db)


def test_lagging_standby_breaches_the_rpo(healthy: lifecycle.SandboxInfo, tmp_path: pathlib.Path) -> None:
    _, standby_db = pair.servers(pair.folder(healthy.state_dir))
    pg.pause_replication(standby_db)
    code, verdict = run_feature(healthy, DRILL, tmp_path, rpo_s=1.0)
    assert code != 0
    rpo = criteria(verdict)["data lost in the failover within the RPO"]
    assert rpo["status"] == "FAIL" and rpo["threshold"] == 1.0 and rpo["value"] > 1.0
    assert "acknowledged orders are missing" in rpo["reason"]
    [drill] = drills(tmp_path)
    assert drill["result"] == "failed" and drill["orders_missing"] > 0 and drill["checks"]["rpo"] == "FAIL"


@pytest.mark.parametrize("fault", ["secondary-not-ready", "global-no-health-checks"])
def test_fault_breaches_the_rto(regions_factory: Any, tmp_path: pathlib.Path, fault: str) -> None:
    info = regions_factory(fault, [fault])
    code, verdict = run_feature(info, DRILL, tmp_path, rto_s=6.0)
    assert code != 0
    rto = criteria(verdict)["region failover within the RTO"]
    assert rto["status"] == "FAIL" and rto["threshold"] == 6.0 and str(rto["value"]).startswith("> "), \
        (rto["status"], rto["reason"], drills(tmp_path))
    assert "no order acknowledged" in rto["reason"]
    state = global_state(info)
    if fault == "global-no-health-checks":
        assert state["checks"] == 0 and not state["health_checks"] and state["failed_over_at"] is None
    else:  # it failed over to a secondary with nothing Ready; the drill's teardown failed back
        assert state["failed_over_at"] and state["failed_back_at"]
    assert state["active"] == "primary"
    [drill] = drills(tmp_path)
    assert drill["result"] == "failed" and drill["checks"]["rto"] == "FAIL"
