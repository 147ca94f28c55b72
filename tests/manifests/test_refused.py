"""Manifests the API server refuses are ERROR findings, never a PASS of the §7.2 rules.

Each case below was judged 14 PASS before: a selector that does not match the pod
template's labels, a missing or empty selector, a container named ``Bot_X``, an object
named ``Trading_Bot``, port names that are not IANA service names or repeat, a label key
with a space, a liveness probe that must succeed twice, a spread constraint with maxSkew 0, a
progress deadline below minReadySeconds, a mount of an undeclared volume, ``cpus:`` for
``cpu:``, ``restartPolicy: Never`` in a Deployment, a port ``protocol: HTTP``, a Service of type
``Balancer`` or with a port named ``HTTP``. ``kubectl create`` writes some of them itself (it does not validate names on
the client), so its own output is judged here too. Valid forms the server accepts
(prefixed label keys, empty label values, ``matchExpressions``, named probe ports, a
ReplicationController whose selector defaults to its labels) still PASS.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldgate.checks.manifests import judge_file
from goldgate.checks.output import exit_code
from goldgate.criteria import spec_rules
from goldgate.criteria.spec_rules import validation
from goldgate.probes.manifests import parse
from goldgate.verdict import Status
from goldgate.workload_policy import Policy
from tests.manifests.helpers import FIXTURES

GOOD = yaml.safe_load((FIXTURES / "pass" / "deployment-guide.yaml").read_text())
KUBECTL = Path(sys.executable).with_name("kubectl")
POD = "spec.template.spec"
C0 = f"{POD}.containers[0]"


def _edit(change: str) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    c0 = doc["spec"]["template"]["spec"]["containers"][0]
    exec(change, {"doc": doc, "c0": c0})  # noqa: S102 - the cases below, written in this file
    return doc


def _found(doc: Any) -> list[Any]:
    return judge_file(parse("refused.yaml", yaml.safe_dump(doc).encode()), Policy())


REFUSED = [
    ("selector-mismatch", "doc['spec']['selector'] = {'matchLabels': {'app': 'other'}}", "spec.selector",
     "{app=other} does not match the pod template's labels {app=web}"),
    ("selector-missing", "del doc['spec']['selector']", "spec.selector", "is missing"),
    ("selector-empty", "doc['spec']['selector'] = {}", "spec.selector", "is empty"),
    ("selector-notin", "doc['spec']['selector'] = {'matchExpressions': "
                       "[{'key': 'app', 'operator': 'NotIn', 'values': ['web']}]}",
     "spec.selector", "{app NotIn (web)} does not match"),
    ("selector-bad-operator", "doc['spec']['selector'] = {'matchExpressions': [{'key': 'app', 'operator': 'Equals', "
                              "'values': ['web']}]}", "spec.selector.matchExpressions[0].operator", "not one of In"),
    ("selector-in-without-values", "doc['spec']['selector'] = {'matchExpressions': [{'key': 'app', "
                                   "'operator': 'In'}]}", "spec.selector.matchExpressions[0].values", "must be given"),
    ("container-name", "c0['name'] = 'Bot_X'", f"{C0}.name", "'Bot_X' is not a DNS-1123 label"),
    ("container-name-long", "c0['name'] = 'a' * 64", f"{C0}.name", "longer than 63 characters"),
    ("object-name", "doc['metadata']['name'] = 'Trading_Bot'", "metadata.name", "not a DNS-1123 subdomain"),
    ("namespace", "doc['metadata']['namespace'] = 'Trading'", "metadata.namespace", "not a DNS-1123 label"),
    ("port-name-case", "c0['ports'][0]['name'] = 'HTTP'; c0['livenessProbe'] = {'tcpSocket': {'port': 8080}}; "
                       "c0['readinessProbe'] = {'tcpSocket': {'port': 8080}}", f"{C0}.ports[0].name",
     "'HTTP' may hold only lower-case letters"),
    ("port-name-long", "c0['ports'][0]['name'] = 'http-metrics-port'", f"{C0}.ports[0].name",
     "longer than 15 characters"),
    ("port-name-digits", "c0['ports'][0]['name'] = '8080'", f"{C0}.ports[0].name", "holds no letter"),
    ("port-name-twice", "c0['ports'].append({'name': 'http', 'containerPort': 9090})", f"{C0}.ports[1].name",
     "duplicate port name 'http'"),
    ("probe-port-name", "c0['readinessProbe'] = {'httpGet': {'path': '/ready', 'port': 'Http_Port'}}",
     f"{C0}.readinessProbe.httpGet.port", "'Http_Port' may hold only"),
    ("label-key", "doc['spec']['template']['metadata']['labels']['bad key'] = 'x'",
     "spec.template.metadata.labels.bad key", "is not a qualified name"),
    ("label-value", "doc['metadata']['labels'] = {'tier': 'front end'}", "metadata.labels.tier",
     "'front end' is not a label value"),
    ("annotation-key", "doc['metadata']['annotations'] = {'example.org/ok': 'x', '-bad': 'y'}",
     "metadata.annotations.-bad", "is not a qualified name"),
    ("liveness-success-threshold", "c0['livenessProbe']['successThreshold'] = 2",
     f"{C0}.livenessProbe.successThreshold", "it must be 1"),
    ("probe-scheme", "c0['readinessProbe']['httpGet']['scheme'] = 'FTP'", f"{C0}.readinessProbe.httpGet.scheme",
     "'FTP' is not HTTP or HTTPS"),
    ("spread-max-skew", "doc['spec']['template']['spec']['topologySpreadConstraints'][0]['maxSkew'] = 0",
     f"{POD}.topologySpreadConstraints[0].maxSkew", "at least 1"),
    ("spread-when", "doc['spec']['template']['spec']['topologySpreadConstraints'][0]['whenUnsatisfiable'] = 'Maybe'",
     f"{POD}.topologySpreadConstraints[0].whenUnsatisfiable", "'Maybe' is not DoNotSchedule or ScheduleAnyway"),
    ("progress-deadline", "doc['spec']['progressDeadlineSeconds'] = 5; doc['spec']['minReadySeconds'] = 10",
     "spec.progressDeadlineSeconds", "5 is not greater than minReadySeconds 10"),
    ("mount-without-volume", "c0['volumeMounts'] = [{'name': 'data', 'mountPath': '/data'}]",
     f"{C0}.volumeMounts[0].name", "'data' is not a volume of the pod (it declares none)"),
    ("volume-twice", "doc['spec']['template']['spec']['volumes'] = [{'name': 'data', 'emptyDir': {}}, "
                     "{'name': 'data', 'emptyDir': {}}]", f"{POD}.volumes[1].name", "'data' is declared twice"),
    ("resource-typo", "c0['resources']['requests']['cpus'] = '1'", f"{C0}.resources.requests.cpus",
     "'cpus' is not a container resource"),
    ("restart-policy", "doc['spec']['template']['spec']['restartPolicy'] = 'Never'", f"{POD}.restartPolicy",
     "'Never' is not accepted in a Deployment's pods"),
    ("port-protocol", "c0['ports'][0]['protocol'] = 'HTTP'", f"{C0}.ports[0].protocol",
     "'HTTP' is not a protocol the API server accepts"),
]


@pytest.mark.parametrize(("change", "field", "cause"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_what_the_api_server_refuses_is_an_error_naming_the_field(change: str, field: str, cause: str) -> None:
    found = _found(_edit(change))
    assert not any(f.status is Status.PASS for f in found), [f.to_dict() for f in found]
    errors = [f for f in found if f.status is Status.ERROR]
    assert any(f.field == field and cause in f.verdict.reason for f in errors), [f.to_dict() for f in found]
    assert exit_code(found) == 2


ACCEPTED = [
    ("prefixed-label", "for m in (doc['spec']['selector']['matchLabels'], doc['spec']['template']['metadata']['labels']):"
                       " m['app.kubernetes.io/name'] = 'web'"),
    ("empty-label-value", "doc['spec']['template']['metadata']['labels']['canary'] = ''"),
    ("match-expressions", "doc['spec']['selector'] = {'matchLabels': {'app': 'web'}, 'matchExpressions': ["
                          "{'key': 'app', 'operator': 'In', 'values': ['web', 'api']}, "
                          "{'key': 'track', 'operator': 'DoesNotExist'}]}"),
    ("dotted-name", "doc['metadata']['name'] = 'web.v2-eu'"),
    ("port-names", "c0['ports'] = [{'name': 'http', 'containerPort': 8080}, "
                   "{'name': 'metrics-9090', 'containerPort': 9090}]"),
    ("named-probe-port", "c0['readinessProbe'] = {'httpGet': {'path': '/ready', 'port': 'http'}}"),
    ("mounted-volume", "doc['spec']['template']['spec']['volumes'] = [{'name': 'data', 'emptyDir': {}}]; "
                       "c0['volumeMounts'] = [{'name': 'data', 'mountPath': '/data'}]"),
    ("extended-resource", "c0['resources']['limits']['example.com/gpu'] = '1'; "
                          "c0['resources']['limits']['hugepages-2Mi'] = '64Mi'"),
    ("https-probe-udp-port", "c0['readinessProbe']['httpGet']['scheme'] = 'HTTPS'; "
                             "c0['ports'].append({'containerPort': 8125, 'protocol': 'UDP'})"),
]


@pytest.mark.parametrize("change", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_what_the_api_server_accepts_still_passes(change: str) -> None:
    found = _found(_edit(change))
    assert found and all(f.status is Status.PASS for f in found), [f.to_dict() for f in found if f.status is not
                                                                   Status.PASS]


def test_a_replication_controller_selector_defaults_to_its_labels_and_must_match_them() -> None:
    rc = copy.deepcopy(GOOD)
    rc.update(apiVersion="v1", kind="ReplicationController")
    del rc["spec"]["selector"], rc["spec"]["strategy"]
    assert all(f.status is Status.PASS for f in _found(rc))
    rc["spec"]["selector"] = {"app": "api"}
    assert [(f.status, f.field) for f in _found(rc)] == [(Status.ERROR, "spec.selector")]


def test_a_service_name_is_a_dns_1035_label() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "9svc"}, "spec": {"selector": {"app": "web"}}}
    found = _found(svc)
    assert [(f.status, f.field) for f in found] == [(Status.ERROR, "metadata.name")]
    assert "not a DNS-1035 label" in found[0].verdict.reason
    svc["metadata"]["name"] = "web-svc"
    assert [f.status for f in _found(svc)] == [Status.PASS]


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                                                         {"name": "metrics", "port": 9090, "protocol": "TCP"}]}}


@pytest.mark.parametrize(("change", "field", "cause"), [
    ("spec['type'] = 'Balancer'", "spec.type", "'Balancer' is not one of ClusterIP"),
    ("spec['sessionAffinity'] = 'Sticky'", "spec.sessionAffinity", "'Sticky' is not None or ClientIP"),
    ("spec['ports'][0]['name'] = 'HTTP'", "spec.ports[0].name", "'HTTP' is not a DNS-1123 label"),
    ("spec['ports'][1]['name'] = 'http'", "spec.ports[1].name", "duplicate port name 'http'"),
    ("del spec['ports'][1]['name']", "spec.ports[1].name", "required when a Service has more than one port"),
    ("spec['ports'][0]['port'] = 0", "spec.ports[0].port", "0 is not a port number"),
    ("spec['ports'][0]['protocol'] = 'HTTP'", "spec.ports[0].protocol", "'HTTP' is not a protocol"),
    ("spec['ports'][0]['targetPort'] = 'Http_Port'", "spec.ports[0].targetPort", "'Http_Port' may hold only"),
    ("spec['ports'][0]['targetPort'] = 70000", "spec.ports[0].targetPort", "70000 is not a port number"),
    ("spec['ports'] = {'port': 80}", "spec.ports", "expected a list"),
], ids=["type", "affinity", "port-name", "port-name-twice", "port-name-missing", "port-zero", "protocol",
        "target-name", "target-number", "ports-mapping"])
def test_a_service_the_api_server_refuses_is_an_error(change: str, field: str, cause: str) -> None:
    svc = copy.deepcopy(SERVICE)
    exec(change, {"spec": svc["spec"]})  # noqa: S102 - the cases above, written in this file
    found = _found(svc)
    assert not any(f.status is Status.PASS for f in found), [f.to_dict() for f in found]
    assert any(f.field == field and cause in f.verdict.reason for f in found), [f.to_dict() for f in found]


def test_a_service_the_api_server_accepts_is_judged() -> None:
    svc = copy.deepcopy(SERVICE)
    assert [f.status for f in _found(svc)] == [Status.PASS]
    svc["spec"].update(type="LoadBalancer", ports=[{"port": 443, "targetPort": 8443}])  # one port needs no name
    assert [f.status for f in _found(svc)] == [Status.PASS]
    svc["spec"]["sessionAffinity"] = "ClientIP"
    assert [f.status for f in _found(svc)] == [Status.FAIL]


def test_what_the_server_already_accepted_is_not_asked_again() -> None:
    """An object read back from the API server (``served``) passed its validation on the way
    in; the rules judge it as served."""
    doc = _edit("c0['name'] = 'Bot_X'; doc['spec']['selector'] = {'matchLabels': {'app': 'other'}}")
    served = spec_rules.judge_document(doc, Policy(), served=True)
    assert served and all(r.verdict is not None and r.verdict.status is Status.PASS for r in served)
    assert {r.rule for r in spec_rules.judge_document(doc, Policy())} == {"manifest-shape"}


@pytest.mark.parametrize(("args", "field", "cause"), [
    (("create", "deployment", "Bad_Name", "--image=nginx:1.27", "--port=80"), "metadata.name",
     "'Bad_Name' is not a DNS-1123 subdomain"),
    (("create", "service", "clusterip", "9svc", "--tcp=80:8080"), "metadata.name", "not a DNS-1035 label"),
])
def test_kubectl_writes_names_the_server_refuses_and_they_are_errors(args: tuple[str, ...], field: str,
                                                                      cause: str) -> None:
    out = subprocess.run([str(KUBECTL), *args, "--dry-run=client", "-o", "yaml"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr  # kubectl does not validate names on the client
    found = judge_file(parse("kubectl.yaml", out.stdout.encode()), Policy())
    assert not any(f.status is Status.PASS for f in found), [f.to_dict() for f in found]
    assert any(f.field == field and cause in f.verdict.reason for f in found), [f.to_dict() for f in found]


@pytest.mark.parametrize(("value", "ok"), [
    ("a", True), ("a-1", True), ("a" * 63, True), ("a" * 64, False), ("-a", False), ("a-", False), ("A", False),
    ("a.b", False), ("", False),
])
def test_dns_label(value: str, ok: bool) -> None:
    assert (validation.dns_label(value) is None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("http", True), ("h2c", True), ("a-b-c", True), ("a" * 15, True), ("a" * 16, False), ("80", False),
    ("a--b", False), ("-a", False), ("a-", False), ("A", False), ("a_b", False),
])
def test_port_name(value: str, ok: bool) -> None:
    assert (validation.port_name(value) is None) is ok


@pytest.mark.parametrize(("key", "ok"), [
    ("app", True), ("app.kubernetes.io/name", True), ("A_b.c-D", True), ("a" * 63, True), ("a" * 64, False),
    ("/a", False), ("Example.org/a", False), ("a/", False), ("a b", False), ("_a", False), ("a/b/c", False),
])
def test_label_key(key: str, ok: bool) -> None:
    assert (validation.label_key(key) is None) is ok


@pytest.mark.parametrize(("value", "ok"), [("", True), ("v1.2.0", True), ("a" * 63, True), ("a" * 64, False),
                                           ("a b", False), ("-a", False), ("a/b", False)])
def test_label_value(value: str, ok: bool) -> None:
    assert (validation.label_value(value) is None) is ok


@pytest.mark.parametrize(("kind", "name", "ok"), [
    ("Deployment", "web.v2", True), ("Deployment", "a" * 253, True), ("Deployment", "a" * 254, False),
    ("Job", "a" * 63, True), ("Job", "a" * 64, False), ("CronJob", "a" * 52, True), ("CronJob", "a" * 53, False),
    ("Service", "web", True), ("Service", "web.v2", False), ("Service", "9web", False), ("Pod", "Web", False),
])
def test_object_name(kind: str, name: str, ok: bool) -> None:
    assert (validation.object_name(kind, name) is None) is ok


@pytest.mark.parametrize("selector", [
    [1], {"matchLabels": ["app"]}, {"matchExpressions": {"key": "app"}}, {"matchLabels": {"app": 1}},
    {"matchExpressions": ["app"]}, {"matchExpressions": [{"operator": "Exists"}]},
    {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]},
    {"matchExpressions": [{"key": "app", "operator": "In", "values": "web"}]},
])
def test_malformed_selectors_are_problems_never_a_match(selector: Any) -> None:
    assert validation.selector("Deployment", selector, {"app": "web"}, "spec.selector")


def test_malformed_spread_constraints_and_mounts_are_problems() -> None:
    assert validation.spread_constraint({"maxSkew": True, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
                                        "c")[0][0] == "c.maxSkew"
    assert [f for f, _ in validation.spread_constraint({}, "c")] == ["c.maxSkew", "c.whenUnsatisfiable",
                                                                     "c.topologyKey"]
    assert [f for f, _ in validation.volume_mounts(["data", {"name": "data"}], {"data"}, "m")] == ["m[0]",
                                                                                                  "m[1].mountPath"]
    assert validation.deadlines({"progressDeadlineSeconds": True, "minReadySeconds": 5}) == []
    assert validation.resource_name("kubernetes.io/") is not None and validation.resource_name("a b/c") is not None
