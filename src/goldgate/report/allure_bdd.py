"""Gherkin steps as Allure steps, with allure-pytest as the only Allure plugin.

allure-pytest and allure-pytest-bdd cannot both be active (each registers --alluredir),
and neither alone gives QA everything: allure-pytest reports every test but knows nothing
of Given/When/Then. So goldgate keeps allure-pytest and opens one Allure step per Gherkin
step from pytest-bdd's own hooks; feature and scenario become Allure feature and story,
and the feature's folder (the guide section) becomes the parent suite.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import allure
import pytest

_STEP_KEY = pytest.StashKey[list[Any]]()

#: features/<folder>/ → the guide section it encodes; keeps the report in the guide's order.
GUIDE_SECTIONS = {
    "checklist": "§1 Pre-deployment checklist",
    "strategies": "§2 Deployment strategy",
    "migrations": "§3 Database migrations",
    "configuration": "§4 Configuration management",
    "deployment": "§5 Deployment process",
    "rollback": "§6 Rollback procedures",
    "infrastructure": "§7 Infrastructure",
    "monitoring": "§8 Monitoring & observability",
    "recovery": "§9 Disaster recovery",
    "documentation": "§10 Documentation",
    "audit": "§11 Compliance & audit",
    "load": "§8 Monitoring & observability: under load",
}


def guide_section(feature_path: str) -> str | None:
    parts = Path(feature_path).parts
    for folder, title in GUIDE_SECTIONS.items():
        if folder in parts:
            return title
    return None


def _open_steps(request: pytest.FixtureRequest) -> list[Any]:
    return request.node.stash.setdefault(_STEP_KEY, [])


def before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    # Behaviors tab: guide section → feature → scenario, so QA reads the report in the
    # guide's order; the Suites tab shows the same section as parent suite.
    section = guide_section(getattr(feature, "filename", "") or getattr(feature, "rel_filename", ""))
    allure.dynamic.epic(section or "Production deployment guide")
    if section:
        allure.dynamic.parent_suite(section)
    allure.dynamic.feature(feature.name)
    allure.dynamic.story(scenario.name)
    allure.dynamic.suite(feature.name)
    allure.dynamic.title(scenario.name)
    description = (getattr(feature, "description", "") or "").strip()
    if description:
        allure.dynamic.description(description)
    for tag in sorted(getattr(scenario, "tags", ()) or ()):
        allure.dynamic.tag(tag)


def before_step(request: pytest.FixtureRequest, step: Any) -> None:
    ctx = allure.step(f"{step.keyword} {step.name}")
    ctx.__enter__()
    _open_steps(request).append(ctx)


def after_step(request: pytest.FixtureRequest) -> None:
    stack = _open_steps(request)
    if stack:
        stack.pop().__exit__(None, None, None)


def step_error(request: pytest.FixtureRequest, exception: BaseException) -> None:
    stack = _open_steps(request)
    if stack:
        stack.pop().__exit__(type(exception), exception, exception.__traceback__)


def close_dangling(request: pytest.FixtureRequest) -> None:
    """A step whose hook never ran to the end must still be closed, as broken."""
    stack = _open_steps(request)
    while stack:
        stack.pop().__exit__(*sys.exc_info())
