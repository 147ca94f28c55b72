"""Fixtures of the checklist tests: materialised releases (artifacts cached per session),
a pinned clock, and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from goldgate.sandbox import release
from tests.postgres import postgres_for_tests


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    """The pinned clock every time-based check of these tests uses."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def artifact_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = os.environ.get("GOLDGATE_RELEASE_CACHE")
    return Path(shared) if shared else tmp_path_factory.mktemp("artifact-cache")


@pytest.fixture(scope="session")
def build_release(tmp_path_factory: pytest.TempPathFactory, artifact_cache: Path,
                  now: dt.datetime) -> Callable[..., release.Workspace]:
    def _build(*faults: str) -> release.Workspace:
        dest = tmp_path_factory.mktemp("release-" + ("-".join(faults) or "healthy"))
        return release.materialise(dest, faults, cache_dir=artifact_cache, now=now)

    return _build


@pytest.fixture(scope="session")
def healthy(build_release: Callable[..., release.Workspace]) -> release.Workspace:
    return build_release()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL with WAL archiving on (or GOLDGATE_TEST_POSTGRES_URL)."""
    with postgres_for_tests(driver="psycopg", wal_archive=True) as url:
        yield url
