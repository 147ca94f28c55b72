"""Workload specification vocabulary (guide §7.2): the release's manifests and the running
Deployment, judged by the same rules as ``goldgate check manifests``.

The thresholds are the environment's ``policy.workloads`` (the guide's values when absent);
the feature names the rules it asks for, so a scenario reads as the guide's list.
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, then

from goldgate.config import Environment
from goldgate.criteria import spec_rules
from goldgate.probes import cluster_specs, manifests
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.workload_policy import Policy, policy_of
from steps.checklist import gate


def _rules(words: str) -> list[str]:
    wanted = [w.strip() for w in words.split(",") if w.strip()]
    unknown = sorted(set(wanted) - set(spec_rules.RULES))
    if unknown or not wanted:
        raise ValueError(f"unknown workload rule(s) {unknown or words!r}; known: {', '.join(spec_rules.RULES)}")
    return wanted


def _policy(environment: Environment) -> Policy:
    return policy_of(environment)


@then(parsers.parse('every workload in the release\'s manifests meets the rules "{rules}"'))
def manifests_meet_rules(release: ReleaseInputs, environment: Environment, rules: str) -> None:
    folder = environment.release.layout.manifests
    wanted, path = _rules(rules), release.in_project(folder)

    def read() -> list[manifests.ManifestFile]:
        if not path.exists():  # name the setting, not only the default path it led to
            raise ArtifactUnavailable(path, f"no such file or folder (release.layout.manifests: {folder!r})")
        return manifests.read([str(path)])

    gate(f"workloads in {folder} meet {rules}", read,
         lambda files: spec_rules.all_rules_pass(
             spec_rules.judge_manifests(files, _policy(environment), wanted), str(path)))


@then(parsers.parse('the bot\'s running Deployment meets the rules "{rules}"'))
def live_deployment_meets_rules(kube: Any, environment: Environment, rules: str) -> None:
    wanted, k = _rules(rules), environment.kubernetes
    where = f"{kube.server} {k.namespace}/{k.deployment}"
    gate(f"the running Deployment meets {rules}",
         lambda: cluster_specs.read_deployment(kube, k.namespace, k.deployment),
         lambda served: spec_rules.all_rules_pass(
             spec_rules.judge_document({**served, "kind": served.get("kind") or "Deployment"},
                                       _policy(environment), wanted, where, served=True), where))
