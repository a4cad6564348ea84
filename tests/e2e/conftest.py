"""End-to-end tests share the session's platform; the API fuzz run writes into it, so it runs
after every other test of the session. The journeys act through the gateway as the people of the
demo province's orgs (`acting`), on the catalogue planning holds (`items`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `journey_kit`

from journey_kit import PLANNING, bearer, wait_for

JOURNEY_ITEMS = {"DEMO-07", "DEMO-08", "DEMO-11"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: every other test keeps its order, the fuzz tests move to the end.
    items.sort(key=lambda item: item.get_closest_marker("fuzz") is not None)


@pytest.fixture(scope="module")
def gateway(platform):
    with httpx.Client(base_url=platform.gateway, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def admin(platform) -> dict[str, str]:
    return bearer(platform.token(roles=["provincial_admin"], region="330000", sub="e2e-province"))


@pytest.fixture(scope="module")
def org(gateway, admin):
    """`org(code)`: the registry's org of that public unit code."""
    found: dict[str, dict[str, Any]] = {}

    def of(code: str) -> dict[str, Any]:
        if code not in found:
            answer = gateway.get(f"/api/v1/registry/orgs/{code}", headers=admin)
            assert answer.status_code == 200, answer.text
            found[code] = answer.json()
        return found[code]

    return of


@pytest.fixture(scope="module")
def acting(platform, org):
    """`acting("department_admin", code)`: the headers of that role acting for that org; planning
    and sampling key departments by the org's id, a commit-reveal party by its code."""

    def headers(role: str, code: str) -> dict[str, str]:
        unit = org(code)
        return bearer(
            platform.token(
                roles=[role], region=unit["region_code"], org=unit["org_id"], org_code=code,
                department_type=unit["department_type"], sub=f"e2e-{role}-{code}",
            )
        )  # fmt: skip

    return headers


@pytest.fixture(scope="module")
def items(gateway, acting) -> dict[str, dict[str, Any]]:
    """The demo items as planning's catalogue holds them, by code (as a county planner reads it)."""
    planner = acting("department_admin", "330106-AMR")

    def catalogue():
        page = gateway.get(f"{PLANNING}/catalogue/items", params={"limit": 500}, headers=planner)
        assert page.status_code == 200, page.text
        found = {i["code"]: i for i in page.json()["items"]}
        return found if set(found) >= JOURNEY_ITEMS else None

    return wait_for(catalogue, timeout=60)
