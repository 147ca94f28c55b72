"""Property tests of the alembic project reader: alembic.ini and env.py as ``alembic init``
wrote them, mutated by hypothesis (bytes and structure). Every mutant is read or judged
without a traceback and without hanging; a mutant broken by construction never PASSes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate.probes import migrations as probe
from goldgate.probes.artifacts import ArtifactUnavailable
from tests.artifacts.test_reader_properties import byte_mutations
from tests.migrations.projects import check, orders_project

HANG_S = 60.0  # a hang detector, not a speed goal: a walk starts a process of its own
FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
WALKED = settings(max_examples=4, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
WALK_RULES = ("upgrade", "reversible")
# a mutated ini may lose its path_separator: alembic warns and reads it the legacy way
pytestmark = pytest.mark.filterwarnings("ignore:No path_separator found:DeprecationWarning")


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return orders_project(tmp_path_factory.mktemp("alembic") / "project").root


class Copies:
    """A fresh copy of the project for every example, so mutants never meet."""

    def __init__(self, original: Path, folder: Path) -> None:
        self.original, self.folder, self.count = original, folder, 0

    def __call__(self, name: str, data: bytes) -> Path:
        self.count += 1
        root = self.folder / f"copy{self.count}"
        shutil.copytree(self.original, root, ignore=shutil.ignore_patterns("__pycache__"))
        (root / name).write_bytes(data)
        return root


@pytest.fixture
def copies(original: Path, tmp_path: Path) -> Copies:
    return Copies(original, tmp_path)


def _judged(root: Path) -> dict[str, str]:
    started = time.monotonic()
    run = check(str(root), "--format", "json", "--timeout", "30")
    assert time.monotonic() - started < HANG_S
    assert run.returncode in (0, 1, 2) and "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    if not run.stdout:  # a path the command refuses outright: one line on stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        return {}
    return {f["rule"]: f["status"] for f in json.loads(run.stdout)}


def test_ini_byte_mutations_are_read_or_refused(original: Path, copies: Copies) -> None:
    data = (original / "alembic.ini").read_bytes()

    @FAST
    @given(byte_mutations(data))
    def read(mutant: bytes) -> None:
        root = copies("alembic.ini", mutant)
        started = time.monotonic()
        try:
            probe.read_scripts(root)
        except ArtifactUnavailable as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip()
        assert time.monotonic() - started < HANG_S

    read()


INI_BROKEN = [
    lambda t: t.replace("script_location = %(here)s/alembic", "script_location = %(here)s/elsewhere"),
    lambda t: t.replace("script_location = %(here)s/alembic\n", ""),
    lambda t: t.replace("[alembic]", "[alembic"),
    lambda t: t.replace("[alembic]", "[not_alembic]"),
]


@pytest.mark.parametrize("mutation", range(len(INI_BROKEN)))
def test_an_ini_broken_on_purpose_never_passes(original: Path, copies: Copies, mutation: int) -> None:
    text = (original / "alembic.ini").read_text("utf-8")
    mutant = INI_BROKEN[mutation](text)
    assert mutant != text
    statuses = _judged(copies("alembic.ini", mutant.encode()))
    assert statuses and all(s in ("ERROR", "NOT RUN") for s in statuses.values()), statuses


def test_env_py_byte_mutations_are_judged_without_a_traceback(original: Path, copies: Copies) -> None:
    data = (original / "alembic" / "env.py").read_bytes()

    @WALKED
    @given(byte_mutations(data))
    def judged(mutant: bytes) -> None:
        statuses = _judged(copies("alembic/env.py", mutant))
        assert statuses["single-head"] == "PASS"  # the history does not depend on env.py

    judged()


def test_env_py_that_raises_anywhere_never_passes(original: Path, copies: Copies) -> None:
    lines = (original / "alembic" / "env.py").read_text("utf-8").splitlines(keepends=True)
    top_level = [i for i, line in enumerate(lines) if line and not line[0].isspace() and line.strip()
                 and not line.startswith(("else", "elif", ")", "#"))]

    @WALKED
    @given(st.sampled_from(top_level))
    def judged(at: int) -> None:
        mutant = "".join(lines[:at]) + 'raise RuntimeError("planted")\n' + "".join(lines[at:])
        statuses = _judged(copies("alembic/env.py", mutant.encode()))
        assert statuses["upgrade"] == "ERROR" and all(statuses[r] != "PASS" for r in WALK_RULES), statuses

    judged()


def test_env_py_cut_short_never_passes(original: Path, copies: Copies) -> None:
    """Cut anywhere before its last statement, env.py never runs the migrations online."""
    data = (original / "alembic" / "env.py").read_bytes()
    last = data.rstrip().rfind(b"\n")

    @WALKED
    @given(st.integers(0, last))
    def judged(cut: int) -> None:
        statuses = _judged(copies("alembic/env.py", data[:cut]))
        assert all(statuses[r] != "PASS" for r in WALK_RULES), statuses

    judged()
