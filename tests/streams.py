"""Two pytest runs of goldgate's own tests that share the work module by module.

The own tests wait on sandboxes far more than they compute, so one run leaves a machine with
spare cores idle. Two runs started with the same ``GOLDGATE_TEST_CLAIMS`` directory split the
tests between them while they go: the first takes the test modules from the front, the second
from the back (``GOLDGATE_TEST_ORDER=reverse``), and each module goes to the run that claims it
first by creating its directory there (``mkdir`` is atomic, so a module never runs twice and
never in neither). The runs meet wherever the work divides evenly, which a fixed split by
folder cannot know in advance, and the second may start later than the first.

A run claims the next module of its own order when the one before it ends, so it can hand
pytest the real next item, and the fixtures of a module, package or session are torn down as
they would be in one run. A module the other run claimed is left out of this run's report
entirely (it is passed or failed in the other run's), and the terminal summary says how many.

Without ``GOLDGATE_TEST_CLAIMS`` this plugin does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

CLAIMS_ENV = "GOLDGATE_TEST_CLAIMS"
ORDER_ENV = "GOLDGATE_TEST_ORDER"


def module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def reversed_by_module(items: list[pytest.Item]) -> list[pytest.Item]:
    """The modules in reverse order, each module's tests in their own order (its fixtures
    and parametrisations stay grouped as pytest arranged them)."""
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        groups.setdefault(module_of(item), []).append(item)
    return [item for module in reversed(groups) for item in groups[module]]


class SharedRun:
    """One of the runs sharing the claims directory."""

    def __init__(self, claims: Path, reverse: bool) -> None:
        self.claims = claims
        self.reverse = reverse
        self.owner: dict[str, bool] = {}   # module -> claimed by this run
        self.position: dict[int, int] = {}   # id(item) -> index in this run's order
        self.items: list[pytest.Item] = []

    def claim(self, module: str) -> bool:
        if module not in self.owner:
            try:
                (self.claims / module.replace("/", "__")).mkdir()
                self.owner[module] = True
            except FileExistsError:
                self.owner[module] = False
        return self.owner[module]

    def next_of_mine(self, item: pytest.Item) -> pytest.Item | None:
        """The next item this run will run, claiming its module now when it is a new one."""
        for candidate in self.items[self.position[id(item)] + 1:]:
            if self.claim(module_of(candidate)):
                return candidate
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.reverse:
            items[:] = reversed_by_module(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)
        self.position = {id(item): i for i, item in enumerate(self.items)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        if not self.claim(module_of(item)):
            return True          # the other run has it: no report here
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        runtestprotocol(item, nextitem=self.next_of_mine(item))
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        modules = {module_of(item) for item in self.items}
        mine = sorted(m for m in modules if self.owner.get(m))
        theirs = sorted(m for m in modules if self.owner.get(m) is False)
        terminalreporter.write_line(
            f"shared run ({'from the back' if self.reverse else 'from the front'}): "
            f"{len(mine)} of {len(modules)} test modules ran here, {len(theirs)} in the other run "
            f"(claims in {self.claims})")


def pytest_configure(config: pytest.Config) -> None:
    # Taken out of the environment: pytest runs these tests start are not runs of the share.
    claims = os.environ.pop(CLAIMS_ENV, "")
    reverse = os.environ.pop(ORDER_ENV, "") == "reverse"
    if claims:
        path = Path(claims)
        path.mkdir(parents=True, exist_ok=True)
        config.pluginmanager.register(SharedRun(path, reverse), "goldgate-shared-run")
