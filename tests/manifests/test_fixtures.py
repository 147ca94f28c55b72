"""Known-good and known-bad manifests in the style of policy tools' fixtures: each file says in
its header which rules it breaks; every other rule that runs on it must PASS.

These are the complaints of the issue "Releases goldgate has never seen": other kinds than
Deployments, containers with other names, rules met in other ways than the guide's example
(exec probes, ``maxSurge: 25%``, named ports, ``0%``), two containers with one name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from goldgate.checks.output import exit_code
from tests.manifests.helpers import FIXTURES, expectations, findings

CASES = sorted(FIXTURES.glob("*/*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fixture_meets_its_expectations(path: Path) -> None:
    expected = expectations(path)
    found = findings(path)
    assert any(f.status is not None for f in found), f"{path.name}: nothing judged"
    for f in found:
        if f.status is None:
            continue
        want = expected.get(f"{f.rule}@{f.container}") or expected.get(f.rule) or "PASS"
        assert f.status.value == want, f"{path.name}: {f.rule} {f.where()}: {f.to_dict()}"
        if want == "FAIL":  # a measured breach always shows the value and the threshold
            assert f.verdict is not None and f.verdict.observed is not None and f.verdict.threshold is not None
    for rule in expected:
        rule_id, _, container = rule.partition("@")
        assert any(f.rule == rule_id and (not container or f.container == container) for f in found), rule
    assert exit_code(found) == (0 if path.parent.name == "pass" else 1 if "FAIL" in expected.values() else 2)


def test_every_rule_is_broken_by_some_fixture() -> None:
    from goldgate.criteria.spec_rules import RULES

    broken = {r.partition("@")[0] for p in CASES for r in expectations(p)}
    assert set(RULES) <= broken, sorted(set(RULES) - broken)


def test_other_kinds_are_judged_not_errors() -> None:
    for name, kind in (("statefulset", "StatefulSet"), ("daemonset", "DaemonSet"), ("cronjob", "CronJob"),
                       ("bare-pod-digest", "Pod")):
        found = findings(FIXTURES / "pass" / f"{name}.yaml")
        assert {f.kind for f in found} == {kind}
        assert all(f.status is not None and f.status.value == "PASS" for f in found), name


def test_two_containers_give_two_lines_per_container_rule() -> None:
    found = findings(FIXTURES / "fail" / "sidecar-without-readiness.yaml")
    readiness = {f.container: f.status.value for f in found if f.rule == "readiness-probe"}
    assert readiness == {"web": "PASS", "sidecar": "FAIL"}
    line = next(f for f in found if f.rule == "readiness-probe" and f.container == "sidecar")
    assert line.field == "spec.template.spec.containers[1].readinessProbe"


def test_duplicate_container_names_are_an_error_not_a_pass() -> None:
    found = findings(FIXTURES / "fail" / "duplicate-container-names.yaml")
    assert [f.status.value for f in found if f.status is not None] == ["ERROR"]
    assert found[0].field == "spec.template.spec.containers[1].name"
    assert "duplicate container name 'web'" in found[0].verdict.reason


def test_percentages_resolve_like_the_deployment_controller() -> None:
    found = {f.rule: f for f in findings(FIXTURES / "pass" / "exec-probe-percent-rollout.yaml")}
    assert found["max-surge"].verdict.observed == "25% of 3 = 1"
    assert found["max-unavailable"].verdict.observed == "25% of 3 = 0"
    half = {f.rule: f for f in findings(FIXTURES / "fail" / "max-unavailable-half.yaml")}
    assert half["max-unavailable"].verdict.observed == "50% of 4 = 2"
    assert half["max-unavailable"].verdict.threshold == "at most 0"


def test_policy_changes_the_thresholds_and_their_labels() -> None:
    from goldgate.checks.manifests import judge_file
    from goldgate.probes.manifests import read
    from goldgate.workload_policy import Policy

    [file] = read([str(FIXTURES / "fail" / "one-replica.yaml")])
    relaxed = {f.rule: f for f in judge_file(file, Policy(min_replicas=1, drain_s=10))}
    assert relaxed["replicas"].status.value == "PASS"
    assert relaxed["replicas"].verdict.threshold == "at least 1"
    assert relaxed["termination-grace"].verdict.threshold == "at least 10s (10s drain)"
