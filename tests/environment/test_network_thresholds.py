"""The §8.3 network I/O numbers of the environment file: a baseline only when a team states
one, a factor that bounds both ways, and one clear line when either is unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldgate.config import EnvironmentFileError, load_environment

BASE = "name: team\nkubernetes: {kubeconfig: /etc/kube/config}\nrelease: {version: 1.0.0}\n"


def _load(tmp_path: Path, body: str):
    (tmp_path / "team.yaml").write_text(BASE + body, encoding="utf-8")
    return load_environment("team", tmp_path)


def test_no_baseline_unless_stated_and_the_factor_defaults_to_two(tmp_path: Path) -> None:
    env = _load(tmp_path, "")
    assert env.thresholds.network_bytes_per_request is None
    assert env.thresholds.network_io_factor == 2.0
    env = _load(tmp_path, "thresholds: {network_bytes_per_request: 1800, network_io_factor: 3}\n")
    assert (env.thresholds.network_bytes_per_request, env.thresholds.network_io_factor) == (1800.0, 3.0)


@pytest.mark.parametrize(("body", "words"), [
    ("thresholds: {network_io_factor: 1}\n", "thresholds.network_io_factor: Input should be greater than 1"),
    ("thresholds: {network_io_factor: .nan}\n", "thresholds.network_io_factor: Input should be a finite number"),
    ("thresholds: {network_bytes_per_request: 0}\n",
     "thresholds.network_bytes_per_request: Input should be greater than 0"),
    ("thresholds: {network_bytes_per_request: .inf}\n",
     "thresholds.network_bytes_per_request: Input should be a finite number"),
    ("thresholds: {network_bytes_per_request: lots}\n", "thresholds.network_bytes_per_request: Input should be a "
     "valid number"),
])
def test_an_unusable_network_number_stops_the_load_with_one_line(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(EnvironmentFileError) as info:
        _load(tmp_path, body)
    message = str(info.value)
    assert words in message and "\n" not in message and str(tmp_path / "team.yaml") in message
