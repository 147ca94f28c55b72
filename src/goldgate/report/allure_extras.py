"""executor.json and the overview for Allure: which CI run produced the results, and what it decided.

Allure labels its trend charts with the executor's ``buildOrder`` and links each point
to ``buildUrl``; without them the history carried between runs shows as anonymous bars.

The overview page is where QA looks first, and by itself it shows a pass percentage: a
NO-GO run whose failures are probe errors can read "100 %". :func:`decision_overview`
puts the run's decision there instead: as the report's name (executor.json
``reportName``, the title of the summary widget) and, in the Environment widget
(environment.properties), the decision, its reasons, the waivers and how many verdicts
were measured and how many only declared.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from allure_commons import hookimpl as allure_hookimpl
from allure_commons import plugin_manager


def executor_info(environ: Mapping[str, str]) -> dict[str, Any]:
    if environ.get("GITHUB_ACTIONS"):
        server = environ.get("GITHUB_SERVER_URL", "")
        repo = environ.get("GITHUB_REPOSITORY", "")
        run_id = environ.get("GITHUB_RUN_ID", "")
        return {
            "name": "GitHub Actions",
            "type": "github",
            "buildOrder": _int(environ.get("GITHUB_RUN_NUMBER")),
            "buildName": f"{environ.get('GITHUB_WORKFLOW', '')} #{environ.get('GITHUB_RUN_NUMBER', '')}".strip(),
            "buildUrl": f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else "",
            "reportName": "goldgate release gates",
        }
    if environ.get("GITLAB_CI"):
        return {
            "name": "GitLab CI",
            "type": "gitlab",
            "buildOrder": _int(environ.get("CI_PIPELINE_IID")),
            "buildName": f"{environ.get('CI_JOB_NAME', '')} #{environ.get('CI_PIPELINE_IID', '')}".strip(),
            "buildUrl": environ.get("CI_JOB_URL", ""),
            "reportName": "goldgate release gates",
        }
    return {
        "name": environ.get("CI_NAME", "local"),
        "type": "ci" if environ.get("CI") else "local",
        # Seconds since the epoch keep local runs in order on the trend chart.
        "buildOrder": _int(environ.get("GOLDGATE_BUILD_ORDER")) or int(time.time()),
        "buildName": environ.get("CI_BUILD_NAME", "local run"),
        "reportName": "goldgate release gates",
    }


def decision_overview(decision_text: str, reasons: Sequence[str], waivers: Sequence[Mapping[str, Any]],
                      provenance: Mapping[str, Any], max_reasons: int = 10) -> dict[str, str]:
    """environment.properties entries that put the decision on Allure's overview (redacted)."""
    from goldgate.report.redact import redact

    passed = provenance.get("passed") or {}
    props = {
        "decision": decision_text,
        "evidence.measured": str(provenance.get("measured", 0)),
        "evidence.declared": str(provenance.get("declared", 0)),
        "passes.measured": str(passed.get("measured", 0)),
        "passes.declared": str(passed.get("declared", 0)),
    }
    for i, reason in enumerate(reasons[:max_reasons], 1):
        props[f"reason.{i}"] = _one_line(redact(str(reason)))
    if len(reasons) > max_reasons:
        props[f"reason.{max_reasons + 1}"] = f"... and {len(reasons) - max_reasons} more (reports/verdict.json)"
    for i, entry in enumerate(waivers, 1):
        w = entry.get("waiver") or {}
        props[f"waiver.{i}"] = _one_line(redact(f"{entry.get('test')}: {w.get('reason')} (approved by "
                                                f"{w.get('approver')}, expires {w.get('expiry')})"))
    return props


def report_name(decision_text: str, provenance: Mapping[str, Any]) -> str:
    """The summary widget's title: the decision and the measured/declared split."""
    return (f"goldgate: {decision_text} ({provenance.get('measured', 0)} measured, "
            f"{provenance.get('declared', 0)} declared)")


def properties_text(props: Mapping[str, str]) -> str:
    """Java properties text (Allure reads environment.properties as ISO-8859-1): backslashes
    and line breaks escaped, anything outside ASCII as ``\\uXXXX``, so "—" survives; every
    value redacted, since the file is written after the session's pass over allure-results."""
    from goldgate.report.redact import redact

    lines = []
    for key, value in props.items():
        text = redact(str(value)).replace("\\", "\\\\").replace("\n", " ").replace("\r", " ")
        text = "".join(_escape(c) for c in text)
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def _escape(c: str) -> str:
    if 32 <= ord(c) < 127:
        return c
    units = c.encode("utf-16-be")  # a character beyond the BMP is two UTF-16 units
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- redaction
def _redact_in_place(obj: Any, depth: int = 0) -> None:
    """Mask secrets in every string field of an allure model object, recursively."""
    import attr

    from goldgate.report.redact import redact

    if depth > 50 or not attr.has(type(obj)):
        return
    for field in attr.fields(type(obj)):
        value = getattr(obj, field.name)
        if isinstance(value, str):
            cleaned = redact(value)
            if cleaned != value:
                setattr(obj, field.name, cleaned)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    value[i] = redact(item)
                else:
                    _redact_in_place(item, depth + 1)
        else:
            _redact_in_place(value, depth + 1)


class _ResultRedactor:
    """Runs before allure's file writer, so a result file never holds a secret on disk.

    The session-end pass over allure-results (``redact.redact_tree``) still runs: it
    catches attachments, whose bodies an allure hook cannot replace.
    """

    @allure_hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        _redact_in_place(result)

    @allure_hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        _redact_in_place(container)


def install_result_redaction() -> Any:
    """Register the redactor with allure's plugin manager; returns a function that removes it."""
    plugin = _ResultRedactor()
    plugin_manager.register(plugin)

    def _undo() -> None:
        if plugin_manager.is_registered(plugin):
            plugin_manager.unregister(plugin)

    return _undo
