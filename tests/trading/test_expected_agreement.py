"""A deliberate model change states its expected signal agreement in the release manifest."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.manifest import read_manifest

SCHEMA = Path(__file__).resolve().parents[2] / "src" / "goldgate" / "schemas" / "release.schema.json"


def _manifest(tmp_path: Path, trading: str) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text(f"release:\n  version: 1.3.0\n{trading}", encoding="utf-8")
    return path


def test_the_manifest_states_the_expected_agreement(tmp_path: Path) -> None:
    path = _manifest(tmp_path, "  trading:\n    expected_agreement: 0.97\n")
    assert read_manifest(path).expected_agreement == 0.97


def test_a_manifest_without_it_leaves_the_environments_minimum(tmp_path: Path) -> None:
    assert read_manifest(_manifest(tmp_path, "")).expected_agreement is None


@pytest.mark.parametrize("value", ["1.5", "0", "-0.2", "'high'", "true", "[0.9]"])
def test_a_value_that_is_no_share_is_refused_naming_the_field(tmp_path: Path, value: str) -> None:
    path = _manifest(tmp_path, f"  trading:\n    expected_agreement: {value}\n")
    with pytest.raises(ArtifactUnavailable, match=r"trading\.expected_agreement"):
        read_manifest(path)


def test_the_published_release_schema_knows_the_field() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    good = {"version": "1.3.0", "trading": {"expected_agreement": 0.97}}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "1.3.0", "trading": {"expected_agreement": 1.5}}, schema)
