"""What the pytest plugin does for reporting at the start and the end of a run.

Kept out of plugin.py so the plugin stays a list of hooks: :func:`begin` clears the last
run's verdict (a stale GO must never be read as this run's), switches on redaction and
registers the target's credentials; :func:`refuse` records a run stopped before any test;
:func:`finish` writes verdict.json, appends the audit record, masks secrets in Allure's
results and fixes up junit.xml.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from goldgate.report import audit, junit, redact
from goldgate.report.guide_lines import guide_lines_block, summary_text
from goldgate.report.verdict_file import (
    VerdictCollector,
    count_outcomes,
    decision_suffix,
    not_applicable_line,
    provenance_text,
    test_entries,
    write_refusal,
    write_verdict_file,
)

DEFAULT_AUDIT_LOG = "reports/audit.jsonl"
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path


@dataclass
class RunContext:
    started_at: str
    started_epoch: float
    verdict_path: Path | None
    audit_path: Path | None
    postgres_ref: str | None
    reason: str | None
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    approvals: dict[str, Any] | None = None
    decision: str | None = None
    reasons: list[str] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    not_applicable: list[dict[str, Any]] = field(default_factory=list)
    audit_seq: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    guide_lines: dict[str, Any] = field(default_factory=dict)  # verdict.json's guide_lines
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _under_root(config: pytest.Config, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(config.rootpath) / path


def begin(config: pytest.Config) -> RunContext:
    ctx = RunContext(
        started_at=audit.utc_now(),
        started_epoch=time.time(),
        verdict_path=_under_root(config, config.getoption("goldgate_verdict_file")),
        audit_path=_under_root(config, config.getoption("goldgate_audit_log", DEFAULT_AUDIT_LOG)),
        postgres_ref=config.getoption("goldgate_audit_postgres", None) or os.environ.get("GOLDGATE_AUDIT_POSTGRES") or None,
        reason=config.getoption("goldgate_reason", None) or os.environ.get("GOLDGATE_REASON") or None,
    )
    if config.option.collectonly:
        ctx.verdict_path = ctx.audit_path = None
        ctx.postgres_ref = None
    if ctx.verdict_path is not None:
        with contextlib.suppress(FileNotFoundError):
            ctx.verdict_path.unlink()
    ctx.cleanups.append(redact.install_logging_redaction())
    if config.getoption("allure_report_dir", None):
        from goldgate.report.allure_extras import install_result_redaction

        ctx.cleanups.append(install_result_redaction())
    return ctx


def register_environment_secrets(env: Any) -> None:
    """Credentials the run will hold: the kubeconfig's users; references resolve themselves."""
    kubeconfig = env.kubernetes.kubeconfig
    if kubeconfig == "in-cluster":
        with contextlib.suppress(OSError):
            redact.register_secret(Path(SERVICE_ACCOUNT_TOKEN).read_text(encoding="utf-8").strip())
    else:  # a value that names no file (yet) registers nothing; resolved, it is registered again
        redact.register_kubeconfig_secrets(kubeconfig)
    kubeconfig_env = os.environ.get("KUBECONFIG")
    if kubeconfig_env:
        for part in kubeconfig_env.split(os.pathsep):
            if part:
                redact.register_kubeconfig_secrets(part)


def _facts(config: pytest.Config, ctx: RunContext, env: Any, *, decision: str, reasons: list[str],
           exit_status: int | None, counts: dict[str, int], change: str | None,
           actions: list[dict[str, Any]], not_run: list[dict[str, Any]] | None = None) -> audit.RunFacts:
    return audit.facts_for(
        env,
        environment_name=str(config.getoption("goldgate_env") or "local"),
        decision=decision, reasons=reasons, exit_status=exit_status, counts=counts,
        change=change, actions=actions, started_at=ctx.started_at, reason=ctx.reason,
        approvals=ctx.approvals, args=[str(a) for a in config.invocation_params.args], run_id=ctx.run_id,
        not_run=not_run,
    )


def _warn(config: pytest.Config, text: str) -> None:
    line = "goldgate: " + redact.redact(text)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, yellow=True)
    else:
        print(line, file=sys.stderr)


def _append_audit(config: pytest.Config, ctx: RunContext, facts: audit.RunFacts) -> None:
    if ctx.audit_path is None:
        return
    try:
        stored = audit.append(ctx.audit_path, audit.build_record(facts))
    except OSError as exc:
        _warn(config, f"audit record not written to {ctx.audit_path}: {exc.strerror}")
        return
    ctx.audit_seq = stored["seq"]
    if not ctx.postgres_ref:
        return
    from goldgate.config import SecretResolutionError, resolve_secret

    try:
        url = resolve_secret(ctx.postgres_ref)
        redact.register_secret(url)
        audit.PostgresAuditSink(url).write(stored)
    except SecretResolutionError as exc:
        _warn(config, f"audit record not copied to PostgreSQL: {exc}")
    except Exception as exc:  # the file record stands; the copy failing must be visible, not fatal
        _warn(config, f"audit record not copied to PostgreSQL: {type(exc).__name__}: {exc}")


