"""End-to-end tests share the session's platform; the API fuzz run writes into it, so it runs
after every other test of the session."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: every other test keeps its order, the fuzz tests move to the end.
    items.sort(key=lambda item: item.get_closest_marker("fuzz") is not None)
