"""Degenerate inputs of the migration criteria: empty histories, walks that proved nothing,
empty SQL files, models without tables, unusable word counts."""

from __future__ import annotations

from hypothesis import strategies as st

from goldgate.probes.applied_migration import AppliedMigration
from goldgate.probes.migrations.loading import MigrationScripts, Revision
from goldgate.probes.migrations.results import (
    ModelsComparison,
    Reversal,
    SmokeResult,
    StepFailure,
    Walk,
)

IDS = st.text(alphabet="0123456789abcdef", min_size=4, max_size=12)
EMPTY_SCRIPTS = st.builds(MigrationScripts, project=st.just("alembic.ini"), heads=st.lists(IDS, max_size=3),
                          revisions=st.just([]))


def _walk(**kw: object) -> Walk:
    return Walk(project="alembic.ini", backend="scratch", env_py="env.py", **kw)  # type: ignore[arg-type]


def _walks() -> st.SearchStrategy[Walk]:
    """Walks that must never pass: nothing in them, no proof, a broken step, missing evidence."""
    empty = st.builds(lambda heads: _walk(heads=heads), st.lists(IDS, max_size=2))
    unproven = st.builds(lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=list(revs),
                                            files={r: f"{r}.py" for r in revs}),
                         st.lists(IDS, min_size=1, max_size=4, unique=True))
    failed = st.builds(lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=revs[:-1], landed="sqlite:///s",
                                          version_after_first=revs[:1], files={r: f"{r}.py" for r in revs},
                                          upgrade_failure=StepFailure(revs[-1], "upgrade", f"{revs[-1]}.py", "boom")),
                       st.lists(IDS, min_size=1, max_size=4, unique=True))
    not_reversible = st.builds(
        lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=list(revs), landed="sqlite:///s",
                           version_after_first=revs[:1],
                           reversals=[Reversal(r, f"{r}.py", False, "left behind") for r in revs]),
        st.lists(IDS, min_size=1, max_size=4, unique=True))
    return st.one_of(empty, unproven, failed, not_reversible)




def _models_cases() -> st.SearchStrategy[tuple[tuple[object, ...], dict[str, object]]]:
    no_tables = st.builds(lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=list(revs), landed="s",
                                             version_after_first=revs[:1],
                                             models=ModelsComparison("m:metadata", 0, [])),
                          st.lists(IDS, min_size=1, max_size=3, unique=True))
    return st.one_of(_walks(), no_tables).map(lambda w: ((w,), {}))


def _smoke_cases() -> st.SearchStrategy[tuple[tuple[object, ...], dict[str, object]]]:
    empty_sql = st.builds(lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=list(revs), landed="s",
                                             version_after_first=revs[:1], smoke=SmokeResult("v1.sql", 0, [])),
                          st.lists(IDS, min_size=1, max_size=3, unique=True))
    return st.tuples(st.one_of(_walks(), empty_sql), st.sampled_from(["v1.1.0", ""])).map(lambda a: (a, {}))


def _revision(rev_id: str) -> Revision:
    return Revision(rev_id, (), "add orders table for paper trades", f"{rev_id}_add_orders.py")


NAMED = st.builds(lambda revs: MigrationScripts("alembic.ini", revs[-1:], [_revision(r) for r in revs]),
                  st.lists(IDS, min_size=1, max_size=3, unique=True))

CASES = {
    "migrations.single_head": EMPTY_SCRIPTS.map(lambda s: ((s,), {})),
    "migrations.upgrade_clean": _walks().map(lambda w: ((w,), {})),
    "migrations.reversible": st.one_of(
        _walks(), st.builds(lambda revs: _walk(revisions=revs, heads=revs[-1:], upgraded=list(revs), landed="s",
                                               version_after_first=revs[:1], round_trip=False),
                            st.lists(IDS, min_size=1, max_size=3, unique=True))).map(lambda w: ((w,), {})),
    "migrations.models_match": _models_cases(),
    "migrations.backward_compatible": _smoke_cases(),
    "migrations.descriptive_names": st.one_of(
        st.tuples(EMPTY_SCRIPTS, st.integers(1, 5)),
        st.tuples(NAMED, st.sampled_from([0, -1, True]))).map(lambda a: (a, {})),
    "migrations.migrations_prepared": st.one_of(
        st.tuples(EMPTY_SCRIPTS, st.one_of(st.none(), IDS), st.just("release.yaml")),
        st.tuples(NAMED, st.sampled_from([None, ""]), st.just("release.yaml"))).map(lambda a: (a, {})),
    "migrations.migration_applied": st.one_of(
        # no reading at all; nothing to compare with; never migrated; at base; another revision; malformed heads
        st.tuples(st.sampled_from([None, "b2", 3]), st.just("b2")),
        st.tuples(st.just(AppliedMigration("database.url x", True, ("b2",))), st.sampled_from([None, ""]),
                  st.sampled_from([(), ["a1", "b2"], "b2", [None], None])),
        st.tuples(st.builds(lambda revs: AppliedMigration("database.url x", bool(revs), tuple(revs)),
                            st.lists(IDS, max_size=2)), st.just("ffff0000ffff"))).map(lambda a: (a, {})),
}
