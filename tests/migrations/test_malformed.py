"""Projects goldgate cannot load are ERROR naming the file — never a traceback, never PASS;
paths resolve against the ini's folder, not the working directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from goldgate.probes import migrations as probe
from goldgate.probes.artifacts import ArtifactUnavailable
from tests.migrations.projects import Project, check, orders_project


def _errors(project_path: Path) -> list[dict[str, object]]:
    run = check(str(project_path), "--format", "json")
    assert run.returncode == 2, run.stdout + run.stderr
    findings = json.loads(run.stdout)
    judged = [f for f in findings if f["status"] != "NOT RUN"]
    assert judged and all(f["status"] == "ERROR" for f in judged), findings
    return judged


def test_missing_ini_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactUnavailable, match=re.escape("alembic.ini: alembic.ini not found")):
        probe.read_scripts(tmp_path / "empty")
    for finding in _errors(tmp_path / "empty"):
        assert str(tmp_path / "empty" / "alembic.ini") in str(finding["message"])


def test_path_that_does_not_exist_stops_the_command(tmp_path: Path) -> None:
    run = check(str(tmp_path / "nowhere"))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == f"goldgate check migrations: {tmp_path / 'nowhere'}: no such file or folder"


def test_script_location_pointing_nowhere(healthy: Project) -> None:
    text = healthy.ini.read_text(encoding="utf-8")
    healthy.ini.write_text(text.replace("script_location = %(here)s/alembic", "script_location = %(here)s/gone"),
                           encoding="utf-8")
    for finding in _errors(healthy.root):
        assert "script_location" in str(finding["message"]) and "gone not found" in str(finding["message"])


def test_syntax_error_in_a_revision_names_the_file(healthy: Project) -> None:
    path = healthy.file_of(healthy.revisions[1])
    path.write_text(path.read_text(encoding="utf-8").replace("def downgrade()", "def downgrade(:"), encoding="utf-8")
    for finding in _errors(healthy.root):
        assert f"{path}:" in str(finding["message"]) and "syntax error" in str(finding["message"])


def test_revision_that_raises_on_import_names_the_file(healthy: Project) -> None:
    path = healthy.file_of(healthy.revisions[0])
    path.write_text("import not_a_module_anywhere\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    for finding in _errors(healthy.root):
        assert path.name in str(finding["message"]) and "ModuleNotFoundError" in str(finding["message"])


def test_env_py_that_raises_is_an_error_naming_env_py(healthy: Project) -> None:
    env_py = healthy.root / "alembic" / "env.py"
    env_py.write_text('raise RuntimeError("DATABASE_URL is not set")\n' + env_py.read_text(encoding="utf-8"),
                      encoding="utf-8")
    run = check(str(healthy.root), "--format", "json")
    assert run.returncode == 2
    by_rule = {f["rule"]: f for f in json.loads(run.stdout)}
    # said once, with the line of env.py that raised; the rules that need env.py say where to look
    assert by_rule["upgrade"]["status"] == "ERROR"
    assert f"{env_py}:1: env.py raised: RuntimeError: DATABASE_URL is not set" in by_rule["upgrade"]["message"]
    assert sum("DATABASE_URL" in str(f["message"]) for f in by_rule.values()) == 1
    assert by_rule["reversible"]["status"] == "NOT RUN"
    assert by_rule["reversible"]["message"] == "env.py could not be loaded (see upgrade)"
    assert by_rule["single-head"]["status"] == "PASS"  # reading the history does not need env.py


def test_env_py_failing_in_a_module_it_imports_names_both_lines(healthy: Project) -> None:
    env_py = healthy.root / "alembic" / "env.py"
    (healthy.root / "settings.py").write_text("import os\n\nURL = os.environ['ORDERS_DB_URL_NOT_SET']\n",
                                               encoding="utf-8")
    env_py.write_text("import settings\n" + env_py.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(probe.EnvPyUnloadable) as caught:
        probe.walk(healthy.root)
    assert str(caught.value).startswith(f"{env_py}:1: env.py raised: KeyError: 'ORDERS_DB_URL_NOT_SET'")
    assert "(at settings.py:3)" in str(caught.value)


def test_garbage_ini_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "alembic.ini").write_text("this is not an ini file\n[[[", encoding="utf-8")
    for finding in _errors(tmp_path / "p"):
        assert "alembic.ini: cannot read the alembic configuration" in str(finding["message"])


def test_relative_paths_resolve_against_the_ini_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = orders_project(tmp_path / "p")
    text = project.ini.read_text(encoding="utf-8")
    project.ini.write_text(text.replace("script_location = %(here)s/alembic", "script_location = alembic"),
                           encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    walk = probe.walk(project.ini)
    assert walk.revisions == project.revisions and len(walk.reversals) == 2
    assert list(elsewhere.iterdir()) == []
