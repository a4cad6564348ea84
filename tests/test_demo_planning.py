"""The demo's planning step: `make run` leaves the demo city's plan of this year published, with
its batches, under two risk-ratio policies of the province; making it again changes nothing.

Against the platform `shuangsui dev up` started for the session, which made the plan as it
loaded the demo province.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx
import pytest

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.demo import PARTNER_DEPARTMENT, DemoProvince, partner_code
from shuangsui.devstack.demo_plan_data import (
    JOINT_ITEM,
    KEY_ITEM,
    KEY_ITEM_POLICY,
    PROVINCE_POLICY,
    batch_drafts,
    window,
)
from shuangsui.devstack.demo_planning import make_demo_plan

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


def batches_of(gateway, admin, plan_id: str) -> list[dict[str, Any]]:
    answer = gateway.get(
        "/api/v1/planning/batches", params={"plan_id": plan_id, "limit": 100}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


@pytest.fixture(scope="module")
def published(gateway, admin, year, lead) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    [plan] = versions_of(gateway, admin, year, lead["org_id"])
    return plan, batches_of(gateway, admin, plan["plan_id"])


def test_publishing_the_plan_published_its_batches_with_their_codes(published):
    plan, batches = published
    assert len(batches) >= 4
    # Published by this version; the demo's draws then move the ones sampling could draw on.
    assert {b["status"] for b in batches} <= {"published", "drawing", "drawn"}
    assert {b["published_in_version"] for b in batches} == {plan["version"]}
    for batch in batches:
        assert batch["batch_code"].startswith(CITY), "region(6) + date(8) + sequence(4)"
        assert len(batch["batch_code"]) == 18
    assert len({b["batch_code"] for b in batches}) == len(batches)


def test_the_demo_batches_are_of_every_kind_the_issue_asks_for(gateway, admin, published):
    _, batches = published
    items = {
        i["item_id"]: i["code"]
        for i in gateway.get(
            "/api/v1/planning/catalogue/items", params={"limit": 500}, headers=admin
        ).json()["items"]
    }
    checks = [{items[i] for i in b["item_ids"]} for b in batches]
    assert any(KEY_ITEM in codes for codes in checks), "one under the key item's policy (R13)"
    assert any(KEY_ITEM not in codes for codes in checks), "and one under the province's"
    assert any(b["draw_mode"] == "directed" for b in batches), "a directed draw (R15)"
    [joint] = [b for b in batches if b["joint_kind"] == "cross_department"]
    assert {items[i] for i in joint["item_ids"]} == {JOINT_ITEM}
    assert [i["status"] for i in joint["invitations"]] == ["confirmed"], (
        "the partner department confirmed its part (R20)"
    )
    assert all(b["team_size"] >= 2 for b in batches), "R18"


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
    batches = batches_of(gateway, admin, before[0]["plan_id"])

    again = make_demo_plan(platform.gateway, platform.issuer, DEMO)

    assert again is not None
    assert not again.created
    assert (again.plan_code, again.version, again.status) == (
        before[0]["plan_code"], 1, "published",
    )  # fmt: skip
    assert again.batch_codes == tuple(sorted(b["batch_code"] for b in batches))
    assert [(b["batch_id"], b["revision"]) for b in batches_of(
        gateway, admin, before[0]["plan_id"])] == [(b["batch_id"], b["revision"]) for b in batches
    ], "no batch added or changed"  # fmt: skip
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


# ---- in memory: the demo's batches and policies under planning's own rules ------------------


def item_facts() -> tuple[dict[str, dict[str, Any]], dict[UUID, Any], dict[UUID, frozenset[str]]]:
    """The demo items as planning's catalogue would hand them to a batch of the demo city: the
    catalogue's rows by code, their facts and the partner departments of joint items."""
    from shuangsui.devstack.demo_catalogue import ITEMS, PROVINCIAL_ITEMS
    from shuangsui.planning.domain.batch_facts import department_type_of
    from shuangsui.planning.domain.batch_values import ItemFacts, Method

    rows, facts, partners = {}, {}, {}
    for item in (*ITEMS, *PROVINCIAL_ITEMS):
        item_id = uuid5(NAMESPACE_URL, item["code"])
        rows[item["code"]] = {"item_id": str(item_id), **item}
        facts[item_id] = ItemFacts(
            item_id=item_id, list_id=uuid5(NAMESPACE_URL, "demo-list"), version=1,
            code=item["code"], name=item["name"], item_category=item["item_category"],
            allowed_methods=frozenset(Method(m) for m in item["allowed_methods"]),
            subject_types=tuple(item["subject_types"]),
            subject_tags=tuple(item["subject_tags"]),
            required_qualification=item["required_qualification"],
        )  # fmt: skip
        named = (department_type_of(d) for d in item.get("partner_departments", []))
        partners[item_id] = frozenset(d for d in named if d is not None)
    return rows, facts, partners


@pytest.mark.parametrize("day", [date(2026, 3, 1), date(2026, 12, 4), date(2026, 12, 31)])
def test_every_demo_batch_keeps_planning_s_batch_rules_and_invites_the_partner(day):
    from shuangsui.planning.api.batches_models import BatchIn
    from shuangsui.planning.domain.batch_records import invitations_for
    from shuangsui.planning.domain.batch_values import OrgFacts, PlanFacts
    from shuangsui.planning.domain.batches import check_draft

    rows, facts, partners = item_facts()
    lead = OrgFacts(uuid5(NAMESPACE_URL, "lead"), f"{CITY}-AMR", "city", CITY, "market_supervision")
    partner = OrgFacts(
        uuid5(NAMESPACE_URL, "partner"), partner_code(CITY), "city", CITY, PARTNER_DEPARTMENT
    )
    plan = PlanFacts(uuid5(NAMESPACE_URL, "plan"), lead.org_id, day.year)

    for body in batch_drafts(CITY, str(partner.org_id), rows, day):
        draft = BatchIn.model_validate(body).draft()
        breaches = check_draft(
            draft, plan=plan, lead=lead, items=facts, participants={partner.org_id: partner}
        )
        assert breaches == [], body["name"]
        batch_items = [facts[i] for i in draft.item_ids]
        invited, refused = invitations_for(draft, lead, batch_items, partners, [partner])
        assert refused == []
        if draft.participant_org_ids:
            assert [i.org_id for i in invited] == [partner.org_id], "R20: the partner is asked"


def test_the_demo_policies_are_valid_and_every_demo_batch_keeps_the_one_that_governs_it():
    from shuangsui.planning.api.policies import PolicyIn
    from shuangsui.planning.domain.policies import (
        Holder,
        PolicyKey,
        check_batch_ratios,
        validate_policy,
    )
    from shuangsui.planning.domain.population import parse_ratio

    rows, _, _ = item_facts()
    key_item = UUID(rows[KEY_ITEM]["item_id"])

    def policy(classes, item_id=None):
        key = PolicyKey(Holder.province, 2026, province="33", item_id=item_id)
        return PolicyIn.model_validate({"classes": classes}).to_policy(key)

    province, key = policy(PROVINCE_POLICY), policy(KEY_ITEM_POLICY, key_item)
    assert validate_policy(province) == validate_policy(key) == []
    assert province.classes != key.classes, "two distinct policies"
    for body in batch_drafts(CITY, str(uuid5(NAMESPACE_URL, "partner")), rows, date(2026, 5, 1)):
        governing = key if str(key_item) in body["item_ids"] else province
        ratios = {c: parse_ratio(v) for c, v in body["quantity"].items()}
        assert check_batch_ratios(governing, ratios, {}) == [], body["name"]
