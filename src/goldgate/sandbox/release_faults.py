"""Named defects a release can carry, each planted into a materialised release.

Every fault breaks exactly the checks it names in ``checks`` (the fault matrix in
tests/checklist proves it) and nothing else. ``goldgate sandbox faults`` lists them with
:func:`describe`; ``pytest --sandbox-fault=NAME`` plants them into the release the gate
stage reads.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from goldgate.sandbox.release import (
    Workspace,
    create_tls,
    iso,
    write_catalogue,
    write_yaml,
)

Apply = Callable[[Workspace, dt.datetime], None]


@dataclass(frozen=True)
class ReleaseFault:
    name: str
    description: str
    checks: tuple[str, ...]
    apply: Apply


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{path}: cannot plant fault, {old!r} not found")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _manifest(ws: Workspace, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(ws.manifest.read_text(encoding="utf-8"))
    change(data)
    write_yaml(ws.manifest, data)


_REV2 = "migrations/versions/20261110_b2d4f6a80002_add_client_order_id_for_idempotent_orders.py"


# ----------------------------------------------------------------------------- code readiness
def _failing_test(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.project / "tests/test_orders.py", "== 2350.2", "== 2350.4")


def _coverage_70(ws: Workspace, now: dt.datetime) -> None:
    # 36 statements no test reaches: 84 covered of 120 is 70 %.
    body = "\n".join(f"    level_{i} = pivot * {1 + i / 100:.2f}" for i in range(34))
    (ws.project / "trading_bot/levels.py").write_text(
        '"""Pivot levels for the dashboard."""\n\n\ndef pivot_levels(pivot):\n'
        f"{body}\n    return pivot\n", encoding="utf-8")


def _critical_sarif(ws: Workspace, now: dt.datetime) -> None:
    (ws.project / "trading_bot/fingerprint.py").write_text(
        '"""Order fingerprints."""\n\nimport hashlib\n\n\ndef fingerprint(text):\n'
        "    return hashlib.md5(text.encode()).hexdigest()\n", encoding="utf-8")
    with (ws.project / "tests/test_orders.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef test_fingerprint():\n    from trading_bot.fingerprint import fingerprint\n"
                 "    assert len(fingerprint('x')) == 32\n")


def _planted_secret(ws: Workspace, now: dt.datetime) -> None:
    (ws.project / "trading_bot/broker.py").write_text(
        '"""MetaTrader 5 broker session."""\n\nMT5_LOGIN = 51234567\n'
        'MT5_PASSWORD = "Qz7rT2kLm9WxVb4N"  # planted\n', encoding="utf-8")
    with (ws.project / "tests/test_orders.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef test_broker_login():\n    from trading_bot import broker\n    assert broker.MT5_LOGIN\n")


def _unpinned(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.project / "requirements.lock", "numpy==2.1.3", "numpy>=2.1")


def _missing_changelog_entry(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    start = text.index("## [1.2.0]")
    path.write_text(text[:start] + text[text.index("## [1.1.0]"):], encoding="utf-8")


def _changelog_missing_section(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("## [1.1.0]")
    head = re.sub(r"### Migration Guide\n(- .*\n)+\n", "", head)
    path.write_text(head + sep + rest, encoding="utf-8")


def _missing_release_notes(ws: Workspace, now: dt.datetime) -> None:
    (ws.project / "RELEASE_NOTES.md").unlink()


# ----------------------------------------------------------------------------- migrations
def _migration_without_downgrade(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / _REV2
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("def downgrade()")] + "def downgrade() -> None:\n    pass\n", encoding="utf-8")


def _non_reversible(ws: Workspace, now: dt.datetime) -> None:
    # The downgrade drops the index but leaves the column behind.
    _edit(ws.project / _REV2, '    with op.batch_alter_table("orders") as batch:\n        batch.drop_column("client_order_id")\n', "")


def _extra_revision(ws: Workspace, name: str, down: str, upgrade: str, downgrade: str, message: str) -> None:
    (ws.project / "migrations/versions" / name).write_text(
        f'"""{message}\n\nRevision ID: c3e5a7b90003\n"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f'revision = "c3e5a7b90003"\ndown_revision = "{down}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade() -> None:\n{upgrade}\n\n\ndef downgrade() -> None:\n{downgrade}\n", encoding="utf-8")


