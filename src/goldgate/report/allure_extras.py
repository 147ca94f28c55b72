"""executor.json for Allure: which CI run produced the results.

Allure labels its trend charts with the executor's ``buildOrder`` and links each point
to ``buildUrl``; without them the history carried between runs shows as anonymous bars.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
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
