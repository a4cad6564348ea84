"""The demo's planning step: `make run` leaves the demo city's plan of this year published, with
its batches, under two risk-ratio policies of the province; making it again changes nothing.

Against the platform `shuangsui dev up` started for the session, which made the plan as it
loaded the demo province.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.demo import PARTNER_DEPARTMENT, DemoProvince, partner_code
from shuangsui.devstack.demo_planning import KEY_ITEM, make_demo_plan, window

DEMO = DemoProvince()
CITY, _ = DEMO.planning_city or ("", "")


@pytest.fixture(scope="module")
def gateway(platform):
    with httpx.Client(base_url=platform.gateway, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def admin(platform) -> dict[str, str]:
    token = platform.token(roles=["provincial_admin"], region="330000", sub="test-demo-plan")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def year() -> int:
    return shanghai_date(datetime.now(UTC)).year


@pytest.fixture(scope="module")
def lead(gateway, admin) -> dict[str, Any]:
    answer = gateway.get(f"/api/v1/registry/orgs/{CITY}-AMR", headers=admin)
    assert answer.status_code == 200, answer.text
    org: dict[str, Any] = answer.json()
    return org


def versions_of(gateway, admin, year: int, org_id: str) -> list[dict[str, Any]]:
    answer = gateway.get(
        "/api/v1/planning/plans", params={"year": year, "org_id": org_id}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def policies_of(gateway, admin, year: int) -> list[dict[str, Any]]:
    answer = gateway.get(
        "/api/v1/planning/policies", params={"year": year, "holder": "province"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_demo_city_plans_this_year_and_publishes_its_plan(gateway, admin, year, lead):
    versions = versions_of(gateway, admin, year, lead["org_id"])
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published")]
    plan = versions[0]
    assert plan["plan_code"].startswith(f"{CITY}{year}"), "region + year + sequence"
    assert plan["level"] == "city"
    assert plan["filed_to_org_id"] is not None, "filed with the provincial bureau (备案)"


def test_the_province_sets_its_policy_and_one_for_the_key_item(gateway, admin, year):
    policies = policies_of(gateway, admin, year)
    assert {p["item_id"] is None for p in policies} == {True, False}, (
        "the province's policy for every item, and one of its own for a key item (R13)"
    )
    general = next(p for p in policies if p["item_id"] is None)
    assert general["classes"]["A"]["max_ratio"] == "1/10"


def test_the_partner_department_is_an_org_of_another_type(gateway, admin):
    answer = gateway.get(f"/api/v1/registry/orgs/{partner_code(CITY)}", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["department_type"] == PARTNER_DEPARTMENT != "market_supervision"


def test_making_the_demo_plan_again_changes_nothing(platform, gateway, admin, year, lead):
    before = versions_of(gateway, admin, year, lead["org_id"])
    policies = policies_of(gateway, admin, year)

    again = make_demo_plan(platform.gateway, platform.issuer, DEMO)

    assert again is not None
    assert not again.created
    assert (again.plan_code, again.version, again.status) == (
        before[0]["plan_code"], 1, "published",
    )  # fmt: skip
    after = versions_of(gateway, admin, year, lead["org_id"])
    assert [(v["version"], v["revision"]) for v in after] == [
        (v["version"], v["revision"]) for v in before
    ], "no new version, no step taken"
    assert [(p["policy_id"], p["version"]) for p in policies_of(gateway, admin, year)] == [
        (p["policy_id"], p["version"]) for p in policies
    ], "the policies are not written again"


@pytest.mark.parametrize(
    "day", [date(2026, 1, 1), date(2026, 6, 15), date(2026, 12, 4), date(2026, 12, 31)]
)
def test_every_demo_batch_window_lies_in_the_year_and_not_before_the_day(day):
    for month, months in ((4, 3), (5, 3), (7, 2), (9, 3)):
        start, end = window(day, month, months)
        assert day <= start <= end <= date(day.year, 12, 31)
        assert start.year == end.year == day.year


def test_the_key_item_of_the_demo_is_a_key_item():
    from shuangsui.devstack.demo_catalogue import ITEMS

    assert next(i for i in ITEMS if i["code"] == KEY_ITEM)["item_category"] == "key"
