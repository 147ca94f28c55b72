"""The secrets scan reads what would ship: git's ignore rules in a checkout, a default
skip list elsewhere; and an audited finding in detect-secrets' baseline (made here by
``detect-secrets scan``) stays audited when its line moves to another file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from goldgate.criteria.checklist import no_hardcoded_secrets
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.secrets import DEFAULT_SKIP, scan_tree, source_files
from goldgate.verdict import Status
from tests.artifacts.tools import run_tool, write

SECRET = 'MT5_PASSWORD = "Qz7rT2kLm9WxVb4N"\n'
OTHER = 'DB_PASSWORD = "v8Hc1pXw9LqZ2mRt"\n'
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git missing: apt-get install git")


def _git(root: Path, *args: str) -> None:
    run_tool(["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args], root)


def _checkout(root: Path, files: dict[str, str]) -> Path:
    write(root, files)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "release")
    return root


@needs_git
def test_git_ignored_build_output_is_not_scanned(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "p", {".gitignore": "build/\n*.log\n", "app/main.py": "print('hi')\n"})
    write(root, {"build/lib/app/settings.py": SECRET, "debug.log": SECRET, "app/new.py": "x = 1\n"})
    assert source_files(root) == [".gitignore", "app/main.py", "app/new.py"]
    found, files = scan_tree(root, None)
    verdict = no_hardcoded_secrets(found, str(root), files, None)
    assert verdict.status is Status.PASS and "3 files scanned" in verdict.reason


@needs_git
def test_a_committed_file_is_scanned_even_if_a_pattern_matches_it(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "p", {".gitignore": "*.cfg\n", "app/main.py": "print('hi')\n"})
    write(root, {"app/broker.cfg": SECRET})
    _git(root, "add", "-f", "app/broker.cfg")
    found, files = scan_tree(root, None)
    verdict = no_hardcoded_secrets(found, str(root), files, None)
    assert verdict.status is Status.FAIL and "Secret Keyword at app/broker.cfg:1" in verdict.reason


def test_outside_git_the_default_skip_list_applies(tmp_path: Path) -> None:
    root = write(tmp_path / "p", {"app/main.py": "x = 1\n", "dist/app/main.py": SECRET, ".venv/lib/x.py": SECRET,
                                  "app.egg-info/PKG-INFO": SECRET, "app/__pycache__/m.py": SECRET})
    assert {"build", "dist", ".venv", "__pycache__"} <= set(DEFAULT_SKIP)
    assert source_files(root) == ["app/main.py"]


@needs_git
def test_baseline_matches_by_hash_and_type_not_by_file(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "p", {"app/broker.py": SECRET})
    baseline = run_tool([sys.executable, "-m", "detect_secrets", "scan"], root).stdout
    assert '"hashed_secret"' in baseline
    (root / ".secrets.baseline").write_text(baseline)
    found, files = scan_tree(root, root / ".secrets.baseline")
    assert no_hardcoded_secrets(found, str(root), files, ".secrets.baseline").status is Status.PASS
    # the audited line moves to another file: still the same audited secret
    (root / "app/broker.py").write_text("x = 1\n")
    write(root, {"app/session.py": "\n\n" + SECRET})
    found, files = scan_tree(root, root / ".secrets.baseline")
    assert no_hardcoded_secrets(found, str(root), files, ".secrets.baseline").status is Status.PASS
    # a new secret is new, wherever it is
    write(root, {"app/broker.py": OTHER})
    found, files = scan_tree(root, root / ".secrets.baseline")
    verdict = no_hardcoded_secrets(found, str(root), files, ".secrets.baseline")
    assert verdict.status is Status.FAIL and "Secret Keyword at app/broker.py:1" in verdict.reason
    assert "v8Hc1p" not in verdict.message()


def test_empty_tree_is_inconclusive_and_bad_baseline_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    found, files = scan_tree(tmp_path / "empty", None)
    assert no_hardcoded_secrets(found, str(tmp_path / "empty"), files, None).status is Status.INCONCLUSIVE
    (tmp_path / "empty" / ".secrets.baseline").write_text("{not json")
    with pytest.raises(ArtifactUnavailable, match="unreadable secrets baseline"):
        scan_tree(tmp_path / "empty", tmp_path / "empty" / ".secrets.baseline")
