"""The applied-migration check on a real PostgreSQL: a database migrated by the release's own
``alembic upgrade`` (the sandbox's pipeline step) to head passes with its commit time; one
stopped at the first revision fails naming both revisions; an unreachable one is ERROR."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from goldgate.criteria import migrations
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes import applied_migration
from goldgate.probes.artifacts import ArtifactUnavailable, manifest
from goldgate.probes.migrations import read_scripts
from goldgate.sandbox.regions import pair
from goldgate.sandbox.release import PROJECT_SOURCE
from goldgate.verdict import Status

FIRST = "a1c3e5f70001"


@pytest.fixture
def live_url(postgres_url: str) -> Iterator[str]:
    """A fresh database on the shared throwaway server, standing in for the release's live one."""
    admin = create_engine(postgres_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS applied_migration_live"))
        conn.execute(text("CREATE DATABASE applied_migration_live"))
    yield make_url(postgres_url).set(database="applied_migration_live").render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS applied_migration_live WITH (FORCE)"))
    admin.dispose()


def _head() -> tuple[str | None, list[str]]:
    declared = manifest.read_manifest(PROJECT_SOURCE / "release.yaml").migration_head
    return declared, list(read_scripts(PROJECT_SOURCE).heads)


def test_migrated_to_head_passes_with_the_commit_time(live_url: str) -> None:
    pair.migrate(live_url)
    applied = applied_migration.read_applied(live_url)
    declared, heads = _head()
    v = migrations.migration_applied(applied, declared, heads)
    assert v.status is Status.PASS, v.message()
    assert applied.revision == declared == heads[0]
    with create_engine(live_url).connect() as conn:
        tracking = conn.execute(text("SHOW track_commit_timestamp")).scalar_one()
    if tracking == "on":
        assert applied.committed_at is not None and "committed at" in v.reason
        age = (applied.read_at - applied.committed_at).total_seconds()
        assert 0 <= age < 600
    else:  # a GOLDGATE_TEST_POSTGRES_URL server without commit times: said, not guessed
        assert "commit time unknown" in v.reason


def test_migrated_to_the_first_revision_fails_naming_both(live_url: str) -> None:
    pair.migrate(live_url, FIRST)
    declared, heads = _head()
    v = migrations.migration_applied(applied_migration.read_applied(live_url), declared, heads)
    assert v.status is Status.FAIL
    assert FIRST in v.message() and str(declared) in v.message()


def test_never_migrated_database_fails(live_url: str) -> None:
    declared, heads = _head()
    v = migrations.migration_applied(applied_migration.read_applied(live_url), declared, heads)
    assert v.status is Status.FAIL and "never migrated" in v.reason


def test_unreachable_database_is_an_error_naming_it() -> None:
    from goldgate.sandbox.ports import free_port

    url = f"postgresql://monitor:s3cret@127.0.0.1:{free_port()}/orders"
    v = measure_and_judge("applied", lambda: applied_migration.read_applied(url),
                          lambda a: migrations.migration_applied(a, "b2", ["b2"]), (ArtifactUnavailable,))
    assert v.status is Status.ERROR and "database.url" in v.reason and "127.0.0.1" in v.reason
    assert "s3cret" not in v.message()