def _two_heads(ws: Workspace, now: dt.datetime) -> None:
    _extra_revision(ws, "20261112_c3e5a7b90003_add_order_comment_column.py", "a1c3e5f70001",
                    '    op.add_column("orders", sa.Column("comment", sa.String(200), nullable=True))',
                    '    with op.batch_alter_table("orders") as batch:\n        batch.drop_column("comment")',
                    "add order comment column")


def _breaking_migration(ws: Workspace, now: dt.datetime) -> None:
    _extra_revision(ws, "20261115_c3e5a7b90003_rename_price_to_fill_price.py", "b2d4f6a80002",
                    '    with op.batch_alter_table("orders") as batch:\n        batch.alter_column("price", new_column_name="fill_price")',
                    '    with op.batch_alter_table("orders") as batch:\n        batch.alter_column("fill_price", new_column_name="price")',
                    "rename price to fill price")
    _manifest(ws, lambda m: m["database"].update(migration_head="c3e5a7b90003"))


def _undescriptive_name(ws: Workspace, now: dt.datetime) -> None:
    src = ws.project / _REV2
    _edit(src, '"""add client order id for idempotent orders', '"""update')
    src.rename(src.with_name("20261110_b2d4f6a80002_update.py"))


def _migration_not_prepared(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m["database"].update(migration_head="d4f6b8c00004"))


# ----------------------------------------------------------------------------- infrastructure
def _catalogue(ws: Workspace) -> list[dict]:
    return json.loads((ws.backups / "catalogue.json").read_text(encoding="utf-8"))["backups"]


def _stale_backup(ws: Workspace, now: dt.datetime) -> None:
    entries = _catalogue(ws)
    entries[-1]["taken_at"] = iso(now - dt.timedelta(hours=2))
    write_catalogue(ws.backups, entries)


def _corrupt_backup(ws: Workspace, now: dt.datetime) -> None:
    latest = ws.backups / _catalogue(ws)[-1]["file"]
    data = latest.read_bytes()
    latest.write_bytes(b"\x00" * 100 + data[100:2048])


def _pitr_off(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.postgresql_conf, "archive_mode = on", "archive_mode = off")


def _pitr_short(ws: Workspace, now: dt.datetime) -> None:
    entries = _catalogue(ws)
    old = ws.backups / entries[0]["file"]
    taken = now - dt.timedelta(days=3)
    name = f"orders-base-{taken.strftime('%Y%m%dT%H%M%SZ')}{old.suffix}"
    old.rename(ws.backups / name)
    entries[0] = {**entries[0], "file": name, "taken_at": iso(taken)}
    write_catalogue(ws.backups, entries)


def _expired_cert(ws: Workspace, now: dt.datetime) -> None:
    create_tls(ws.tls, now, not_before=now - dt.timedelta(days=91), not_after=now - dt.timedelta(days=1))


def _expiring_cert(ws: Workspace, now: dt.datetime) -> None:
    create_tls(ws.tls, now, not_after=now + dt.timedelta(days=5))


def _wrong_host_cert(ws: Workspace, now: dt.datetime) -> None:
    create_tls(ws.tls, now, hostnames=("trading-bot.example.internal",))


def _drifted_staging(ws: Workspace, now: dt.datetime) -> None:
    """Production's spec (the release's production.yaml) gets twice the bot container's memory
    limit; the sandbox cluster plants the same drift on the live production Deployment."""
    from goldgate.sandbox.controllers.production import PRODUCTION_FILE, drift

    path = ws.project / "deploy/k8s" / PRODUCTION_FILE
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8"))) if path.is_file() else []
    if not any(isinstance(d, dict) and d.get("kind") == "Deployment" for d in docs):
        raise ValueError(f"{path}: no Deployment to drift")
    drift([d for d in docs if isinstance(d, dict)])
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")


