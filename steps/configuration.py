"""Configuration vocabulary (guide §4): environment files, the bot's configuration and its
feature flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_bdd import parsers, then

from goldgate.config import Environment
from goldgate.criteria import configuration as crit
from goldgate.probes.artifacts import botconfig, changelog
from goldgate.probes.artifacts.environments import validate_environment_files
from goldgate.probes.artifacts.locations import ReleaseInputs
from steps.checklist import gate


@then(parsers.parse('every environment file in "{folder}" validates'))
def environment_files(pytestconfig: pytest.Config, folder: str) -> None:
    path = Path(pytestconfig.rootpath) / folder
    gate("every environment file validates", lambda: validate_environment_files(path),
         lambda r: crit.environment_files_valid(r, str(path)))


@then(parsers.parse('every bot configuration in "{folder}" validates against "{schema}"'))
def configs_schema(release: ReleaseInputs, folder: str, schema: str) -> None:
    gate("bot configuration: required values, types and ranges",
         lambda: (botconfig.read_configs(release.in_project(folder)), botconfig.read_schema(release.in_project(schema))),
         lambda r: crit.configs_match_schema(r[0], r[1], str(release.in_project(schema))))


@then(parsers.re(r'in every bot configuration in "(?P<folder>[^"]+)" "(?P<left>[\w.]+)" is '
                 r'(?P<relation>below|at most|above|at least) "(?P<right>[\w.]+)"'))
def config_dependency(release: ReleaseInputs, folder: str, left: str, relation: str, right: str) -> None:
    gate(f"in every configuration {left} is {relation} {right}", lambda: botconfig.read_configs(release.in_project(folder)),
         lambda c: crit.dependency_holds(c, left, relation, right))


@then(parsers.parse('no bot configuration in "{folder}" holds a literal secret'))
def config_secrets(release: ReleaseInputs, folder: str) -> None:
    gate("secrets only by reference (env:, file:, vault:)", lambda: botconfig.read_configs(release.in_project(folder)),
         crit.secrets_by_reference)


@then(parsers.parse('every feature in the release\'s "{log}" entry has a killswitch flag in "{flags}"'))
def killswitch(release: ReleaseInputs, environment: Environment, log: str, flags: str) -> None:
    version = environment.release.version
    gate("every new feature has a killswitch flag",
         lambda: (changelog.read_changelog(release.in_project(log)).entry(version), botconfig.read_flags(release.in_project(flags))),
         lambda r: crit.features_have_killswitch(r[0], r[1], str(release.in_project(log)), str(release.in_project(flags))))


@then(parsers.parse('no flag in "{flags}" is past its cleanup date'))
def stale_flags(release: ReleaseInputs, flags: str, gate_clock: Callable[[], dt.datetime]) -> None:
    gate("no feature flag past its cleanup date", lambda: botconfig.read_flags(release.in_project(flags)),
         lambda fl: crit.flags_not_stale(fl, gate_clock().date(), str(release.in_project(flags))))
