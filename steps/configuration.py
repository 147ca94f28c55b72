"""Configuration vocabulary (guide §4): environment files, the service's configuration and
its feature flags, read where the team's ``release.layout`` says and judged by the rules
its ``policy.configuration`` declares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import then

from goldgate.config import Environment
from goldgate.criteria import configuration as crit
from goldgate.probes.artifacts import botconfig, changelog
from goldgate.probes.artifacts.environments import validate_environment_files
from goldgate.probes.artifacts.locations import ReleaseInputs, environment_folder
from steps.checklist import gate


def _configs(release: ReleaseInputs) -> dict[str, tuple[str, Any]]:
    layout = release.layout
    project = release.need("project")
    return botconfig.read_configs(project, layout.config,
                                  exclude=(project / layout.config_schema, project / layout.flags))


def _flags(release: ReleaseInputs) -> list[botconfig.Flag]:
    conf = release.policy.configuration
    return botconfig.read_flags(release.in_project(release.layout.flags), conf.killswitch_key, conf.cleanup_key)


@then("every environment file beside this one validates")
def environment_files(pytestconfig: pytest.Config, environment: Environment) -> None:
    folder = environment_folder(environment, Path(pytestconfig.rootpath))
    gate("every environment file validates", lambda: validate_environment_files(folder),
         lambda r: crit.environment_files_valid(r, str(folder)))


@then("every service configuration validates against the release's schema")
def configs_schema(release: ReleaseInputs) -> None:
    schema = release.in_project(release.layout.config_schema) if release.project else None
    gate("service configuration: required values, types and ranges",
         lambda: (_configs(release), botconfig.read_schema(release.in_project(release.layout.config_schema))),
         lambda r: crit.configs_match_schema(r[0], r[1], str(schema)))


@then("every configuration rule the environment declares holds")
def config_dependencies(release: ReleaseInputs) -> None:
    rules = release.policy.configuration.parsed_rules()
    if not rules:
        pytest.skip(f"{release.source}: policy.configuration.rules is not set — no dependency between the "
                    "service's configuration values is declared")
    for left, relation, right in rules:
        gate(f"in every configuration {left} is {relation} {right}", lambda: _configs(release),
             lambda c, a=left, r=relation, b=right: crit.dependency_holds(c, a, r, b))


@then("no service configuration holds a literal secret")
def config_secrets(release: ReleaseInputs) -> None:
    gate("secrets only by reference (env:, file:, vault:)", lambda: _configs(release), crit.secrets_by_reference)


@then("every new feature in the release's changelog entry has a killswitch flag")
def killswitch(release: ReleaseInputs, environment: Environment) -> None:
    version = environment.release.version
    policy = release.policy.changelog

    def measure() -> tuple[changelog.ChangelogEntry | None, list[botconfig.Flag] | None]:
        log = changelog.read_changelog(release.in_project(release.layout.changelog))
        conf = release.policy.configuration
        flags = botconfig.read_flags_if_present(release.in_project(release.layout.flags), conf.killswitch_key,
                                                conf.cleanup_key)
        return changelog.categorised(log, policy.sections, policy.breaking_marker).entry(version), flags

    gate("every new feature has a killswitch flag", measure,
         lambda r: crit.features_have_killswitch(r[0], r[1], str(release.in_project(release.layout.changelog)),
                                                 str(release.in_project(release.layout.flags))))


@then("no feature flag is past its cleanup date")
def stale_flags(release: ReleaseInputs, gate_clock: Callable[[], dt.datetime]) -> None:
    gate("no feature flag past its cleanup date", lambda: _flags(release),
         lambda fl: crit.flags_not_stale(fl, gate_clock().date(), str(release.in_project(release.layout.flags))))
