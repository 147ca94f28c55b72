"""The §5 probes and criteria on what the real tools produce: Debian's docker-registry
serving images skopeo pushed, and a Git repository git itself built and tagged.

The rehearsals of guide §5.1-5.3 are here: a tag never pushed, a tag pushed again after the
pods pulled it, a Git tag moved to another commit - each FAIL with the value and threshold.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from goldgate.config import Timeouts
from goldgate.criteria import supply
from goldgate.probes import git, registry
from goldgate.sandbox import image_build, oci_registry, release_repo
from goldgate.verdict import Status

pytestmark = pytest.mark.skipif(
    not (oci_registry.available() and shutil.which("skopeo") and shutil.which("git")),
    reason="needs docker-registry, skopeo and git (apt-get install docker-registry skopeo git)")

TIMEOUTS = Timeouts(connect_s=1, read_s=3, retries=1, backoff_s=0.1)


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("supply")
    address, proc = oci_registry.start(state)
    try:
        releases = release_repo.build(state)
        images = {i.tag: i for i in image_build.ensure_pushed(releases, address)}
        yield {"state": state, "address": address, "url": f"http://{address}", "releases": releases, "images": images}
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_pushed_release_is_served_with_its_digest_and_commit(pushed: dict[str, Any]) -> None:
    answer = registry.tag(pushed["url"], "trading-bot", "v1.2.0", TIMEOUTS)
    image = pushed["images"]["v1.2.0"]
    assert answer.digest == image.digest
    assert answer.labels[registry.REVISION_LABEL] == git.tag_commit(pushed["releases"].path, "v1.2.0")
    pods = {"trading-bot-a": f"trading-bot@{answer.digest}", "trading-bot-b": f"trading-bot@{answer.digest}"}
    assert supply.image_in_registry("trading-bot:v1.2.0", pushed["url"], answer.digest, pods).status is Status.PASS
    verdict = supply.git_tag_at_release("v1.2.0", git.tag_commit(pushed["releases"].path, "v1.2.0"),
                                        answer.labels[registry.REVISION_LABEL], str(pushed["releases"].path), "image")
    assert verdict.status is Status.PASS
    again = image_build.ensure_pushed(pushed["releases"], pushed["address"])
    assert not any(i.pushed for i in again), "a second start pushed again what the registry already held"


def test_a_tag_never_pushed_fails_naming_the_image(pushed: dict[str, Any]) -> None:
    answer = registry.tag(pushed["url"], "trading-bot", "v1.2.1", TIMEOUTS)
    assert answer.digest is None
    verdict = supply.image_in_registry("trading-bot:v1.2.1", pushed["url"], answer.digest,
                                       {"p": f"trading-bot@{pushed['images']['v1.2.0'].digest}"})
    assert verdict.status is Status.FAIL and "holds no trading-bot:v1.2.1" in verdict.message()


def test_a_tag_pushed_again_after_the_pull_fails_on_the_digest(pushed: dict[str, Any], tmp_path: pathlib.Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(oci_registry.REGISTRY_ENV, pushed["address"])
    monkeypatch.setattr(oci_registry, "_pulled", {})
    pulled = oci_registry.pull_digest("trading-bot", "v1.1.0")  # the node pulls, as the kubelet does
    rebuilt = image_build.build_layout(tmp_path / "oci", "v1.1.0", "f" * 40)
    image_build.push(tmp_path / "oci", "v1.1.0", pushed["address"], "trading-bot")
    try:
        answer = registry.tag(pushed["url"], "trading-bot", "v1.1.0", TIMEOUTS)
        assert answer.digest == rebuilt != pulled
        assert oci_registry.pull_digest("trading-bot", "v1.1.0") == pulled  # the node keeps what it pulled
        verdict = supply.image_in_registry("trading-bot:v1.1.0", pushed["url"], answer.digest,
                                           {"trading-bot-a": f"trading-bot@{pulled}"})
        assert verdict.status is Status.FAIL
        assert f"observed ['{pulled}']" in verdict.message() and f"threshold {rebuilt}" in verdict.message()
    finally:
        image_build.ensure_pushed(pushed["releases"], pushed["address"])  # the module's images again


def test_a_git_tag_on_another_commit_fails(pushed: dict[str, Any], tmp_path: pathlib.Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pushed["releases"].path), str(clone)], check=True, timeout=30)
    released = git.tag_commit(clone, "v1.2.0")
    env = {**os.environ, "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@example.org"}
    subprocess.run(["git", "-C", str(clone), "tag", "-f", "-a", "v1.2.0", "-m", "moved", "v1.1.0^{commit}"],
                   check=True, timeout=30, env=env, capture_output=True)
    moved = git.tag_commit(clone, "v1.2.0")
    assert moved == git.tag_commit(clone, "v1.1.0") != released
    verdict = supply.git_tag_at_release("v1.2.0", moved, released, str(clone), "image trading-bot:v1.2.0")
    assert verdict.status is Status.FAIL
    assert f"observed {moved}" in verdict.message() and f"threshold {released}" in verdict.message()


def test_the_manifests_at_the_tag_are_read_from_git(pushed: dict[str, Any]) -> None:
    repo = pushed["releases"].path
    files = git.files_at(repo, "v1.2.0", "deploy/k8s")
    assert "deploy/k8s/20-deployment.yaml" in files
    assert b"trading-bot:v1.1.0" in git.show(repo, "v1.1.0", "deploy/k8s/20-deployment.yaml")
    assert git.tag_commit(repo, "v9.9.9") is None
    with pytest.raises(git.GitUnavailable, match="not a Git repository"):
        git.tag_commit(repo.parent, "v1.2.0")
