"""A team's own release layout and vocabulary, declared in its environment file.

Every file name, folder, heading, pattern and word a release check relies on comes from
here, so goldgate reads what a team already has instead of the reference bot's layout.
Two sections:

* ``release.layout`` (:class:`ReleaseLayout`): where the project keeps its runbooks,
  changelog, release notes, service configuration, schema, feature flags and the previous
  release's queries (lock files are ``release.lock_files``). Paths are relative to ``release.project``.
* ``policy`` (:class:`ReleasePolicy`): the vocabulary: runbook subjects and the headings
  the team requires, the change-ticket pattern, how the changelog's sections map to the
  guide's §10.2 categories, the configuration rules of the team's own service and what a
  backup verification may rely on.

Defaults accept the common real-world forms (Keep a Changelog, ServiceNow / Jira / GitHub
change numbers) and never name the reference bot's keys: runbook headings are checked
only where the team declares them, and a check that needs something only the team can
say (configuration rules) is NOT RUN with the field's name until the team says it.

Until :class:`goldgate.config.Environment` carries these sections, :func:`layout_of` and
:func:`policy_of` fall back to the defaults.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from goldgate.workload_policy import Policy as WorkloadPolicy

# The guide's §10.1 runbook subjects, with the file stems a team commonly uses for each.
RUNBOOK_SUBJECTS: dict[str, tuple[str, ...]] = {
    "deployment": ("deployment", "deploy", "release", "releasing"),
    "rollback": ("rollback", "roll-back", "rolling-back", "revert"),
    "troubleshooting": ("troubleshooting", "troubleshoot", "faq", "common-issues"),
    "incident-response": ("incident-response", "incident", "incidents", "incident-handling"),
    "on-call": ("on-call", "oncall", "on_call", "pager", "on-call-guide"),
}

# Common change-number forms: ServiceNow (CHG0012345), Jira / YouTrack keys (OPS-123),
# dated tickets (CHG-2026-1142) and GitHub issues or pull requests (#123, org/repo#123).
DEFAULT_CHANGE_TICKET = r"CHG\d{7}|[A-Z][A-Z0-9]+-\d+|CHG-\d{4}-\d+|(?:[\w.-]+/[\w.-]+)?#\d+"

# Keep a Changelog's sections and the common alternatives, by the guide's §10.2 category.
DEFAULT_CHANGELOG_SECTIONS: dict[str, list[str]] = {
    "Features": ["Features", "Added", "New", "New features"],
    "Fixes": ["Fixes", "Fixed", "Bug fixes", "Bugfixes", "Security"],
    "Breaking Changes": ["Breaking Changes", "Breaking", "Removed", "Deprecated"],
    "Migration Guide": ["Migration Guide", "Migration", "Migrations", "Upgrading", "Upgrade notes"],
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReleaseLayout(_Section):
    """Where the team's release keeps its files, relative to ``release.project``."""

    runbooks: str = Field("runbooks", description="folder of Markdown runbooks (one file per procedure)")
    changelog: str = Field("CHANGELOG.md", description="Keep-a-Changelog style change log")
    release_notes: str = Field("RELEASE_NOTES.md", description="release notes of the version under test")
    config: list[str] = Field(default_factory=lambda: ["config/*.yaml", "config/*.yml", "config/*.toml", "config/*.json"],
                              description="globs of the service's configuration files, one file per environment")
    config_schema: str = Field("config/schema.json", description="JSON Schema the configuration files must satisfy")
    flags: str = Field("config/flags.yaml", description="feature flags file (YAML, TOML or JSON)")
    junit: str = Field("junit.xml", description="JUnit XML report of the release's tests, relative to "
                       "release.artifacts")
    coverage: str = Field("coverage.xml", description="coverage report relative to release.artifacts: "
                          "Cobertura XML or coverage.py JSON")
    sarif: str = Field("*.sarif", description="glob of the security scanners' SARIF reports in release.artifacts")
    manifests: str = Field("deploy/k8s", description="the release's Kubernetes manifests (file or folder)")
    secrets_baseline: str | None = Field(
        None, description="detect-secrets baseline of audited findings (default: .secrets.baseline when the "
        "project has one; without a baseline every finding counts)")
    previous_queries: str | None = Field(
        None, description="SQL the previous release runs, to replay against the migrated schema")


