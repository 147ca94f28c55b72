"""The reference release: materialised with real CI artifacts, cached by content, faults
validated by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from goldgate.probes.artifacts import junit
from goldgate.sandbox import release
from goldgate.sandbox.release_faults import RELEASE_FAULTS


def test_artifacts_are_real_and_cached_by_content(tmp_path: Path, artifact_cache: Path, now: dt.datetime) -> None:
    ws = release.materialise(tmp_path / "a", [], cache_dir=artifact_cache, now=now)
    summary = junit.read_junit(ws.artifacts / "junit.xml")
    assert summary.tests >= 15 and summary.failures == 0
    assert "passed" in (ws.artifacts / "pytest.log").read_text()
    keys = {p.name for p in artifact_cache.iterdir() if p.is_dir() and "." not in p.name}
    assert release.artifact_key(ws.project) in keys
    # A fault outside the code reuses the cached artifacts; one in the code gets its own.
    release.materialise(tmp_path / "b", ["window-closed"], cache_dir=artifact_cache, now=now)
    assert {p.name for p in artifact_cache.iterdir() if p.is_dir() and "." not in p.name} == keys
    failing = release.materialise(tmp_path / "c", ["failing-test"], cache_dir=artifact_cache, now=now)
    assert junit.read_junit(failing.artifacts / "junit.xml").failures == 1


def test_unknown_fault_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(release.ReleaseError, match=r"unknown release fault\(s\) no-such-fault .*planted-secret"):
        release.materialise(tmp_path, ["no-such-fault"])


def test_every_fault_is_described_and_names_its_checks() -> None:
    for fault in RELEASE_FAULTS.values():
        assert fault.description and fault.checks, fault.name


def test_bandit_json_converts_to_sarif_with_its_severity(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from goldgate.criteria import checklist as code
    from goldgate.probes.artifacts import sarif
    from goldgate.verdict import Status

    (tmp_path / "weak.py").write_text("import hashlib\n\nhashlib.md5(b'x')\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bandit", "-q", "-f", "json", str(tmp_path / "weak.py")],
                         capture_output=True, text=True, check=False, timeout=60)
    converted = release.bandit_json_to_sarif(json.loads(run.stdout))
    (tmp_path / "bandit.sarif").write_text(json.dumps(converted), encoding="utf-8")
    verdict = code.no_findings_at_or_above(sarif.read_sarif(tmp_path / "bandit.sarif"), "high")
    assert verdict.status is Status.FAIL and "HIGH B324" in verdict.reason and "weak.py:3" in verdict.reason