def refuse(config: pytest.Config, ctx: RunContext, reason: str, env: Any = None) -> None:
    """Record a run stopped before any test: NO-GO on file and in the audit trail."""
    meta = {
        "run_id": ctx.run_id,
        "environment": getattr(env, "name", None) or config.getoption("goldgate_env") or "local",
        "production": bool(getattr(env, "production", False)),
        "version": getattr(getattr(env, "release", None), "version", None),
        "change": config.getoption("goldgate_change"),
        "actions": [],
        "pytest_exit_status": int(pytest.ExitCode.USAGE_ERROR),
    }
    if ctx.verdict_path is not None:
        try:
            write_refusal(ctx.verdict_path, reason, meta)
        except OSError as exc:
            _warn(config, f"verdict not written to {ctx.verdict_path}: {exc.strerror}")
    _append_audit(config, ctx, _facts(
        config, ctx, env, decision="NO-GO", reasons=[f"refused: {reason}"],
        exit_status=int(pytest.ExitCode.USAGE_ERROR), counts={}, change=meta["change"], actions=[],
    ))
    close(ctx)


def finish(config: pytest.Config, ctx: RunContext, env: Any, collector: VerdictCollector,
           safety: Any, exitstatus: int, meta: dict[str, Any]) -> None:
    alluredir = config.getoption("allure_report_dir", None)
    if alluredir:
        redact.redact_tree(Path(alluredir), since=ctx.started_epoch - 1)
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath:
        junit.finalize(Path(xmlpath))
    decision, reasons = collector.decision()
    if decision == "GO" and exitstatus != 0:
        decision, reasons = "NO-GO", [f"pytest exited with status {int(exitstatus)}: the run did not complete"]
    if ctx.verdict_path is not None:
        doc = write_verdict_file(ctx.verdict_path, collector, {"run_id": ctx.run_id, **meta})
        decision, reasons = doc["decision"], doc["reasons"]
        ctx.guide_lines = doc.get("guide_lines") or {}
    elif ctx.audit_path is not None:  # the summary is printed: it rolls the guide lines up too
        ctx.guide_lines = guide_lines_block({"tests": test_entries(collector)})
    ctx.decision, ctx.reasons = decision, reasons
    ctx.waivers = [t.not_run_entry() for t in collector.waived()]
    ctx.not_applicable = [t.not_run_entry() for t in collector.inapplicable()]
    ctx.provenance = collector.provenance_counts()
    _append_audit(config, ctx, _facts(
        config, ctx, env, decision=decision, reasons=reasons, exit_status=int(exitstatus),
        counts=count_outcomes(collector), change=safety.change, actions=safety.actions,
        not_run=[t.not_run_entry() for t in collector.not_run()],
    ))


def summary_lines(ctx: RunContext, max_reasons: int = 5) -> list[str]:
    """The decision at the foot of pytest's output: what a person reads first."""
    if ctx.decision is None or (ctx.verdict_path is None and ctx.audit_path is None):
        return []  # a run that records nothing (goldgate's own tests) decides nothing
    where = f" — {ctx.verdict_path}" if ctx.verdict_path else ""
    waived = decision_suffix(len(ctx.waivers), len(ctx.not_applicable))
    lines = [f"decision: {ctx.decision}{waived}{where}"]
    lines += [f"  {redact.redact(r)}" for r in ctx.reasons[:max_reasons]]
    if len(ctx.reasons) > max_reasons:
        lines.append(f"  … and {len(ctx.reasons) - max_reasons} more")
    if ctx.provenance:
        lines.append(f"  evidence: {provenance_text(ctx.provenance)}")
    if ctx.guide_lines:
        lines.append(f"  {summary_text(ctx.guide_lines)}")
    for w in ctx.waivers:
        waiver = w["waiver"]
        lines.append(f"  waived (did not run): {w['test']} — {waiver['reason']} "
                     f"(approved by {waiver['approver']}, expires {waiver['expiry']})")
    lines += [not_applicable_line(entry) for entry in ctx.not_applicable]
    if ctx.audit_seq is not None:
        lines.append(f"audit record #{ctx.audit_seq} in {ctx.audit_path}")
    return lines


def decision_text(ctx: RunContext) -> str:
    """"GO with 1 waiver": the decision with its waivers in sight."""
    waived = f" with {len(ctx.waivers)} waiver{'s' if len(ctx.waivers) != 1 else ''}" if ctx.waivers else ""
    return f"{ctx.decision}{waived}"


def close(ctx: RunContext) -> None:
    while ctx.cleanups:
        ctx.cleanups.pop()()
