"""Configuration management (guide §4): environment files, the bot's config schema and
its dependencies, secrets by reference only, and feature flags. Pure."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from goldgate.config import find_literal_secrets
from goldgate.criteria.changelog_flags import named_flag, new_features
from goldgate.criteria.registry import criterion
from goldgate.probes.artifacts.botconfig import Flag
from goldgate.probes.artifacts.changelog import ChangelogEntry
from goldgate.verdict import DECLARED, Evidence, Verdict

Configs = Mapping[str, tuple[str, Any]]


@criterion(needs="at least one environment file, every one loading and validating")
def environment_files_valid(results: Mapping[str, str | None], folder: str) -> Verdict:
    crit = "every environment file validates"
    ev = Evidence("environment files", folder, samples=len(results))
    if not results:
        return Verdict.failed(crit, 0, ">= 1 valid file", f"{folder}: no environment files", evidence=ev)
    bad = [err for err in results.values() if err]
    if bad:
        return Verdict.failed(crit, f"{len(bad)} invalid", "0 invalid", "; ".join(bad), evidence=ev)
    return Verdict.passed(crit, sorted(results), "0 invalid", f"{len(results)} files valid", evidence=ev)


@criterion(needs="at least one configuration file and a schema with at least one constraint")
def configs_match_schema(configs: Configs, schema: Mapping[str, Any], schema_path: str) -> Verdict:
    """Required values, types and ranges, by the project's JSON Schema."""
    from jsonschema import Draft202012Validator

    crit = "bot configuration: required values, types and ranges"
    ev = Evidence("json schema", schema_path, samples=len(configs))
    if not configs:
        return Verdict.error(crit, f"{schema_path}: no configuration files to validate")
    if not isinstance(schema, Mapping) or not schema:
        return Verdict.error(crit, f"{schema_path}: an empty schema accepts anything")
    validator = Draft202012Validator(schema)
    problems = []
    for _env, (path, data) in sorted(configs.items()):
        for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
            problems.append(f"{path}: {where}: {err.message}")
    if problems:
        return Verdict.failed(crit, f"{len(problems)} violations", "0 violations", "; ".join(problems[:6]), evidence=ev)
    return Verdict.passed(crit, sorted(configs), "0 violations", f"{len(configs)} files valid", evidence=ev)


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


_RELATIONS = {"below": operator.lt, "at most": operator.le, "above": operator.gt, "at least": operator.ge}


@criterion(needs="at least one configuration file holding both numeric keys of the rule")
def dependency_holds(configs: Configs, left: str, relation: str, right: str) -> Verdict:
    """A rule between two values the team declares, e.g. ``limits.soft`` below ``limits.hard``."""
    crit = f"in every configuration {left} is {relation} {right}"
    ev = Evidence("service configuration", ", ".join(p for p, _ in configs.values()), samples=len(configs))
    compare = _RELATIONS.get(relation)
    if compare is None:
        return Verdict.error(crit, f"unknown relation {relation!r} (below, at most, above, at least)")
    if not configs:
        return Verdict.error(crit, "no configuration files to judge")
    problems, seen = [], {}
    for _env, (path, data) in sorted(configs.items()):
        a, b = _get(data, left), _get(data, right)
        seen[path] = (a, b)
        if a is None or b is None:
            problems.append(f"{path}: {left if a is None else right} missing")
        elif not all(isinstance(x, int | float) and not isinstance(x, bool) and x == x for x in (a, b)):
            problems.append(f"{path}: {left} = {a!r} and {right} = {b!r} are not both numbers")
        elif not compare(a, b):
            problems.append(f"{path}: {left} = {a} is not {relation} {right} = {b}")
    if problems:
        return Verdict.failed(crit, seen, f"{left} {relation} {right}", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, seen, f"{left} {relation} {right}", "holds everywhere", evidence=ev)


@criterion(needs="at least one configuration file, none holding a literal secret")
def secrets_by_reference(configs: Configs) -> Verdict:
    crit = "secrets only by reference (env:, file:, vault:)"
    ev = Evidence("service configuration", ", ".join(p for p, _ in configs.values()), samples=len(configs))
    if not configs:
        return Verdict.error(crit, "no configuration files to judge")
    hits = [f"{path}: {field} holds a literal secret" for _env, (path, data) in sorted(configs.items())
            for field in find_literal_secrets(data)]
    if hits:
        return Verdict.failed(crit, len(hits), 0, "; ".join(hits), evidence=ev)
    return Verdict.passed(crit, 0, 0, "every secret is a reference", evidence=ev)


@criterion(needs="the release's changelog entry, and for each of its new features a flag that is a killswitch",
           provenance=DECLARED)
def features_have_killswitch(entry: ChangelogEntry | None, flags: Sequence[Flag] | None, changelog: str,
                             flags_path: str, section: str = "Features") -> Verdict:
    """Every item of the entry's ``section`` (the guide's Features, whatever the changelog
    calls it) names a flag, and that flag is a killswitch.

    ``flags`` is None when the release has no flags file at all: a feature it adds then has
    no flag anywhere, which is the defect this check names (FAIL), not a missing input.
    """
    crit = "every new feature has a killswitch flag"
    no_file = flags is None
    flags = list(flags or [])
    ev = Evidence("feature flags", flags_path if not no_file else f"{flags_path} (absent)", samples=len(flags))
    if entry is None:
        return Verdict.failed(crit, "no changelog entry", "a flag per feature", f"{changelog}: no entry for the release, its features are unknown", evidence=ev)
    features = new_features(entry, section)
    if not features:
        return Verdict.passed(crit, "0 features", "0 without", f"{changelog}:{entry.line}: the release adds no feature",
                              evidence=ev)
    by_name = {f.name: f for f in flags}
    problems = []
    for feature in features:
        flag = named_flag(feature)
        if flag is None:
            problems.append(f"{changelog}: feature '{feature[:60]}' names no flag")
        elif flag not in by_name:
            where = f"no flags file {flags_path}" if no_file else flags_path
            problems.append(f"{where}: no flag {flag} for feature '{feature[:60]}'")
        elif not by_name[flag].killswitch:
            problems.append(f"{flags_path}:{by_name[flag].line}: flag {flag}: killswitch is not true")
    if problems:
        return Verdict.failed(crit, f"{len(problems)} without", "0 without", "; ".join(problems), evidence=ev)
    return Verdict.passed(crit, f"{len(features)} features flagged", "0 without", "every feature can be switched off", evidence=ev)


@criterion(needs="a flags file with at least one flag, each with a cleanup date not before today", provenance=DECLARED)
def flags_not_stale(flags: Sequence[Flag], today: dt.date, flags_path: str) -> Verdict:
    crit = "no feature flag past its cleanup date"
    ev = Evidence("feature flags", flags_path, samples=len(flags), details={"today": today.isoformat()})
    if not flags:
        return Verdict.inconclusive(crit, f"{flags_path}: no flags to judge", evidence=ev)
    stale = [f"{flags_path}:{f.line} {f.name} cleanup_by {f.cleanup_by}" for f in flags if f.cleanup_by is None or f.cleanup_by < today]
    if stale:
        return Verdict.failed(crit, len(stale), 0, f"stale (today {today}): {'; '.join(stale)}", evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(flags)} flags within their cleanup date", evidence=ev)
