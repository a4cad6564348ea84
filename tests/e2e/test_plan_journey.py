"""End to end through the gateway: a county bureau's annual plan (年度抽查计划) from draft to an
adjusted, republished version, with a batch announced to sampling and a joint batch its partner
department confirms; and the refusals a planner meets on the way.

Journey: 西湖区 bureau plans next year with three batches, one of them joint with the city's
emergency management bureau (R20), which confirms its part; it submits, the city bureau files
(备案), it publishes, and every batch gets its public code and is announced as
`planning.batch.published.v1`. Then it adjusts the plan (R7): a new title and one batch
cancelled, submitted, filed and published again; the difference shows both.
"""

from __future__ import annotations

from typing import Any

import pytest
from journey_kit import (
    PLANNING,
    YEAR,
    add_batch,
    announced,
    batch_of,
    bearer,
    create_plan,
    draft_batch,
    etag_of,
    step,
)

LEAD, SUPERIOR, PARTNER = "330106-AMR", "330100-AMR", "330100-YJGL"
REFUSALS_LEAD = "330108-AMR"  # a plan of its own, so the refusals leave the journey alone


def test_a_county_plans_its_year_files_publishes_and_adjusts_it(
    platform, gateway, org, acting, items
):
    planner = acting("department_admin", LEAD)
    city = acting("department_admin", SUPERIOR)
    partner = acting("partner_admin", PARTNER)
    plan = create_plan(gateway, planner, f"西湖区市场监管局{YEAR}年度双随机抽查工作计划")
    assert (plan["status"], plan["version"], plan["level"]) == ("draft", 1, "county")
    assert plan["plan_code"].startswith(f"330106{YEAR}")

    routine = add_batch(gateway, planner, plan, draft_batch(items, "DEMO-07", "330106"))
    dropped = add_batch(gateway, planner, plan, draft_batch(
        items, "DEMO-08", "330106", methods=["documentary"],
        window_start=f"{YEAR}-07-01", window_end=f"{YEAR}-09-30"))  # fmt: skip
    joint = add_batch(gateway, planner, plan, draft_batch(
        items, "DEMO-11", "330106", joint_kind="cross_department",
        participant_org_ids=[org(PARTNER)["org_id"]], team_size=3,
        window_start=f"{YEAR}-09-01", window_end=f"{YEAR}-11-30"))  # fmt: skip
    [invitation] = joint["invitations"]
    assert invitation["status"] == "pending"

    confirmed = gateway.post(
        f"{PLANNING}/batches/{joint['batch_id']}/invitations/{invitation['org_id']}:respond",
        json={"accept": True, "item_ids": invitation["item_ids"]},
        headers={**partner, "If-Match": f'"{joint["revision"]}"'},
    )
    assert confirmed.status_code == 200, confirmed.text
    seen_by_partner = batch_of(gateway, partner, joint["batch_id"])
    assert seen_by_partner.status_code == 200, "the partner sees the batch it was invited to"
    assert seen_by_partner.json()["invitations"][0]["status"] == "confirmed"

    submitted = step(gateway, planner, plan, "submit")
    assert submitted["status"] == "submitted"
    filed = step(gateway, city, submitted, "file")
    assert (filed["status"], filed["filed_to_org_id"]) == ("filed", org(SUPERIOR)["org_id"])
    published = step(gateway, planner, filed, "publish")
    assert published["status"] == "published"

    for batch in (routine, dropped, joint):
        shown = batch_of(gateway, planner, batch["batch_id"]).json()
        assert shown["status"] == "published"
        assert shown["batch_code"].startswith("330106"), "region(6) + date(8) + sequence(4)"
        assert len(shown["batch_code"]) == 18
    event = announced(
        platform.settings.nats_port, "planning.batch.published.v1", routine["batch_id"]
    )
    assert event["data"]["plan_code"] == plan["plan_code"]
    assert (
        event["data"]["batch_code"]
        == batch_of(gateway, planner, routine["batch_id"]).json()["batch_code"]
    )

    adjustment = step(
        gateway, planner, published, "adjust",
        adjustment_reason="个体工商户年报检查并入全年专项 · e2e",
        title=f"西湖区市场监管局{YEAR}年度双随机抽查工作计划（调整）",
    )  # fmt: skip
    assert (adjustment["version"], adjustment["status"]) == (2, "draft")
    cancelled = gateway.post(
        f"{PLANNING}/batches/{dropped['batch_id']}:cancel",
        json={"reason": "并入全年专项 · e2e"},
        headers={
            **planner,
            "If-Match": batch_of(gateway, planner, dropped["batch_id"]).headers["etag"],
        },
    )
    assert cancelled.status_code == 200, cancelled.text
    again = step(gateway, planner, adjustment, "submit")
    again = step(gateway, city, again, "file")
    again = step(gateway, planner, again, "publish")
    assert again["status"] == "published"

    diff = gateway.get(f"{PLANNING}/plans/{plan['plan_id']}/versions/2/diff", headers=planner)
    assert diff.status_code == 200, diff.text
    changes = diff.json()
    assert [f["field"] for f in changes["fields"]] == ["title"]
    assert changes["batches"]["cancelled"] == [dropped["batch_id"]]
    assert batch_of(gateway, planner, dropped["batch_id"]).json()["status"] == "cancelled"
    gone = announced(
        platform.settings.nats_port, "planning.batch.cancelled.v1", dropped["batch_id"]
    )
    assert gone["data"]["reason"] == "并入全年专项 · e2e"
    assert batch_of(gateway, planner, routine["batch_id"]).json()["status"] == "published"
    first = gateway.get(f"{PLANNING}/plans/{plan['plan_id']}", params={"version": 1})
    assert first.json()["status"] == "superseded", "the public sees the version it replaced"