class RunbookPolicy(_Section):
    """The guide's five runbook subjects; headings are the team's own."""

    subjects: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in RUNBOOK_SUBJECTS.items()},
        description="subject -> accepted file stems (deployment, rollback, troubleshooting, incident-response, on-call)")
    headings: dict[str, list[str]] = Field(
        default_factory=dict, description="subject -> headings its runbook must have (none required when unset)")
    min_words: int = Field(30, ge=1, description="a runbook shorter than this is a stub")


class ChangeTicketPolicy(_Section):
    """The change-management system's ticket number (guide §11.2)."""

    pattern: str = Field(DEFAULT_CHANGE_TICKET, description="regular expression the whole ticket number must match")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


class ChangelogPolicy(_Section):
    """How the changelog's own section names map to the guide's §10.2 categories."""

    sections: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_CHANGELOG_SECTIONS.items()},
        description="guide category -> section names that count as it")
    required: list[str] = Field(
        default_factory=lambda: ["Features", "Fixes"],
        description="guide categories the release's entry must have, non-empty")
    breaking_marker: str = Field("BREAKING", description="an entry under any section starting with this is a breaking change")


ConfigRelation = Literal["below", "at most", "above", "at least"]
_RULE = re.compile(r"^\s*(?P<left>[\w.-]+)\s+(?P<relation>below|at most|above|at least)\s+(?P<right>[\w.-]+)\s*$")


class ConfigurationPolicy(_Section):
    """The team's service configuration: its dependency rules and flag vocabulary."""

    rules: list[str] = Field(default_factory=list,
                             description="dependency rules, e.g. 'limits.soft below limits.hard'")
    killswitch_key: str = Field("killswitch", description="the flag field that says it switches the feature off")
    cleanup_key: str = Field("cleanup_by", description="the flag field with its removal date")

    @field_validator("rules")
    @classmethod
    def _rules_parse(cls, v: list[str]) -> list[str]:
        for rule in v:
            if not _RULE.match(rule):
                raise ValueError(f"rule {rule!r}: expected 'KEY below|at most|above|at least KEY'")
        return v

    def parsed_rules(self) -> list[tuple[str, str, str]]:
        """``(left, relation, right)`` for every rule."""
        out = []
        for rule in self.rules:
            m = _RULE.match(rule)
            if m:
                out.append((m["left"], m["relation"], m["right"]))
        return out


class BackupPolicy(_Section):
    """What a backup verification may rely on."""

    row_counts: str | None = Field(
        None, description="JSON file (relative to the backups folder) of row counts per table at backup time")
    min_tables: int = Field(1, ge=0, description="a restored database with fewer tables than this is empty")


class ReleasePolicy(_Section):
    """The ``policy:`` section of an environment file."""

    runbooks: RunbookPolicy = Field(default_factory=RunbookPolicy, description="what the runbooks must contain (§10)")
    change_ticket: ChangeTicketPolicy = Field(default_factory=ChangeTicketPolicy, description="what a change ticket looks like (§11.2)")
    changelog: ChangelogPolicy = Field(default_factory=ChangelogPolicy, description="how the changelog names features, breaking changes and flags (§1.3, §4.2)")
    configuration: ConfigurationPolicy = Field(default_factory=ConfigurationPolicy, description="the service configuration's dependency rules and flag vocabulary (§4)")
    backups: BackupPolicy = Field(default_factory=BackupPolicy, description="how backups are recognised and counted (§3.3, §9)")
    workloads: WorkloadPolicy = Field(default_factory=WorkloadPolicy, description="rules the Deployment's pod spec is held to (§1.2)")
    require_measured: list[str] = Field(
        default_factory=list,
        description="checks (scenario names, test names or node ids, or criterion names) that must not pass on "
        "a declaration: a declared PASS of one of them is INCONCLUSIVE (goldgate.criteria.provenance)")


def layout_of(env: Any) -> ReleaseLayout:
    """The environment's ``release.layout``, or the defaults."""
    value = getattr(getattr(env, "release", None), "layout", None)
    return value if isinstance(value, ReleaseLayout) else ReleaseLayout()


def policy_of(env: Any) -> ReleasePolicy:
    """The environment's ``policy:`` section, or the defaults."""
    value = getattr(env, "policy", None)
    return value if isinstance(value, ReleasePolicy) else ReleasePolicy()


def declared(env: Any, dotted: str) -> bool:
    """Whether the environment file itself sets ``dotted`` (``policy.runbooks.headings``)."""
    node: Any = env
    for part in dotted.split("."):
        fields_set = getattr(node, "model_fields_set", None)
        if fields_set is None or part not in fields_set:
            return False
        node = getattr(node, part)
    return True
