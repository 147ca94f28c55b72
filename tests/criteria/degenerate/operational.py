"""Degenerate inputs of the configuration, operational-readiness and recovery criteria.

No manifest fields, no runbooks, no subjects, no configuration files, an empty schema, no
backups, a failed or empty restore, a restore with nothing recorded to compare it with,
non-PostgreSQL or unset archiving, NaN / infinite / non-positive objectives: none of them
may PASS.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.artifacts.botconfig import Flag
from goldgate.probes.artifacts.changelog import ChangelogEntry
from goldgate.probes.artifacts.manifest import Approval, ReleaseManifest
from goldgate.probes.artifacts.runbooks import Runbook
from goldgate.probes.cluster_specs import RolloutState
from goldgate.probes.database import Backup, PitrSettings, RestoreResult
from goldgate.probes.http import HttpObservation

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
NOT_A_LIMIT = st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -1.0])
TEXT = st.text(max_size=12)
EMPTY_MANIFEST = st.builds(ReleaseManifest, path=st.just("release.yaml"))
NAMELESS_APPROVALS = st.lists(st.sampled_from(["", " "]).map(Approval), max_size=3).map(tuple)


def _args(*values: object) -> tuple[tuple[object, ...], dict[str, object]]:
    return values, {}


def _stub_books() -> st.SearchStrategy[dict[str, Runbook]]:
    book = st.builds(Runbook, name=st.just("deployment"), path=st.just("runbooks/deployment.md"),
                     sections=st.just({}), words=st.integers(0, 2))
    return st.dictionaries(st.just("deployment"), book, max_size=1)


def _restores() -> st.SearchStrategy[RestoreResult]:
    failed = st.builds(RestoreResult, backup=st.just("b.db"), target=st.just("scratch"), ok=st.just(False),
                       duration_s=st.floats(0, 10), error=TEXT)
    empty = st.builds(RestoreResult, backup=st.just("b.db"), target=st.just("scratch"), ok=st.just(True),
                      duration_s=st.floats(0, 10), tables=st.just({}), integrity=st.just("ok"))
    unproven = st.builds(RestoreResult, backup=st.just("b.db"), target=st.just("scratch"), ok=st.just(True),
                         duration_s=st.floats(0, 10), tables=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), min_size=1),
                         integrity=st.sampled_from(["ok", None]))
    corrupt = st.builds(RestoreResult, backup=st.just("b.db"), target=st.just("scratch"), ok=st.just(True),
                        duration_s=st.floats(0, 10), tables=st.just({"a": 1}), integrity=st.just("page 3 corrupt"),
                        checksum_ok=st.just(True))
    return st.one_of(failed, empty, unproven, corrupt)


def _pitr_settings() -> st.SearchStrategy[PitrSettings]:
    unset = st.builds(PitrSettings, source=st.just("postgresql.conf"), settings=st.just({}))
    other_engine = st.builds(PitrSettings, source=st.just("sqlite:///app.db"), settings=st.just({}),
                             engine=st.sampled_from(["sqlite", "mysql"]))
    off = st.builds(PitrSettings, source=st.just("postgresql.conf"),
                    settings=st.just({"wal_level": "minimal", "archive_mode": "off", "archive_command": ""}))
    return st.one_of(unset, other_engine, off)


ARCHIVING_ON = PitrSettings("postgresql.conf", {"wal_level": "replica", "archive_mode": "on", "archive_command": "cp %p /a/%f"})
OLD_BACKUP = Backup("b.db", "base", NOW - dt.timedelta(days=30), None)
FRESH = Backup("b.db", "full", NOW, None)
FEATURE_ENTRY = ChangelogEntry("1.2.0", 5, None, {"Features": ["A new screen"]})

CASES = {
    "configuration.environment_files_valid": st.just(_args({}, "environments")),
    "configuration.configs_match_schema": st.one_of(
        st.just(_args({}, {"type": "object"}, "schema.json")),
        st.just(_args({"prod": ("prod.yaml", {"a": 1})}, {}, "schema.json"))),
    "configuration.dependency_holds": st.one_of(
        st.tuples(st.just({}), st.just("a"), st.sampled_from(["below", "at most"]), st.just("b")).map(lambda a: (a, {})),
        st.tuples(st.just({"p": ("p.yaml", {"a": float("nan"), "b": 1})}), st.just("a"), st.just("below"),
                  st.just("b")).map(lambda a: (a, {})),
        st.tuples(st.just({"p": ("p.yaml", {"a": True, "b": "x"})}), st.just("a"), st.just("below"),
                  st.just("b")).map(lambda a: (a, {})),
        st.just(_args({"p": ("p.yaml", {"a": 1, "b": 2})}, "a", "sideways of", "b"))),
    "configuration.secrets_by_reference": st.just(_args({})),
    "configuration.features_have_killswitch": st.one_of(
        st.just(_args(None, [], "CHANGELOG.md", "flags.yaml")),
        st.lists(st.builds(Flag, name=st.just("other"), killswitch=st.booleans(), introduced=st.just(""),
                           cleanup_by=st.none(), line=st.just(1)), max_size=2).map(
            lambda fl: _args(FEATURE_ENTRY, fl, "CHANGELOG.md", "flags.yaml"))),
    "configuration.flags_not_stale": st.one_of(
        st.just(_args([], NOW.date(), "flags.yaml")),
        st.just(_args([Flag("x", True, "", None, 1)], NOW.date(), "flags.yaml"))),
    "operational.runbooks_complete": st.one_of(
        st.just(_args({}, {}, "runbooks")),
        st.just(_args({}, {"deployment": []}, "runbooks")),
        _stub_books().map(lambda b: _args(b, {"deployment": []}, "runbooks", None, 30))),
    "operational.approvals": st.one_of(
        st.tuples(EMPTY_MANIFEST, st.integers(-2, 3)).map(lambda a: (a, {})),
        st.tuples(st.builds(ReleaseManifest, path=st.just("r.yaml"), author=st.just("a"), approvals=NAMELESS_APPROVALS),
                  st.integers(-2, 3)).map(lambda a: (a, {}))),
    "operational.on_call": st.tuples(EMPTY_MANIFEST, st.lists(st.sampled_from(["primary", "secondary"]), max_size=2)).map(
        lambda a: (a, {})),
    "operational.inside_window": st.one_of(
        st.tuples(EMPTY_MANIFEST, st.just(NOW)).map(lambda a: (a, {})),
        st.just(_args(ReleaseManifest("r.yaml", window_start=NOW + dt.timedelta(hours=1), window_end=NOW), NOW))),
    "operational.no_rollout_in_progress": st.one_of(
        st.just(_args([], "trading", "https://127.0.0.1")),
        st.just(_args([RolloutState("bot", 2, 1, 3, 1, 1, 4)], "trading", "https://127.0.0.1"))),
    "operational.change_ticket": st.one_of(
        st.tuples(EMPTY_MANIFEST, st.sampled_from([r"CHG\d{7}", "", "  ", "("])).map(lambda a: (a, {})),
        st.just(_args(ReleaseManifest("r.yaml", change_ticket="CHG001"), ""))),
    "operational.manifest_for_version": st.one_of(
        st.tuples(EMPTY_MANIFEST, st.sampled_from(["", " ", "v1.2.0"])).map(lambda a: (a, {})),
        st.just(_args(ReleaseManifest("r.yaml", version=""), ""))),
    "recovery.latest_backup_fresh": st.one_of(
        st.tuples(st.just([]), st.just(NOW), st.floats(1, 1e6), st.just("backups")).map(lambda a: (a, {})),
        st.tuples(st.just([FRESH]), st.just(NOW), NOT_A_LIMIT, st.just("backups")).map(lambda a: (a, {}))),
    "recovery.restore_matches": st.tuples(_restores(), st.sampled_from([None, {}])).map(lambda a: (a, {})),
    "recovery.pitr_enabled": st.one_of(
        st.tuples(_pitr_settings(), st.sampled_from([[], [OLD_BACKUP]]), st.just(NOW), st.floats(1, 30)).map(
            lambda a: (a, {})),
        st.tuples(st.just(ARCHIVING_ON), st.just([]), st.just(NOW), st.floats(1, 30)).map(lambda a: (a, {})),
        st.tuples(st.just(ARCHIVING_ON), st.just([OLD_BACKUP]), st.just(NOW), NOT_A_LIMIT).map(lambda a: (a, {}))),
    "recovery.restore_within_rto": st.one_of(
        st.tuples(_restores().filter(lambda r: not r.ok), st.floats(1, 1e4)).map(lambda a: (a, {})),
        st.tuples(st.just(RestoreResult("b.db", "scratch", True, 1.0, {"a": 1})), NOT_A_LIMIT).map(lambda a: (a, {})),
        st.tuples(st.just(RestoreResult("b.db", "scratch", True, float("nan"), {"a": 1})), st.just(900.0)).map(
            lambda a: (a, {}))),
    "recovery.standby_healthy": st.one_of(
        st.just(_args(HttpObservation("GET", "http://127.0.0.1:1/health", error="refused"))),
        st.integers(100, 599).filter(lambda s: s != 200).map(
            lambda s: _args(HttpObservation("GET", "http://127.0.0.1:1/health", status=s)))),
}