def _untested_alert_rule(ws: Workspace, now: dt.datetime) -> None:
    rules = ws.project / "deploy/prometheus/rules/trading-bot.rules.yml"
    data = yaml.safe_load(rules.read_text(encoding="utf-8"))
    data["groups"][0]["rules"].append({
        "alert": "TradingBotOrderBacklog",
        "expr": "sum(rate(orders_total[5m])) < 0.01",
        "for": "10m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "Orders stalled"},
    })
    write_yaml(rules, data)


def _failing_alert_test(ws: Workspace, now: dt.datetime) -> None:
    rules = ws.project / "deploy/prometheus/rules/trading-bot.rules.yml"
    _edit(rules, "> 0.01", "> 0.05")


# ----------------------------------------------------------------------------- operational
def _one_approval(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m.update(approvals=m["approvals"][:1]))


def _self_approval(ws: Workspace, now: dt.datetime) -> None:
    def change(m: dict) -> None:
        m["approvals"][1]["name"] = m["author"]
    _manifest(ws, change)


def _window_closed(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m.update(deployment_window={
        "start": iso(now + dt.timedelta(days=1)), "end": iso(now + dt.timedelta(days=1, hours=4))}))


def _no_change_ticket(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m.pop("change_ticket"))


def _manifest_version(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m.update(version="v1.1.9"))


def _no_on_call(ws: Workspace, now: dt.datetime) -> None:
    _manifest(ws, lambda m: m.update(on_call={"primary": "", "secondary": "emil.novak"}))


