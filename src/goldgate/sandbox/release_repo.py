"""The reference bot's source repository: real ``git init/commit/tag``, one commit per release.

Guide §5.1-5.3 and §9.1-9.2 rest on Git: the release is the commit the tag ``vX.Y.Z``
names, and configuration is recovered by deploying what Git holds at that tag. The daemon
builds this repository in ``<state>/release-repo`` before it builds the images, so each
image can carry the commit it was built from (``org.opencontainers.image.revision``):

* the previous release (``previous_version`` of the project's release.yaml): the project
  and the bot's manifests with the release's version replaced by the previous one, as the
  guide's ``sed -i 's/v1.1.0/v1.2.0/g' k8s/production.yaml`` does in the other direction;
* the release itself: the project and ``deploy/k8s`` as the cluster applies them.

Both tags are annotated (``git tag -a``, §5.3). Author, committer and dates are fixed, so
the same files give the same commits on every start and the registry's images stay valid.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
from dataclasses import dataclass

import yaml

from goldgate.sandbox.release import K8S_SOURCE, PROJECT_SOURCE

FOLDER = "release-repo"
GIT_TIMEOUT_S = 30.0
_IDENTITY = {
    "GIT_AUTHOR_NAME": "alice.ng", "GIT_AUTHOR_EMAIL": "alice.ng@trading.example",
    "GIT_COMMITTER_NAME": "release-ci", "GIT_COMMITTER_EMAIL": "release-ci@trading.example",
}
_DATES = ("2026-10-20T09:00:00Z", "2026-11-24T15:00:00Z")


class RepoError(RuntimeError):
    """git failed; the message names the command and its output."""


@dataclass(frozen=True)
class Releases:
    """The repository and the versions it tags, oldest first."""

    path: pathlib.Path
    versions: tuple[str, ...]


def _git(repo: pathlib.Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=GIT_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RepoError(f"git {' '.join(args)} in {repo}: {(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout.strip()


def versions() -> tuple[str, str]:
    """(previous_version, version) of the reference release's release.yaml."""
    manifest = yaml.safe_load((PROJECT_SOURCE / "release.yaml").read_text(encoding="utf-8"))
    return str(manifest["previous_version"]), str(manifest["version"])


def _fill(tree: pathlib.Path, manifests: pathlib.Path) -> None:
    for child in tree.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(PROJECT_SOURCE, tree, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".coverage", "deploy"))
    shutil.copytree(manifests, tree / "deploy" / "k8s")


def _rename_version(tree: pathlib.Path, old: str, new: str) -> None:
    for path in [tree / "release.yaml", *sorted((tree / "deploy" / "k8s").glob("*.y*ml"))]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(old, new), encoding="utf-8")


def _content_key(manifests: pathlib.Path) -> str:
    """Hash of every file the repository is built from: equal keys give equal commits."""
    digest = hashlib.sha256()
    for base in (PROJECT_SOURCE, manifests):
        for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(base)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build(state_dir: pathlib.Path, manifests: pathlib.Path | None = None) -> Releases:
    """``<state>/release-repo`` with the previous release and the release, tagged.

    Kept from an earlier start when the files it is built from are unchanged (``git``
    under load costs about a second for the eight commands of a build).
    """
    previous, version = versions()
    repo = state_dir / FOLDER
    source = manifests if manifests is not None and any(manifests.glob("*.y*ml")) else K8S_SOURCE
    key = _content_key(source)
    key_file = state_dir / (FOLDER + ".key")
    if (repo / ".git").is_dir() and key_file.is_file() and key_file.read_text(encoding="utf-8") == key:
        return Releases(repo, (previous, version))
    scratch = state_dir / (FOLDER + ".new")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    _git(scratch, "init", "-q", "-b", "main")
    for tag, date, rename in ((previous, _DATES[0], True), (version, _DATES[1], False)):
        _fill(scratch, source)
        if rename:
            _rename_version(scratch, version, previous)
        _git(scratch, "add", "-A")
        _git(scratch, "commit", "-q", "-m", f"Release {tag}", date=date)
        _git(scratch, "tag", "-a", tag, "-m", f"Production release {tag}", date=date)
    shutil.rmtree(repo, ignore_errors=True)
    scratch.rename(repo)
    key_file.write_text(key, encoding="utf-8")
    return Releases(repo, (previous, version))


def commit_of(repo: pathlib.Path, tag: str) -> str:
    return _git(repo, "rev-parse", f"{tag}^{{commit}}")
