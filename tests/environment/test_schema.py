"""The published environment schema: generated from the model, complete, and what README shows.

Regenerate after changing the model: ``python -m goldgate.envschema --write`` (schema file
and README's field table); this test is the ``--check`` of that command.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldgate import envschema

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_file_and_readme_table_are_what_the_model_generates() -> None:
    assert envschema.stale(ROOT) == [], "run `python -m goldgate.envschema --write` and commit the result"


def test_every_field_has_a_type_a_default_and_a_meaning() -> None:
    rows = envschema.field_rows()
    assert len(rows) > 150
    missing = [path for path, _kind, _default, meaning in rows if not meaning.strip()]
    assert missing == [], f"fields without a description in the model: {missing}"
    assert all(kind and default for _path, kind, default, _meaning in rows)


@pytest.mark.parametrize("field", ["name", "production", "kubernetes.namespace", "http.tls_url", "metrics.source",
                                   "timeouts.connect_s", "firewall.hosts", "release.models",
                                   "release.migrations_url_env", "not_applicable[].check"])
def test_fields_teams_could_not_find_are_in_readme_with_their_default(field: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(r for r in envschema.field_rows() if r[0] == field)
    line = next((ln for ln in readme.splitlines() if ln.startswith(f"| `{field}` |")), None)
    assert line is not None, f"{field} is not in README's field table"
    assert row[2].replace("|", "\\|") in line


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node.isoformat() if isinstance(node, dt.date) else node


@pytest.mark.parametrize("name", ["local", "staging", "production"])
def test_the_shipped_environments_validate_against_the_published_schema(name: str) -> None:
    from jsonschema import Draft202012Validator

    data = _plain(yaml.safe_load((ROOT / "environments" / f"{name}.yaml").read_text(encoding="utf-8")))
    data.setdefault("name", name)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(envschema.schema()).iter_errors(data)]
    assert errors == []


def test_goldgate_env_schema_prints_the_published_file() -> None:
    done = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "schema"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(envschema.SCHEMA_FILE.read_text(encoding="utf-8"))


def test_regeneration_is_one_command(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{envschema.README_START}\nold\n{envschema.README_END}\n\nafter\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "goldgate.envschema", "--check", "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "stale: " in done.stderr and str(readme) in done.stderr
    text = envschema.readme_with_table(readme.read_text(encoding="utf-8"))
    assert "| `release.version` | string | **required** |" in text and text.endswith("after\n")
