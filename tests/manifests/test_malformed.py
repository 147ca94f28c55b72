"""Malformed manifests are ERROR findings naming file, document and field — never a traceback.

The named cases are the ones that crashed before (containers as strings, a probe as a
string, limits as a list, spec as a list, metadata as a string, a file that is not UTF-8),
plus YAML syntax errors and binary files. The property test then mutates real manifests
anywhere in the tree and runs the whole check in-process on the result.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate.checks.manifests import judge_file
from goldgate.probes.manifests import parse
from goldgate.verdict import Status
from goldgate.workload_policy import Policy
from tests.manifests.helpers import FIXTURES, ROOT, findings

GOOD = yaml.safe_load((FIXTURES / "pass" / "deployment-guide.yaml").read_text())


def _mutated(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    node: Any = doc
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


CASES = [
    ("spec.template.spec.containers", ["web", "sidecar"], "spec.template.spec.containers[0]"),
    ("spec.template.spec.containers.0.livenessProbe", "/healthz", "spec.template.spec.containers[0].livenessProbe"),
    ("spec.template.spec.containers.0.resources.limits", ["1", "512Mi"],
     "spec.template.spec.containers[0].resources.limits"),
    ("spec", [1, 2], "spec"),
    ("metadata", "web", "metadata"),
    ("spec.replicas", "three", "spec.replicas"),
    ("spec.strategy.rollingUpdate.maxSurge", "one", "spec.strategy.rollingUpdate.maxSurge"),
    ("spec.template.spec.containers.0.resources.requests.cpu", "lots",
     "spec.template.spec.containers[0].resources.requests.cpu"),
    ("spec.template.spec.containers.0.ports.0.containerPort", "http",
     "spec.template.spec.containers[0].ports[0].containerPort"),
    ("spec.template.spec.containers.0.livenessProbe.httpGet.port", [8080],
     "spec.template.spec.containers[0].livenessProbe.httpGet.port"),
]


@pytest.mark.parametrize(("path", "value", "field"), CASES, ids=[c[0] for c in CASES])
def test_wrong_type_is_an_error_naming_the_field(tmp_path: Path, path: str, value: Any, field: str) -> None:
    target = tmp_path / "bad.yaml"
    target.write_text(yaml.safe_dump_all([{"kind": "ConfigMap", "metadata": {"name": "c"}}, _mutated(path, value)]))
    found = findings(target)
    bad = [f for f in found if f.status is not None and f.status is not Status.PASS]
    assert bad, [f.to_dict() for f in found]
    first = bad[0]
    assert (first.file, first.document) == (str(target), 1)
    assert any(field in (f.field + " " + (f.verdict.reason if f.verdict else "")) for f in bad), [f.to_dict() for f in bad]
    assert not any(f.status is Status.PASS and f.document == 1 for f in found), "a broken workload passed a rule"


@pytest.mark.parametrize(("data", "cause"), [
    (b"kind: Deployment\nmetadata:\n  name: [unclosed\n", "started at line 3"),
    (b"apiVersion: v1\nkind: Pod\n\x00\x01\x02binary", "binary file"),
    ("kind: Pod\nmetadata:\n  name: caf\u00e9\n".encode("latin-1"), "not UTF-8"),
    (b"kind: Service\nmetadata: {name: a}\n---\nkind: Pod\n  bad: indent\n", "YAML syntax error"),
    (b"- a\n- b\n", "expected a mapping"),
    (b"kind: [Deployment]\n", "kind"),
    (b"{? [a, b] : c}\n", "unhashable"),
])
def test_unreadable_files_are_located_errors(data: bytes, cause: str) -> None:
    found = judge_file(parse("in.yaml", data), Policy())
    errors = [f for f in found if f.status is Status.ERROR]
    assert errors, [f.to_dict() for f in found]
    assert any(cause in f.to_dict()["message"] or cause in f.field for f in errors), [f.to_dict() for f in errors]
    assert all(f.file == "in.yaml" for f in found)


def test_documents_before_a_syntax_error_are_still_judged() -> None:
    data = (FIXTURES / "pass" / "deployment-guide.yaml").read_bytes() + b"---\nkind: Pod\n  bad: indent\n"
    found = judge_file(parse("two.yaml", data), Policy())
    assert {f.document for f in found if f.status is Status.PASS} == {0}
    assert [f.document for f in found if f.status is Status.ERROR] == [1]


# ----------------------------------------------------------------------------- property test
def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


SOURCES = [yaml.safe_load(p.read_text()) for p in sorted(FIXTURES.glob("*/*.yaml"))
           if len(list(yaml.safe_load_all(p.read_text()))) == 1]
SOURCES += [d for p in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
JUNK = st.one_of(
    st.text(max_size=6), st.integers(-5, 10**12), st.none(), st.booleans(), st.floats(allow_nan=True),
    st.lists(st.one_of(st.text(max_size=4), st.integers(), st.none()), max_size=3),
    st.dictionaries(st.sampled_from(["name", "port", "type", "cpu", "containers", "spec", "x"]),
                    st.one_of(st.text(max_size=4), st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
                    max_size=3),
)


@st.composite
def mutated_manifests(draw: st.DrawFn) -> list[Any]:
    docs = []
    for _ in range(draw(st.integers(1, 3))):
        doc = copy.deepcopy(draw(st.sampled_from(SOURCES)))
        for _ in range(draw(st.integers(1, 3))):
            paths = _paths(doc)
            path = draw(st.sampled_from(paths))
            value = draw(JUNK)
            if not path:
                doc = value
                continue
            node = doc
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        docs.append(doc)
    return docs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=mutated_manifests())
def test_no_tree_crashes_the_check_or_passes_a_broken_workload(docs: list[Any]) -> None:
    data = yaml.safe_dump_all(docs, allow_unicode=True).encode()
    found = judge_file(parse("fuzz.yaml", data), Policy())
    for f in found:
        assert f.verdict is not None or f.not_run, f
        if f.status is Status.ERROR:
            assert f.file == "fuzz.yaml" and f.verdict is not None and f.verdict.reason
    broken = {f.document for f in found if f.rule in ("manifest-shape", "manifest-readable")}
    assert not any(f.status is Status.PASS and f.document in broken for f in found)
