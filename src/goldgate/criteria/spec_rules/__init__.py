"""Guide §7.2 workload rules on any manifest: which rules apply to which kind, and the verdicts.

Every pod template is judged — Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs and bare Pods — with only the rules its kind can meet: a Pod has no replica count,
a Job's pods run to completion so probes and the drain window are not asked of them, a
StatefulSet replaces pods one at a time so it has no surge to judge. A kind without a pod
template (ConfigMap, NetworkPolicy…) is reported as not applicable, not as an error.
Malformed documents give ERROR verdicts naming the field; no rule runs on a workload that
could not be read whole, so a broken container can never hide behind a PASS.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.spec_rules import rules
from goldgate.criteria.spec_rules.shape import (
    POD_SPEC_PATH,
    ContainerSpec,
    WorkloadSpec,
    read_service,
    read_workload,
)
from goldgate.verdict import Evidence, Status, Verdict
from goldgate.workload_policy import Policy

__all__ = ["RULES", "RuleResult", "all_rules_pass", "judge_document", "judge_manifests", "no_workload", "unreadable"]

_CONTAINER_RULES: dict[str, Callable[[ContainerSpec, Policy], Verdict]] = {
    "liveness-probe": rules.liveness_probe,
    "readiness-probe": rules.readiness_probe,
    "probe-port": rules.probe_port,
    "cpu-request": rules.cpu_request,
    "memory-request": rules.memory_request,
    "cpu-limit": rules.cpu_limit,
    "memory-limit": rules.memory_limit,
    "image-pinned": rules.image_pinned,
}
_WORKLOAD_RULES: dict[str, Callable[[WorkloadSpec, Policy], Verdict]] = {
    "replicas": rules.replicas,
    "rolling-update": rules.rolling_update,
    "max-unavailable": rules.max_unavailable,
    "max-surge": rules.max_surge,
    "zone-spread": rules.zone_spread,
    "termination-grace": rules.termination_grace,
}
#: Every rule id, in the order findings are listed.
RULES = (*_CONTAINER_RULES, *_WORKLOAD_RULES, "session-affinity")

_REPLICATED = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
_BATCH = {"Job", "CronJob"}
#: kind → rules that do not apply to it (and why, for the README table)
NOT_FOR_KIND: dict[str, frozenset[str]] = {
    "Deployment": frozenset(),
    "StatefulSet": frozenset({"max-surge", "max-unavailable"}),  # one pod at a time, no surge
    "DaemonSet": frozenset({"replicas", "zone-spread"}),  # one pod per node
    "ReplicaSet": frozenset({"rolling-update", "max-surge", "max-unavailable"}),
    "ReplicationController": frozenset({"rolling-update", "max-surge", "max-unavailable"}),
    "Job": frozenset({"liveness-probe", "readiness-probe", "probe-port", "replicas", "rolling-update", "max-surge",
                      "max-unavailable", "zone-spread", "termination-grace"}),
    "Pod": frozenset({"replicas", "rolling-update", "max-surge", "max-unavailable", "zone-spread"}),
}
NOT_FOR_KIND["CronJob"] = NOT_FOR_KIND["Job"]


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict on one workload (and container), located by field path."""

    rule: str
    verdict: Verdict | None  # None: not applicable (``not_run`` says why)
    kind: str = ""
    name: str = ""
    container: str = ""
    field: str = ""
    not_run: str = ""
    file: str = ""
    document: int | None = None


@criterion(needs="never passes: it reports a document or field that could not be read")
def unreadable(where: str, field: str, cause: str) -> Verdict:
    """ERROR for a manifest (or a field in it) that cannot be judged."""
    at = f"{where} {field}".strip()
    reason = f"{field}: {cause}" if field else cause
    return Verdict.error("manifest readable", reason, threshold="a readable manifest",
                         evidence=Evidence("manifest", at, details={"at": at}))


@criterion(needs="never passes: it reports that a file holds nothing to judge")
def no_workload(where: str, kinds: Sequence[str]) -> Verdict:
    seen = ", ".join(sorted(set(kinds))) or "no documents"
    return Verdict.inconclusive("workload present", f"{where}: no workload or Service to judge (found {seen})",
                                observed=seen, threshold="a pod template or a Service", evidence=Evidence("manifest", where))


def judge_document(doc: Any, policy: Policy, rules_wanted: Collection[str] | None = None,
                   where: str = "", *, served: bool = False) -> list[RuleResult]:
    """Every applicable rule on one parsed document (``kind: List`` is judged item by item).

    ``served``: the document was read back from the API server (a live workload), so it is
    judged on its effective values (a request the server defaulted to the limit counts);
    a manifest is judged on what it declares.
    """
    wanted = set(rules_wanted) if rules_wanted is not None else set(RULES)
    return _judge(doc, policy, wanted, where, "", served)


