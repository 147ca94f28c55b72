"""Environment files: the schema, cross-field rules, secrets, and one clear message."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldgate.config import (
    EnvironmentFileError,
    SecretResolutionError,
    Strategy,
    find_literal_secrets,
    load_environment,
    resolve_secret,
)

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = "release:\n  version: v1.2.0\n"


def _load(tmp_path: Path, body: str, name: str = "t") -> object:
    (tmp_path / f"{name}.yaml").write_text(body)
    return load_environment(name, tmp_path)


@pytest.mark.parametrize("name", ["local", "staging", "production"])
def test_shipped_environments_validate(name: str) -> None:
    env = load_environment(name, ROOT / "environments")
    assert env.name == name
    assert env.strategy.canary_weights == [10, 50, 100]


def test_production_keeps_the_guides_durations() -> None:
    env = load_environment("production", ROOT / "environments")
    assert env.production is True
    assert env.strategy.canary_phase_s == 30 * 60
    assert env.strategy.monitoring_window_s == 2 * 3600
    assert env.recovery.rpo_s == 3600 and env.recovery.rto_s == 15 * 60
    assert env.thresholds.error_rate == 0.01 and env.thresholds.p95_latency_ms == 500


def test_local_scales_durations_to_seconds() -> None:
    env = load_environment("local", ROOT / "environments")
    assert env.kubernetes.is_sandbox
    assert env.strategy.canary_phase_s < 60 and env.strategy.monitoring_window_s < 120


def test_defaults_are_the_guides_thresholds(tmp_path: Path) -> None:
    env = _load(tmp_path, MINIMAL)
    t = env.thresholds
    assert (t.error_rate, t.p95_latency_ms, t.p95_baseline_factor, t.free_disk_ratio) == (0.01, 500, 2, 0.10)
    assert (t.cpu_utilization, t.memory_utilization) == (0.70, 0.80)


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        ("release: {}\n", "release.version", "Field required"),
        ("{}\n", "release", "Field required"),
        (MINIMAL + "thresholds:\n  error_rate: 1.5\n", "thresholds.error_rate", "less than 1"),
        (MINIMAL + "thresholds:\n  p95_latency_ms: fast\n", "thresholds.p95_latency_ms", "valid number"),
        (MINIMAL + "strategy:\n  canary_weights: [10, 5, 100]\n", "strategy.canary_weights", "strictly rising"),
        (MINIMAL + "strategy:\n  canary_weights: [10, 50]\n", "strategy.canary_weights", "must be 100"),
        (MINIMAL + "metrics:\n  source: prometheus\n", "metrics", "needs metrics.prometheus_url"),
        (MINIMAL + "kubernetes:\n  namespce: x\n", "kubernetes.namespce", "Extra inputs"),
        (MINIMAL + "production: true\n", "(top level)", "cannot target the sandbox"),
        (MINIMAL + "http:\n  base_url: ftp://x\n", "http.base_url", "http(s)://"),
        (MINIMAL + "error_rate_test:\n  healthy_rate: 0.05\n  breached_rate: 0.02\n", "error_rate_test", "below breached_rate"),
    ],
)
def test_invalid_values_name_file_field_and_reason(tmp_path: Path, body: str, path: str, reason: str) -> None:
    with pytest.raises(EnvironmentFileError) as exc:
        _load(tmp_path, body)
    text = str(exc.value)
    assert str(tmp_path / "t.yaml") in text
    assert path in text
    assert reason in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match=r"t\.yaml: line 3, column \d+: YAML syntax error"):
        _load(tmp_path, "release:\n  version: [v1\n  x: }\n")


def test_unknown_environment_lists_known(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL)
    with pytest.raises(EnvironmentFileError, match=r"unknown environment 'b' \(available: a\)"):
        load_environment("b", tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        MINIMAL + "database:\n  url: postgresql://bot:hunter2@db:5432/trading\n",
        MINIMAL + "http:\n  headers:\n    Authorization: Bearer abcdefghijklmnop\n",
        MINIMAL + "description: AKIAABCDEFGHIJKLMNOP\n",
        MINIMAL + "metrics:\n  prometheus_auth: plaintext\n",
    ],
)
def test_literal_secrets_are_rejected_without_echoing_them(tmp_path: Path, body: str) -> None:
    with pytest.raises(EnvironmentFileError, match=r"literal secret|must be references") as exc:
        _load(tmp_path, body)
    for secret in ("hunter2", "abcdefghijklmnop", "AKIAABCDEFGHIJKLMNOP", "plaintext"):
        assert secret not in str(exc.value)


def test_secret_references_are_accepted_and_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _load(tmp_path, MINIMAL + "database:\n  url: env:GG_DB\nhttp:\n  headers:\n    Authorization: file:/run/token\n")
    assert env.database.url == "env:GG_DB"
    monkeypatch.setenv("GG_DB", "postgresql://x:y@h/db")
    assert resolve_secret("env:GG_DB") == "postgresql://x:y@h/db"
    monkeypatch.delenv("GG_DB")
    with pytest.raises(SecretResolutionError, match="GG_DB is not set"):
        resolve_secret("env:GG_DB")
    secret_file = tmp_path / "tok"
    secret_file.write_text("s3cr3t\n")
    assert resolve_secret(f"file:{secret_file}") == "s3cr3t"


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6))
def test_canary_weights_accepted_only_when_rising_to_100(weights: list[int]) -> None:
    ok = all(b > a for a, b in itertools.pairwise(weights)) and weights[-1] == 100
    try:
        Strategy(canary_weights=weights)
    except ValueError:
        assert not ok
    else:
        assert ok


def test_find_literal_secrets_ignores_references() -> None:
    assert find_literal_secrets({"db": {"password": "env:PW"}, "x": "vault:a/b#c"}) == []
    assert find_literal_secrets({"db": {"password": "pw"}}) == ["db.password"]


# ---- through pytest: a bad file stops the run before any test, exit status 4, no traceback
def _run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "smoke"), "--rootdir", str(ROOT), "--verdict-file=", *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        ({}, "nosuch", "unknown environment 'nosuch'"),
        ({"bad": "release:\n  version: [\n"}, "bad", "YAML syntax error"),
        ({"bad": MINIMAL + "thresholds:\n  error_rate: 2\n"}, "bad", "thresholds.error_rate"),
    ],
)
def test_bad_environment_is_a_usage_error(tmp_path: Path, files: dict[str, str], env: str, expected: str) -> None:
    envdir = tmp_path / "envs"
    envdir.mkdir()
    for name, body in files.items():
        (envdir / f"{name}.yaml").write_text(body)
    result = _run_pytest(tmp_path, f"--env={env}", f"--environments-dir={envdir}")
    assert result.returncode == 4, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert expected in output
    assert "Traceback" not in output
    assert "passed" not in output and "failed" not in output
