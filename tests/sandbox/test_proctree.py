"""The container's process tree the kubelet samples: the same processes psutil finds."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import psutil
import pytest

from goldgate.sandbox.controllers import proctree

# A root with a child, and a grandchild under a second child: three levels, as a container
# whose entrypoint is a shell that starts workers would have.
TREE = "sleep 30 & (sleep 30 & wait) & wait"


@pytest.fixture
def shell_tree() -> Iterator[psutil.Process]:
    proc = subprocess.Popen(["sh", "-c", TREE], start_new_session=True)
    root = psutil.Process(proc.pid)
    deadline = time.monotonic() + 10
    while len(root.children(recursive=True)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    yield root
    for p in root.children(recursive=True):
        p.kill()
    proc.kill()
    proc.wait()


def psutil_tree(root: psutil.Process) -> set[int]:
    return {root.pid, *(p.pid for p in root.children(recursive=True))}


def test_every_descendant_is_found_as_psutil_finds_it(shell_tree: psutil.Process) -> None:
    assert proctree.CHILDREN_FILES, "this Linux lists /proc/<pid>/task/<tid>/children"
    found = proctree.members(shell_tree.pid)
    assert found[0] == shell_tree.pid
    assert len(found) == 4 and set(found) == psutil_tree(shell_tree)


def test_without_the_children_files_psutil_walks_the_same_tree(
        shell_tree: psutil.Process, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proctree, "CHILDREN_FILES", False)
    assert set(proctree.members(shell_tree.pid)) == psutil_tree(shell_tree)


def test_a_process_that_has_exited_has_no_descendants() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert proctree.members(gone.pid) == [gone.pid]
