"""The decision tests run the same synthetic goldgate projects as the report tests."""

from tests.report.conftest import gg_project

__all__ = ["gg_project"]
