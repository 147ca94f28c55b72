"""The §1.3 readiness feature end to end through pytest-bdd, on a release whose evidence is
wrong in four ways: the channel answers 503, the stakeholders heard after the window
opened, the on-call shifts leave a gap, and the last rehearsal is 45 days old. Each
scenario fails with its value and threshold; none errors, none passes."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from goldgate.report import audit
from goldgate.sandbox import release

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "communication_channel or stakeholders_are_notified or team_availability or rollback_procedure_was"

pytestmark = pytest.mark.slow


class _Unavailable(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def down_channel() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/releases"
    server.shutdown()
    server.server_close()


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_wrong_readiness_evidence_fails_each_scenario(tmp_path: Path, down_channel: str) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ws = release.materialise(tmp_path / "rel", [], cache_dir=tmp_path / "cache", now=now)
    manifest = yaml.safe_load(ws.manifest.read_text())
    start = dt.datetime.fromisoformat(manifest["deployment_window"]["start"].replace("Z", "+00:00"))
    manifest["communication"]["url"] = down_channel
    manifest["notifications"] = [{"audience": "stakeholders", "channel": "email",
                                  "sent_at": _iso(start + dt.timedelta(minutes=30))}]
    manifest["on_call_schedule"] = [{"name": "dana.ortiz", "role": "primary", "start": _iso(start),
                                     "end": _iso(start + dt.timedelta(hours=1)), "confirmed": True}]
    old = _iso(now - dt.timedelta(days=45))
    log = tmp_path / "old-rehearsals.jsonl"
    audit.append(log, {"run_id": "old", "when": {"finished": old}, "where": {"environment": "staging",
                                                                            "production": False},
                       "why": {"reason": "rehearsal"}, "actions": [{"action": "rollout undo", "outcome": "done"}]})
    manifest["rollback_rehearsal_log"] = str(log)
    ws.manifest.write_text(yaml.safe_dump(manifest, sort_keys=False))
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "ci.yaml").write_text(
        "name: ci\nkubernetes:\n  kubeconfig: /nonexistent/kubeconfig\nhttp:\n  base_url: http://127.0.0.1:9\n"
        f"timeouts: {{connect_s: 1, read_s: 2, retries: 0}}\n"
        f"release:\n  version: v1.2.0\n  project: {ws.project}\n  artifacts: {ws.artifacts}\n"
        "  manifest: release.yaml\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "gate", "--verdict-file=",
         "--env=ci", f"--environments-dir={envs}", "features/checklist", "-k", SCENARIOS],
        cwd=ROOT, env={**os.environ, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state")},
        capture_output=True, text=True, timeout=300, check=False)
    out = run.stdout
    assert run.returncode == 1, out[-3000:]
    assert "4 failed" in out and "error" not in out.split("=====")[-1], out[-3000:]
    assert "observed 503 vs threshold HTTP 2xx/3xx" in out
    assert f"vs threshold sent before {_iso(start)}" in out
    assert "observed gap" in out
    assert "observed 45 days vs threshold 30 days" in out
