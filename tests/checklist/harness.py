"""Every release check the gate stage runs, composed probe → criterion without pytest-bdd,
so the fault matrix can run all of them against one materialised release at once.

Thresholds are the ones the feature files state (coverage above 85 %, two approvals...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.config import Recovery, Thresholds
from goldgate.criteria import checklist as code
from goldgate.criteria import configuration as conf
from goldgate.criteria import drift, infrastructure, operational, recovery
from goldgate.criteria import migrations as mig
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes import cluster_specs, database, promtool, tls
from goldgate.probes import migrations as mprobe
from goldgate.probes.artifacts import (
    ArtifactUnavailable,
    botconfig,
    changelog,
    coverage,
    junit,
    lockfile,
    manifest,
    runbooks,
    sarif,
)
from goldgate.probes.artifacts import secrets as secret_scan
from goldgate.sandbox.release import K8S_SOURCE, Workspace
from goldgate.sandbox.tls_endpoint import TlsEndpoint
from goldgate.verdict import Verdict

RUNBOOKS = {
    "deployment": ["Prerequisites", "Steps", "Verification"],
    "rollback": ["Triggers", "Steps", "Verification"],
    "troubleshooting": ["Common issues", "Diagnostics", "Escalation"],
    "incident-response": ["Severity levels", "Response steps", "Communication", "Post-mortem"],
    "on-call": ["Responsibilities", "Escalation", "Contacts"],
}
SECTIONS = ["Features", "Fixes", "Breaking Changes", "Migration Guide"]
VERSION, PREVIOUS = "v1.2.0", "v1.1.0"
MODELS = "goldgate.sandbox.bot.db:metadata"  # the reference bot's own table definitions


UNAVAILABLE = (ArtifactUnavailable, tls.TlsUnavailable)


def run_checks(ws: Workspace, now: dt.datetime, scratch_url: str | None = None,
               staging_spec: Path = K8S_SOURCE) -> dict[str, Verdict]:
    """Check id → verdict for every release-based check of the gate stage."""
    p, a = ws.project, ws.artifacts
    rec, thr = Recovery(), Thresholds()
    out: dict[str, Verdict] = {}

    def latest() -> database.Backup:
        return database.list_backups(ws.backups)[-1]

    checks: dict[str, tuple[Callable[[], Any], Callable[[Any], Verdict]]] = {
        "tests-passed": (lambda: junit.read_junit(a / "junit.xml"), code.all_tests_passed),
        "coverage": (lambda: coverage.read_cobertura(a / "coverage.xml"), lambda s: code.coverage_above(s, 85)),
        "security-scan": (lambda: sarif.read_sarif(a / "bandit.sarif"),
                          lambda r: code.no_findings_at_or_above(r, "high")),
        "no-secrets": (lambda: secret_scan.scan_tree(p, p / ".secrets.baseline"),
                       lambda r: code.no_hardcoded_secrets(r[0], str(p), r[1], ".secrets.baseline")),
        "dependencies-pinned": (lambda: lockfile.read_requirements(p / "requirements.lock"), code.dependencies_pinned),
        "changelog": (lambda: changelog.read_changelog(p / "CHANGELOG.md"), lambda log: code.changelog_entry(log, VERSION, SECTIONS)),
        "release-notes": (lambda: changelog.read_release_notes(p / "RELEASE_NOTES.md"),
                          lambda t: code.release_notes(str(p / "RELEASE_NOTES.md"), t, VERSION)),
        "single-head": (lambda: mprobe.read_scripts(p), mig.single_head),
        "upgrade": (lambda: mprobe.walk(p, scratch_url), mig.upgrade_clean),
        "reversible": (lambda: mprobe.walk(p, scratch_url), mig.reversible),
        "backward-compatible": (lambda: mprobe.walk(p, scratch_url, round_trip=False,
                                                    previous_sql=p / "migrations/smoke" / f"{PREVIOUS}.sql"),
                                lambda w: mig.backward_compatible(w, PREVIOUS)),
        "descriptive-names": (lambda: mprobe.read_scripts(p), lambda s: mig.descriptive_names(s, 3)),
        "models-match": (lambda: mprobe.walk(p, scratch_url, round_trip=False, models=MODELS), mig.models_match),
        "migrations-prepared": (lambda: (mprobe.read_scripts(p), manifest.read_manifest(ws.manifest)),
                                lambda r: mig.migrations_prepared(r[0], r[1].migration_head, r[1].path)),
        "backups-fresh": (lambda: database.list_backups(ws.backups),
                          lambda bs: recovery.latest_backup_fresh(bs, now, rec.rpo_s, str(ws.backups))),
        "backups-restorable": (lambda: (database.restore(Path(latest().path)), latest().tables),
                               lambda r: recovery.restore_matches(r[0], r[1])),
        "restore-within-rto": (lambda: database.restore(Path(latest().path)), lambda r: recovery.restore_within_rto(r, rec.rto_s)),
        "pitr": (lambda: (database.pitr_from_conf(ws.postgresql_conf), database.list_backups(ws.backups)),
                 lambda r: recovery.pitr_enabled(r[0], r[1], now, rec.pitr_days)),
        "staging-matches-production": (
            lambda: (cluster_specs.deployment_from_manifests(staging_spec, "trading-bot"),
                     cluster_specs.deployment_from_manifests(p / "deploy/k8s/production.yaml", "trading-bot")),
            lambda r: drift.specs_match(r[0], r[1], str(staging_spec), str(p / "deploy/k8s/production.yaml"))),
        "alert-rules-tested": (lambda: promtool.run_rule_tests(p / "deploy/prometheus"), infrastructure.alert_rules_tested),
        "runbooks": (lambda: runbooks.read_runbooks(p / "runbooks"), lambda b: operational.runbooks_complete(b, RUNBOOKS, str(p / "runbooks"))),
        "on-call": (lambda: manifest.read_manifest(ws.manifest), lambda m: operational.on_call(m, ["primary", "secondary"])),
        "approvals": (lambda: manifest.read_manifest(ws.manifest), lambda m: operational.approvals(m, 2)),
        "change-ticket": (lambda: manifest.read_manifest(ws.manifest), lambda m: operational.change_ticket(m, r"CHG-\d{4}-\d+")),
        "manifest-version": (lambda: manifest.read_manifest(ws.manifest), lambda m: operational.manifest_for_version(m, VERSION)),
        "deployment-window": (lambda: manifest.read_manifest(ws.manifest), lambda m: operational.inside_window(m, now)),
        "config-schema": (lambda: (botconfig.read_configs(p / "config"), botconfig.read_schema(p / "config/schema.json")),
                          lambda r: conf.configs_match_schema(r[0], r[1], "config/schema.json")),
        "config-dependencies": (lambda: botconfig.read_configs(p / "config"),
                                lambda c: conf.dependency_holds(c, "risk.max_daily_loss", "below", "risk.max_drawdown")),
        "config-secrets": (lambda: botconfig.read_configs(p / "config"), conf.secrets_by_reference),
        "feature-flags-killswitch": (
            lambda: (changelog.read_changelog(p / "CHANGELOG.md").entry(VERSION), botconfig.read_flags(p / "config/flags.yaml")),
            lambda r: conf.features_have_killswitch(r[0], r[1], "CHANGELOG.md", "config/flags.yaml")),
        "feature-flags-cleanup": (lambda: botconfig.read_flags(p / "config/flags.yaml"),
                                  lambda f: conf.flags_not_stale(f, now.date(), "config/flags.yaml")),
    }
    for name, (probe, judge) in checks.items():
        out[name] = measure_and_judge(name, probe, judge, UNAVAILABLE)
    if not (ws.tls / "server.pem").is_file():
        out["tls"] = Verdict.error("tls", f"{ws.tls / 'server.pem'}: certificate not found")
        return out
    with TlsEndpoint(ws.tls) as url:
        out["tls"] = measure_and_judge("tls", lambda: tls.inspect(url, ca_bundle=str(ws.tls / "ca.pem")),
                                       lambda obs: infrastructure.tls_valid(obs, now, thr.certificate_days_left),
                                       UNAVAILABLE)
    return out