def judge_manifests(files: Iterable[Any], policy: Policy, rules_wanted: Collection[str] | None = None) -> list[RuleResult]:
    """Every rule on every document of read manifest files, and an ERROR for each unreadable part.

    ``files`` are :class:`goldgate.probes.manifests.ManifestFile`-shaped (``path``,
    ``documents`` with ``index``/``body``, ``problems`` with ``index``/``cause``).
    """
    out: list[RuleResult] = []
    for file in files:
        for doc in file.documents:
            where = f"{file.path}#{doc.index}"
            out += [replace(r, file=file.path, document=doc.index)
                    for r in judge_document(doc.body, policy, rules_wanted, where)]
        for p in file.problems:
            where = file.path + (f"#{p.index}" if p.index is not None else "")
            out.append(RuleResult("manifest-readable", unreadable(where, "", p.cause), file=file.path,
                                  document=p.index))
    return out


def _judge(doc: Any, policy: Policy, wanted: set[str], where: str, prefix: str, served: bool = False) -> list[RuleResult]:
    def error(field: str, cause: str, kind: str = "", name: str = "") -> RuleResult:
        return RuleResult("manifest-shape", unreadable(where, prefix + field, cause), kind, name, field=prefix + field)

    if doc is None:
        return []
    if not isinstance(doc, dict):
        return [error("(document)", f"expected a mapping, got {type(doc).__name__}")]
    kind = doc.get("kind")
    if not isinstance(kind, str) or not kind:
        return [error("kind", "missing or not a string: cannot tell what this document is")]
    if kind.endswith("List") and "items" in doc:
        items = doc["items"]
        if not isinstance(items, list):
            return [error("items", f"expected a list, got {type(items).__name__}", kind)]
        return [r for i, item in enumerate(items)
                for r in _judge(item, policy, wanted, where, f"{prefix}items[{i}].", served)]
    if kind == "Service":
        svc, problems = read_service(doc, served=served)
        if problems:
            return [error(p.field, p.cause, kind, svc.name) for p in problems]
        if "session-affinity" not in wanted:
            return []
        v = rules.session_affinity(svc, policy)
        return [RuleResult("session-affinity", v, kind, svc.name, field=prefix + v.evidence[0].query)]
    if kind not in POD_SPEC_PATH:
        name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
        return [RuleResult("not-applicable", None, kind, str(name), field=prefix.rstrip(".") or "",
                           not_run=f"{kind} has no pod template: the workload rules do not apply")]
    workload, problems = read_workload(doc, kind, served=served)
    if problems:
        return [error(p.field, p.cause, kind, workload.name) for p in problems]
    if not workload.containers:
        return [error(f"{workload.pod_field}.containers", "no containers", kind, workload.name)]
    skip = NOT_FOR_KIND.get(kind, frozenset())
    out: list[RuleResult] = []
    for c in workload.containers:
        for rule, judge in _CONTAINER_RULES.items():
            if rule in wanted and rule not in skip:
                v = judge(c, policy)
                out.append(RuleResult(rule, v, kind, workload.name, c.name, prefix + v.evidence[0].query))
    rolling = workload.strategy_type == "RollingUpdate"
    for rule, wjudge in _WORKLOAD_RULES.items():
        if rule not in wanted or rule in skip or (rule in ("max-surge", "max-unavailable") and not rolling):
            continue
        v = wjudge(workload, policy)
        out.append(RuleResult(rule, v, kind, workload.name, field=prefix + v.evidence[0].query))
    return out


_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.INCONCLUSIVE: 2, Status.PASS: 3}


def _line(r: RuleResult) -> str:
    v = r.verdict
    where = (f"{r.file}#{r.document} " if r.file else "") + f"{r.kind}/{r.name}".strip("/")
    where += f" container {r.container}" if r.container else ""
    if v is None:
        return f"NOT RUN {r.rule}: {where}: {r.not_run}"
    return f"{v.status.value} {r.rule}: {where} {r.field}: observed {v.observed}, expected {v.threshold} — {v.reason}"


@criterion(needs="at least one rule judged on at least one workload; every judged rule passing")
def all_rules_pass(results: Sequence[RuleResult], source: str) -> Verdict:
    """One verdict for a gate step: the worst rule decides, and its line comes first."""
    crit = "workloads meet the guide's §7.2 rules"
    judged = [r for r in results if r.verdict is not None]
    ev = Evidence("manifest", source, samples=len(judged), details={"findings": [_line(r) for r in judged]})
    if not judged:
        return Verdict.inconclusive(crit, f"{source}: no rule could be judged", evidence=ev)
    bad = sorted((r for r in judged if not r.verdict.ok), key=lambda r: _ORDER[r.verdict.status])  # type: ignore[union-attr]
    workloads = len({(r.kind, r.name) for r in judged})
    if not bad:
        return Verdict.passed(crit, f"{len(judged)} rule verdicts on {workloads} objects, all PASS", "every rule PASS",
                              evidence=ev)
    worst = bad[0].verdict.status  # type: ignore[union-attr]
    reason = "; ".join(_line(r) for r in bad)
    observed = f"{len(bad)} of {len(judged)} rule verdicts not PASS"
    if worst is Status.FAIL:
        return Verdict.failed(crit, observed, "every rule PASS", reason, evidence=ev)
    if worst is Status.ERROR:
        return Verdict.error(crit, reason, threshold="every rule PASS", observed=observed, evidence=ev)
    return Verdict.inconclusive(crit, reason, observed=observed, threshold="every rule PASS", evidence=ev)
