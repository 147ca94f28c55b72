"""The release's supply chain (guide §5.1-5.3, §9.1-9.2): image in the registry, Git tag, and
configuration recovered from Git."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_bdd import given, parsers, then

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment
from goldgate.criteria import post_deploy, supply
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes import git, live_objects, registry, workloads
from goldgate.probes.kubernetes import KubernetesUnavailable, call
from goldgate.verdict import Status, Verdict, expect

UNAVAILABLE = (registry.RegistryUnavailable, git.GitUnavailable, KubernetesUnavailable)


def _need(environment: Environment, field: str) -> str:
    value = getattr(environment.release, field)
    if not value:
        pytest.skip(f"{environment.source_file or environment.name}: release.{field} is not set — "
                    f"{'no registry to ask for the release image' if field == 'registry' else 'no Git repository'}")
    return str(value)


def _repository(environment: Environment) -> Path:
    """release.repository, relative to the environment file when not absolute."""
    path = Path(_need(environment, "repository")).expanduser()
    if not path.is_absolute() and environment.source_file:
        path = Path(environment.source_file).parent / path
    return path


def _release_image(kube: Any, environment: Environment) -> registry.ImageReference:
    """The running Deployment's image, at the release's tag."""
    k = environment.kubernetes
    deploy = call(kube, f"read deployment {k.namespace}/{k.deployment}", kube.apps.read_namespaced_deployment,
                  k.deployment, k.namespace)
    containers = {c.name: c.image for c in deploy.spec.template.spec.containers}
    image = containers.get(k.container) or next(iter(containers.values()))
    ref = registry.ImageReference.parse(image)
    return registry.ImageReference(ref.host, ref.repository, environment.release.version)


def _tag(kube: Any, environment: Environment) -> tuple[registry.ImageReference, registry.TagAnswer]:
    ref = _release_image(kube, environment)
    return ref, registry.tag(_need(environment, "registry"), ref.repository, ref.tag, environment.timeouts)


def gate(criterion: str, measure: Any, judge: Any) -> None:
    expect(measure_and_judge(criterion, measure, judge, UNAVAILABLE))


@then("the release image is in the registry under its tag at the digest the running pods run")
def image_in_registry(kube: Any, environment: Environment) -> None:
    def measure() -> tuple[str, registry.TagAnswer, dict[str, str]]:
        ref, answer = _tag(kube, environment)
        k = environment.kubernetes
        deployed = _release_image(kube, environment)
        running = {p.name: p.image_ids.get(k.container, "")
                   for p in workloads.pod_facts(kube, k.namespace, k.label_selector)
                   if p.phase == "Running" and not p.deleting and p.image_ids
                   and registry.ImageReference.parse(p.images[0]).repository == deployed.repository
                   and registry.ImageReference.parse(p.images[0]).tag == ref.tag}
        return f"{ref.repository}:{ref.tag}", answer, running

    gate("release image in the registry at the digest the pods run", measure,
         lambda m: supply.image_in_registry(m[0], environment.release.registry or "", m[1].digest, m[2]))


@then("the release's Git tag points at the commit the running image was built from")
def git_tag(kube: Any, environment: Environment) -> None:
    repo = _repository(environment)

    def measure() -> tuple[str | None, str | None, str]:
        ref, answer = _tag(kube, environment)
        source = f"image {ref.repository}:{ref.tag} ({registry.REVISION_LABEL})"
        return git.tag_commit(repo, environment.release.version), answer.labels.get(registry.REVISION_LABEL), source

    gate(f"git tag {environment.release.version} at the release commit", measure,
         lambda m: supply.git_tag_at_release(environment.release.version, m[0], m[1], str(repo), m[2]))


def manifests_at_tag(repo: Path, tag: str, folder: str) -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes document under ``folder`` at ``tag``, with the file it came from."""
    docs = []
    for path in git.files_at(repo, tag, folder):
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            loaded = list(yaml.safe_load_all(git.show(repo, tag, path)))
        except yaml.YAMLError as exc:
            raise git.GitUnavailable(f"{repo}@{tag}:{path}: not YAML: {str(exc).splitlines()[0]}") from None
        docs.extend((f"{tag}:{path}", d) for d in loaded if isinstance(d, dict) and d.get("kind"))
    return docs


def _of_namespace(doc: dict[str, Any], namespace: str) -> bool:
    """Whether a document configures this environment: the per-environment files of guide §5.1/5.2
    (``k8s/staging.yaml``, ``k8s/production.yaml``) sit beside it in Git but configure their own
    namespaces, whose objects another environment runs."""
    meta = doc.get("metadata") or {}
    if doc.get("kind") == "Namespace":
        return meta.get("name") == namespace
    return meta.get("namespace") in (None, namespace)


def _config_verdict(kube: Any, environment: Environment) -> Verdict:
    repo = _repository(environment)
    tag = environment.release.version

    def measure() -> list[tuple[str, dict[str, Any], Any]]:
        if git.tag_commit(repo, tag) is None:
            raise git.GitUnavailable(f"{repo}: no tag {tag} to recover the configuration from")
        namespace = environment.kubernetes.namespace
        docs = [d for d in manifests_at_tag(repo, tag, environment.release.manifests_path) if _of_namespace(d[1], namespace)]
        objs = live_objects.read(kube, docs, namespace)
        return [(o.key, o.desired, o.live) for o in objs]

    return measure_and_judge(f"running configuration equals Git at {tag}", measure,
                             lambda objs: supply.config_matches_git(tag, str(repo), objs), UNAVAILABLE)


@then("the running manifests equal those at the release tag in Git")
def config_from_git(kube: Any, environment: Environment) -> None:
    expect(_config_verdict(kube, environment))


@given(parsers.parse('a live edit sets {key} to "{value}" in the ConfigMap {name}, not in Git'))
def live_config_edit(kube: Any, environment: Environment, safety: Any, key: str, value: str, name: str) -> Iterator[None]:
    """The rehearsal's edit (``kubectl patch configmap``), undone afterwards whatever happened."""
    namespace = environment.kubernetes.namespace
    before = call(kube, f"read configmap {namespace}/{name}", kube.core.read_namespaced_config_map, name, namespace)
    original = (before.data or {}).get(key)
    actions.set_config_value(kube, safety, namespace, name, key, value, reason="§9.2 recovery rehearsal: a live edit")
    yield
    if original is not None:
        actions.set_config_value(kube, safety, namespace, name, key, original, reason="undo the rehearsal's live edit")


@then(parsers.parse("the configuration-from-Git check fails naming {field}"))
def config_from_git_fails(kube: Any, environment: Environment, field: str) -> None:
    verdict = _config_verdict(kube, environment)
    expect(post_deploy.shows_status(verdict if field in verdict.message() else None, Status.FAIL,
                                    criterion=f"a live edit of {field} fails configuration recovered from Git"))
