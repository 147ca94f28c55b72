"""tests/streams.py: two runs of one test tree share it module by module, each test once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.streams import CLAIMS_ENV, ORDER_ENV

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = '''
import os, pytest
LOG = os.environ["SHARED_RUN_LOG"]

def note(line):
    with open(LOG, "a") as f:
        f.write(f"{os.getpid()} {line}\\n")

@pytest.fixture(autouse=True)
def _ran(request):
    note("run " + request.node.nodeid)
'''

PACKAGE_CONFTEST = '''
import pytest
from conftest import note

@pytest.fixture(scope="package", autouse=True)
def _package():
    note("setup pkg_a")
    yield
    note("teardown pkg_a")
'''

TEST = '''
import time

def test_first():
    time.sleep({pause})

def test_second():
    time.sleep({pause})
'''

MODULES = ["pkg_a/test_one.py", "pkg_a/test_two.py", "pkg_b/test_three.py", "test_five.py", "test_four.py"]  # collection order


def tree(path: Path, pause: float = 0.0) -> Path:
    for module in MODULES:
        (path / module).parent.mkdir(parents=True, exist_ok=True)
        (path / module).write_text(TEST.format(pause=pause))
    (path / "conftest.py").write_text(CONFTEST)
    (path / "pkg_a" / "__init__.py").write_text("")
    (path / "pkg_b" / "__init__.py").write_text("")
    (path / "pkg_a" / "conftest.py").write_text(PACKAGE_CONFTEST)
    return path


def run(path: Path, claims: Path | None, *, reverse: bool = False) -> subprocess.Popen[str]:
    env = {"PYTHONPATH": str(ROOT), "SHARED_RUN_LOG": str(path / "log.txt"), "PATH": "/usr/bin:/bin"}
    if claims is not None:
        env[CLAIMS_ENV] = str(claims)
    if reverse:
        env[ORDER_ENV] = "reverse"
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "tests.streams", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(path), str(path)],
        cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


def log(path: Path) -> list[tuple[str, str]]:
    lines = (path / "log.txt").read_text().splitlines()
    return [(pid, rest) for pid, rest in (line.split(" ", 1) for line in lines)]


def ran(path: Path) -> list[str]:
    return [rest.removeprefix("run ") for _, rest in log(path) if rest.startswith("run ")]


def test_without_a_claims_directory_every_test_runs_in_order(tmp_path: Path) -> None:
    code, out = finish(run(tree(tmp_path), None))
    assert code == 0, out
    assert "10 passed" in out and "shared run" not in out
    assert [r.split("::")[0] for r in ran(tmp_path)][::2] == MODULES


def test_a_module_the_other_run_claimed_is_left_out_and_fixtures_tear_down_as_in_one_run(tmp_path: Path) -> None:
    """pkg_a/test_two.py is claimed elsewhere: pkg_a's package fixture must still end before
    pkg_b starts (pytest would otherwise stop with 'previous item was not torn down properly')."""
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "pkg_a__test_two.py").mkdir()
    code, out = finish(run(tree(tmp_path / "t"), claims))
    assert code == 0, out
    assert "8 passed" in out and "4 of 5 test modules ran here, 1 in the other run" in out
    events = [rest for _, rest in log(tmp_path / "t")]
    assert not any("pkg_a/test_two.py" in e for e in events)
    assert events.index("teardown pkg_a") < events.index("run pkg_b/test_three.py::test_first")
    assert events.count("setup pkg_a") == 1


def test_from_the_back_runs_the_modules_in_reverse_each_in_its_own_order(tmp_path: Path) -> None:
    code, out = finish(run(tree(tmp_path / "t"), tmp_path / "claims", reverse=True))
    assert code == 0, out
    assert "10 passed" in out and "from the back" in out
    assert ran(tmp_path / "t") == [f"{m}::{t}" for m in reversed(MODULES) for t in ("test_first", "test_second")]


def test_two_runs_at_once_run_every_test_exactly_once(tmp_path: Path) -> None:
    path = tree(tmp_path / "t", pause=0.3)
    claims = tmp_path / "claims"
    front, back = run(path, claims), run(path, claims, reverse=True)
    (front_code, front_out), (back_code, back_out) = finish(front), finish(back)
    assert front_code == 0 and back_code == 0, front_out + back_out
    everything = [f"{m}::{t}" for m in MODULES for t in ("test_first", "test_second")]
    assert sorted(ran(path)) == sorted(everything)       # once each, none left out
    pids = {pid for pid, _ in log(path)}
    assert len(pids) == 2, "both runs took a share"
    assert sorted(p.name for p in claims.iterdir()) == sorted(m.replace("/", "__") for m in MODULES)


def test_a_failure_in_a_runs_share_fails_that_run(tmp_path: Path) -> None:
    failing = "pkg_b/test_three.py"
    path = tree(tmp_path / "t")
    (path / failing).write_text("def test_fails():\n    assert False\n")
    claims = tmp_path / "claims"
    claims.mkdir()
    for module in MODULES:
        if module != failing:
            (claims / module.replace("/", "__")).mkdir()
    code, out = finish(run(path, claims))
    assert code == 1 and "1 failed" in out, out

