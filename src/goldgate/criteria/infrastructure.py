"""Infrastructure readiness (guide §1.2): services, firewall, TLS, monitoring, alert-rule
tests. Pure decisions over cluster facts, handshakes and reports.

An empty answer is never a pass: no Service, no target, no listening socket, no alerting
rule means the probe looked at nothing, and the verdict says so with the count.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.probes.cluster_specs import ServiceState
from goldgate.probes.host import ListeningPorts
from goldgate.probes.promtool import AlertRulesReport
from goldgate.probes.targets import Target
from goldgate.probes.tls import TlsObservation
from goldgate.probes.workloads import PodFact
from goldgate.verdict import Evidence, Verdict


def _pod_state(pod: PodFact) -> dict[str, Any]:
    return {"name": pod.name, "phase": pod.phase, "ready": pod.ready, "waiting": pod.waiting_reason,
            "restarts": pod.restarts, "last_exit": pod.last_termination_reason}


def _pods_why(svc: ServiceState) -> str:
    """Why a Service has no ready endpoint, from its pods: waiting reason, restarts, last exit."""
    if not svc.pods:
        return ", no pod selected" if svc.selector else ""
    states = []
    for p in svc.pods:
        state = p.waiting_reason or ("Ready" if p.ready else f"{p.phase or 'Unknown'}, not Ready")
        last = f", last exit {p.last_termination_reason}" if p.last_termination_reason else ""
        states.append(f"{p.name} {state}, {p.restarts} restarts{last}")
    return f"; pods: {', '.join(states)}"


@criterion(needs="at least one Service in the namespace")
def services_available(svcs: Sequence[ServiceState], namespace: str, server: str) -> Verdict:
    crit = f"all services provisioned and available in {namespace}"
    ev = Evidence("kubernetes", f"{server} services in {namespace}", samples=len(svcs))
    if not svcs:
        return Verdict.failed(crit, 0, ">= 1 service", f"no Services in namespace {namespace}", evidence=ev)
    empty = [s for s in svcs if s.selector and s.ready_endpoints == 0]
    if empty:
        bad = [f"service/{s.name}: {s.ready_endpoints} ready endpoints ({s.not_ready_endpoints} not ready)"
               f"{_pods_why(s)}" for s in empty]
        ev = Evidence("kubernetes", ev.query, samples=len(svcs), details={"pods": {
            s.name: [_pod_state(p) for p in s.pods] for s in empty}})
        return Verdict.failed(crit, len(bad), 0, "; ".join(bad), evidence=ev)
    return Verdict.passed(crit, {s.name: s.ready_endpoints for s in svcs}, ">= 1 ready endpoint each", "every service has ready endpoints", evidence=ev)


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


@criterion(needs="the namespace's NetworkPolicies and the bot's pod labels")
def network_policy_selects(policies: Sequence[Mapping[str, Any]], pod_labels: Mapping[str, str], namespace: str) -> Verdict:
    crit = "a NetworkPolicy selects the bot's pods"
    names = [(p.get("metadata") or {}).get("name", "?") for p in policies]
    ev = Evidence("kubernetes", f"networkpolicies in {namespace}", samples=len(policies), details={"policies": names})
    hits = [(p.get("metadata") or {}).get("name", "?") for p in policies
            if _selects((p.get("spec") or {}).get("podSelector") or {}, pod_labels)]
    if hits:
        return Verdict.passed(crit, hits, dict(pod_labels), f"selected by {', '.join(hits)}", evidence=ev)
    return Verdict.failed(crit, names, dict(pod_labels),
                          f"none of the {len(policies)} NetworkPolicies in {namespace} selects pods labelled {dict(pod_labels)}", evidence=ev)


@criterion(needs="at least one listening socket seen on the host")
def only_allowed_ports(listening: ListeningPorts, allowed: Sequence[int]) -> Verdict:
    crit = f"only allowed ports listen on {listening.host}"
    extra = sorted(p for p in listening.ports if p not in set(allowed))
    ev = Evidence("testinfra", listening.host, samples=len(listening.ports), details={"listening": sorted(listening.ports)})
    if not listening.ports:
        return Verdict.inconclusive(crit, f"{listening.host}: no listening socket seen at all (not even the one "
                                    "goldgate reached the host by): nothing to judge", threshold=sorted(allowed), evidence=ev)
    if extra:
        shown = ", ".join(f"{p} ({'/'.join(listening.ports[p])})" for p in extra[:10])
        return Verdict.failed(crit, extra, sorted(allowed), f"{listening.host}: unexpected listening ports {shown}", evidence=ev)
    return Verdict.passed(crit, sorted(listening.ports), sorted(allowed), "nothing else listens", evidence=ev)


@criterion(needs="a completed TLS handshake and a finite minimum number of days")
def tls_valid(obs: TlsObservation, now: dt.datetime, min_days: float) -> Verdict:
    crit = f"TLS certificate of {obs.endpoint} valid"
    if not isinstance(min_days, int | float) or not math.isfinite(min_days):
        return Verdict.error(crit, f"minimum days left {min_days!r} is not a finite number")
    days = round(obs.days_left(now), 1)
    ev = Evidence("tls", f"https://{obs.endpoint}", details={"subject": obs.subject, "issuer": obs.issuer,
                                                            "not_after": obs.not_after.isoformat(), "protocol": obs.protocol})
    if not obs.verified:
        return Verdict.failed(crit, f"verification failed: {obs.verify_error}", "chain and hostname verified",
                              f"{obs.endpoint}: {obs.verify_error} (certificate {obs.subject}, expires {obs.not_after:%Y-%m-%d}, {days:g} days left)",
                              evidence=ev)
    if days < min_days:
        return Verdict.failed(crit, days, min_days, f"{obs.endpoint}: certificate {obs.subject} expires {obs.not_after:%Y-%m-%d}, "
                              f"{days:g} days left, need at least {min_days:g}", unit="days", evidence=ev)
    return Verdict.passed(crit, days, min_days, f"verified, {days:g} days left", unit="days", evidence=ev)


@criterion(needs="at least one Prometheus target matching the bot's labels")
def targets_up(targets: Sequence[Target], source: str, selector: Mapping[str, str]) -> Verdict:
    crit = "monitoring configured: the bot's Prometheus targets are up"
    ev = Evidence("prometheus targets", source, samples=len(targets),
                  details={"targets": {t.address: ("up" if t.up else f"down: {t.error}") for t in targets}})
    if not targets:
        return Verdict.failed(crit, 0, ">= 1 target up", f"{source}: no target labelled {dict(selector)}", evidence=ev)
    down = [f"{t.address} down ({t.error})" for t in targets if not t.up]
    if down:
        return Verdict.failed(crit, f"{len(targets) - len(down)}/{len(targets)} up", "all up", f"{source}: {'; '.join(down)}", evidence=ev)
    return Verdict.passed(crit, f"{len(targets)}/{len(targets)} up", "all up", "every target answered its scrape", evidence=ev)


@criterion(needs="at least one alerting rule and a promtool run over its tests")
def alert_rules_tested(report: AlertRulesReport) -> Verdict:
    crit = "alerting rules tested (promtool test rules)"
    untested = sorted(set(report.alerts) - report.tested)
    ev = Evidence("promtool", report.rules_dir, samples=len(report.alerts),
                  details={"test_files": report.test_files, "tested": sorted(report.tested), "output": report.output[-800:]})
    if not report.alerts:
        return Verdict.inconclusive(crit, f"{report.rules_dir}: 0 alerting rules in {len(report.rule_files)} rule files: "
                                    "nothing to test", observed="0/0 alerts tested",
                                    threshold="all alerts tested, all tests pass", evidence=ev)
    problems = []
    if not report.passed:
        problems.append("promtool test rules failed: " + (" | ".join(report.failures[:4]) or report.output[-300:]))
    problems += [f"alert {a} ({report.alerts[a]}) has no promtool test" for a in untested]
    if problems:
        return Verdict.failed(crit, f"{len(report.alerts) - len(untested)}/{len(report.alerts)} alerts tested"
                              + ("" if report.passed else ", tests failing"), "all alerts tested, all tests pass",
                              "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, f"{len(report.alerts)}/{len(report.alerts)} alerts tested", "all alerts tested, all tests pass",
                          "promtool: SUCCESS", evidence=ev)