# ---- refusals ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def draft_plan(gateway, acting) -> dict[str, Any]:
    return create_plan(gateway, acting("department_admin", REFUSALS_LEAD), "滨江区 e2e 计划")


def test_another_province_cannot_see_or_touch_a_draft_plan(platform, gateway, draft_plan):
    guangdong = bearer(platform.token(roles=["provincial_admin"], region="440000"))
    plan_path = f"{PLANNING}/plans/{draft_plan['plan_id']}"

    peek = gateway.get(plan_path, headers=guangdong)
    submit = gateway.post(
        f"{plan_path}/versions/1:submit", headers={**guangdong, "If-Match": '"1"'}
    )

    assert peek.status_code in (403, 404)
    assert draft_plan["title"] not in peek.text
    assert submit.status_code in (403, 404)


def test_a_step_under_a_stale_etag_is_refused_and_changes_nothing(gateway, acting, draft_plan):
    planner = acting("department_admin", REFUSALS_LEAD)
    stale = etag_of(gateway, planner, draft_plan)
    edited = gateway.patch(
        f"{PLANNING}/plans/{draft_plan['plan_id']}/versions/1",
        json={"description": "e2e 编辑"},
        headers={**planner, "If-Match": stale},
    )
    assert edited.status_code == 200, edited.text

    late = gateway.post(
        f"{PLANNING}/plans/{draft_plan['plan_id']}/versions/1:submit",
        headers={**planner, "If-Match": stale},
    )

    assert late.status_code == 412, late.text
    after = gateway.get(f"{PLANNING}/plans/{draft_plan['plan_id']}", headers=planner).json()
    assert after["status"] == "draft"


def test_a_batch_with_a_team_of_one_is_refused_naming_team_size(gateway, acting, items, draft_plan):
    planner = acting("department_admin", REFUSALS_LEAD)
    body = draft_batch(items, "DEMO-07", "330108", team_size=1)

    answer = gateway.post(
        f"{PLANNING}/plans/{draft_plan['plan_id']}/versions/1/batches", json=body, headers=planner
    )

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "team_size" in [e["field"] for e in answer.json()["errors"]]
    listed = gateway.get(
        f"{PLANNING}/batches", params={"plan_id": draft_plan["plan_id"]}, headers=planner
    )
    assert listed.json()["items"] == [], "nothing half-written"
