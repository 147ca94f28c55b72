"""Git evidence (guide §5.3 ``git tag -a v1.2.0``, §9.2 "Configuration Recovery: Deploy from Git").

Reads a local clone with the ``git`` command line, each call bounded by a timeout: the
commit a tag names, the files under a folder at that tag and their content (``git show
TAG:PATH``). A tag the repository does not have is an answer (None), not an error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT_S = 20.0


class GitUnavailable(Exception):  # noqa: N818 - reads as the condition
    """git could not be asked; the message names the repository, the command and the cause."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if not (repo / ".git").exists() and not (repo / "HEAD").is_file():
        raise GitUnavailable(f"{repo}: not a Git repository")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=env,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise GitUnavailable("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitUnavailable(f"{repo}: git {' '.join(args)} took more than {GIT_TIMEOUT_S:g} s") from None


def tag_commit(repo: Path, tag: str) -> str | None:
    """The commit ``tag`` points at (annotated tags peeled), None when there is no such tag."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if done.returncode != 0:
        return None
    return done.stdout.decode().strip() or None


def files_at(repo: Path, tag: str, folder: str) -> list[str]:
    """The paths under ``folder`` in the tree ``tag`` names, sorted."""
    done = _git(repo, "ls-tree", "-r", "--name-only", f"refs/tags/{tag}", "--", folder.rstrip("/") + "/")
    if done.returncode != 0:
        raise GitUnavailable(f"{repo}: git ls-tree {tag} {folder}: {done.stderr.decode(errors='replace').strip()[-200:]}")
    return sorted(line for line in done.stdout.decode().splitlines() if line)


def show(repo: Path, tag: str, path: str) -> bytes:
    """``git show TAG:PATH``."""
    done = _git(repo, "show", f"refs/tags/{tag}:{path}")
    if done.returncode != 0:
        raise GitUnavailable(f"{repo}: git show {tag}:{path}: {done.stderr.decode(errors='replace').strip()[-200:]}")
    return done.stdout