def _missing_runbook_section(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / "runbooks/rollback.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("## Verification")], encoding="utf-8")


def _missing_runbook(ws: Workspace, now: dt.datetime) -> None:
    (ws.project / "runbooks/on-call.md").unlink()


# ----------------------------------------------------------------------------- configuration
def _config_out_of_range(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.project / "config/production.yaml", "risk_per_trade: 0.01", "risk_per_trade: 0.2")


def _config_dependency(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.project / "config/production.yaml", "max_daily_loss: 0.03", "max_daily_loss: 0.15")


def _config_literal_secret(ws: Workspace, now: dt.datetime) -> None:
    _edit(ws.project / "config/production.yaml", "api_token: vault:secret/trading-bot/production#api_token",
          "api_token: tok-4f9a1c7e2b")


def _feature_without_flag(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / "config/flags.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["flags"] = [f for f in data["flags"] if f["name"] != "adaptive_stop_loss"]
    write_yaml(path, data)


def _stale_flag(ws: Workspace, now: dt.datetime) -> None:
    path = ws.project / "config/flags.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["flags"][0]["cleanup_by"] = (now - dt.timedelta(days=30)).date().isoformat()
    write_yaml(path, data)


_F = ReleaseFault
RELEASE_FAULTS: dict[str, ReleaseFault] = {f.name: f for f in (
    _F("failing-test", "one of the project's tests fails (JUnit failures = 1)", ("tests-passed",), _failing_test),
    _F("coverage-70", "an untested module pulls line coverage down to 70 %", ("coverage",), _coverage_70),
    _F("critical-sarif", "code that bandit flags HIGH (weak MD5 hash) in trading_bot/fingerprint.py",
       ("security-scan",), _critical_sarif),
    _F("planted-secret", "a broker password hardcoded in trading_bot/broker.py", ("no-secrets",), _planted_secret),
    _F("unpinned-dependency", "requirements.lock says numpy>=2.1", ("dependencies-pinned",), _unpinned),
    _F("missing-changelog-entry", "CHANGELOG.md has no entry for the version under release",
       ("changelog", "feature-flags-killswitch"), _missing_changelog_entry),
    _F("changelog-missing-section", "the release's CHANGELOG entry lacks its Migration Guide section",
       ("changelog",), _changelog_missing_section),
    _F("missing-release-notes", "RELEASE_NOTES.md is absent", ("release-notes",), _missing_release_notes),
    _F("migration-without-downgrade", "revision b2d4f6a80002 has an empty downgrade",
       ("reversible",), _migration_without_downgrade),
    _F("non-reversible-migration", "revision b2d4f6a80002's downgrade leaves its column behind",
       ("reversible",), _non_reversible),
    _F("two-migration-heads", "a second revision branches off a1c3e5f70001: two heads",
       ("single-head", "migrations-prepared", "models-match"), _two_heads),
    _F("breaking-migration", "a revision renames orders.price: v1.1.0's queries break",
       ("backward-compatible", "models-match"), _breaking_migration),
    _F("undescriptive-migration-name", "revision b2d4f6a80002 is called 'update'", ("descriptive-names",),
       _undescriptive_name),
    _F("migration-not-prepared", "release.yaml names a migration head the project does not have",
       ("migrations-prepared",), _migration_not_prepared),
    _F("stale-backup", "the latest backup is two hours old (RPO one hour)", ("backups-fresh",), _stale_backup),
    _F("corrupt-backup", "the latest backup file is damaged: restore fails",
       ("backups-restorable", "restore-within-rto"), _corrupt_backup),
    _F("pitr-off", "archive_mode = off: no point-in-time recovery", ("pitr",), _pitr_off),
    _F("pitr-short-retention", "the oldest base backup is 3 days old (PITR 7+ days)", ("pitr",), _pitr_short),
    _F("expired-certificate", "the TLS certificate expired yesterday", ("tls",), _expired_cert),
    _F("expiring-certificate", "the TLS certificate expires in 5 days", ("tls",), _expiring_cert),
    _F("wrong-hostname-certificate", "the TLS certificate names another host", ("tls",), _wrong_host_cert),
    _F("drifted-staging", "production (production.yaml, live and on file) has another memory limit than the release",
       ("staging-matches-production",), _drifted_staging),
    _F("untested-alert-rule", "an alert rule no promtool test covers", ("alert-rules-tested",), _untested_alert_rule),
    _F("failing-alert-test", "the error-rate alert fires at 5 %, its promtool test expects 1 %",
       ("alert-rules-tested",), _failing_alert_test),
    _F("one-approval", "release.yaml carries one approval", ("approvals",), _one_approval),
    _F("self-approval", "the author approved their own release", ("approvals",), _self_approval),
    _F("window-closed", "the deployment window opens tomorrow", ("deployment-window",), _window_closed),
    _F("no-change-ticket", "release.yaml names no change ticket", ("change-ticket",), _no_change_ticket),
    _F("manifest-version-mismatch", "release.yaml is for v1.1.9, not the version under test",
       ("manifest-version",), _manifest_version),
    _F("no-on-call", "release.yaml names no primary on-call", ("on-call",), _no_on_call),
    _F("missing-runbook-section", "runbooks/rollback.md lacks its Verification section", ("runbooks",),
       _missing_runbook_section),
    _F("missing-runbook", "runbooks/on-call.md is absent", ("runbooks",), _missing_runbook),
    _F("config-out-of-range", "config/production.yaml: risk.risk_per_trade 0.2 (max 0.05)", ("config-schema",),
       _config_out_of_range),
    _F("config-dependency-broken", "config/production.yaml: max_daily_loss above max_drawdown",
       ("config-dependencies",), _config_dependency),
    _F("config-literal-secret", "config/production.yaml holds a literal API token", ("config-secrets",),
       _config_literal_secret),
    _F("feature-without-flag", "the adaptive stop-loss feature has no killswitch flag", ("feature-flags-killswitch",),
       _feature_without_flag),
    _F("stale-flag", "a feature flag is past its cleanup date", ("feature-flags-cleanup",), _stale_flag),
)}


def describe() -> list[tuple[str, str]]:
    """``(name, description)`` of every release fault, for ``goldgate sandbox faults``."""
    return [(f.name, f.description) for f in RELEASE_FAULTS.values()]
