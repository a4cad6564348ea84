"""Batches through the API on real PostgreSQL and NATS: drafted in a draft plan version, checked
against the catalogue and the risk-ratio policies, published with the plan (code, event with all
a draw needs), cancelled only through an adjustment (R7), refused with the rule named and nothing
written; who may see and write them."""

import re
import uuid

import pytest
from planning_testkit import (
    BATCHES,
    GENERAL,
    JOINT,
    KEY_FOOD,
    PLANS,
    SECOND,
    SPECIAL,
    add_batch,
    batch_body,
    new_plan,
    plan_step,
    publish,
)

YEAR = 2098  # a year of these tests; each test has its own orgs, so its own plans


@pytest.fixture
async def api(service_client, test_catalogue):
    return await service_client("planning")


@pytest.fixture
def world(batch_world):
    return batch_world


async def batches_of(api, plan_id, headers):
    listed = await api.get(BATCHES, params={"plan_id": plan_id}, headers=headers)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


def announced(events, batch_id):
    return [e for e in events if e["subject"] == batch_id]


async def test_a_batch_is_drafted_then_published_with_its_plan_carrying_all_a_draw_needs(
    api, world, ledger
):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(
        api, plan, world["owner"], exclusion_policy=[{"reason": "INSPECTED_RECENTLY", "months": 12}]
    )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (batch["status"], batch["batch_code"], batch["added_in_version"]) == ("draft", None, 1)
    assert batch["quantity"] == {"A": "3%", "B": "10%", "C": "30%", "D": "60%"}
    assert created.headers["ETag"] == f'"{batch["revision"]}"'
    read = await api.get(f"{BATCHES}/{batch['batch_id']}", headers=world["owner"])
    assert read.json()["scope"]["region_codes"] == ["330106"]

    published_plan = await publish(api, world, plan)

    done = (await api.get(f"{BATCHES}/{batch['batch_id']}")).json()  # public from now on
    assert done["status"] == "published"
    assert re.fullmatch(r"330106\d{8}\d{4}", done["batch_code"])
    assert done["published_in_version"] == 1
    outbox = ledger("planning")
    [event] = announced(await outbox.announced("planning.batch.published.v1"), batch["batch_id"])
    data = event["data"]
    assert data["batch_code"] == done["batch_code"]
    assert data["plan_code"] == published_plan["plan_code"]
    assert [(s["stratum"], s["ratio"]) for s in data["strata"]] == [
        ("A", "3/100"), ("B", "1/10"), ("C", "3/10"), ("D", "3/5")
    ]  # fmt: skip
    assert [i["code"] for i in data["items"]] == ["T-GEN-001"]
    assert data["risk_ratio_policies"] == [
        {"item_id": str(GENERAL), "policy_id": None, "source": "platform_default"}
    ]
    assert data["exclusion_policy"] == [
        {"reason": "INSPECTED_RECENTLY", "months": 12, "note": None}
    ]
    assert (data["team_size"], data["selection_mode"], data["org_level"]) == (
        2, "bureau_wide", "county"
    )  # fmt: skip
    [plan_event] = [
        e for e in await outbox.announced("planning.plan.published.v1")
        if e["subject"] == plan["plan_id"]
    ]  # fmt: skip
    assert [(b["batch_id"], b["batch_code"]) for b in plan_event["data"]["batches"]] == [
        (batch["batch_id"], done["batch_code"])
    ]


BROKEN = [
    ({"item_ids": [str(uuid.uuid4())]}, "batch-item-not-in-force", "item_ids[0]"),
    ({"window_start": f"{YEAR - 1}-12-01"}, "batch-window-outside-plan-year", "window_start"),
    ({"quantity": {"A": "150%", "B": "10%", "C": "30%", "D": "60%"}}, "batch-ratio-invalid",
     "quantity.A"),
    ({"team_size": 1}, "batch-team-size-too-small", "team_size"),
    ({"item_ids": [str(KEY_FOOD), str(SPECIAL)]}, "batch-lead-qualification-conflict",
     "item_ids"),
    ({"scope": {"region_codes": ["330105"]}}, "batch-scope-region-outside-jurisdiction",
     "scope.region_codes[0]"),
    ({"item_ids": [str(KEY_FOOD)], "methods": ["online"]}, "batch-method-not-allowed-by-item",
     "methods[0]"),
    ({"scope": {"region_codes": ["330106"], "subject_types": ["enterprise"]}},
     "batch-undirected-with-conditions", "scope.subject_types"),
    ({"joint_kind": "cross_department", "participant_org_ids": []},
     "batch-cross-department-needs-partner", "participant_org_ids"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "rule", "field"), BROKEN)
async def test_a_batch_breaking_a_rule_is_refused_naming_it_and_nothing_is_stored(
    api, world, changes, rule, field
):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(api, plan, world["owner"], **changes)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/batch-refused")
    assert (rule, field) in {(b["rule"], b["field"]) for b in problem["breaches"]}
    assert field in {e["field"] for e in problem["errors"]}
    assert await batches_of(api, plan["plan_id"], world["owner"]) == []


async def test_items_needing_different_qualifications_come_with_the_split_to_make(api, world):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(
        api, plan, world["owner"], item_ids=[str(KEY_FOOD), str(SPECIAL)], methods=["on_site"]
    )

    [breach] = [
        b for b in refused.json()["breaches"] if b["rule"].endswith("qualification-conflict")
    ]
    assert {(g["lead_qualification"], tuple(g["item_ids"])) for g in breach["proposed_split"]} == {
        ("food_safety", (str(KEY_FOOD),)), ("special_equipment", (str(SPECIAL),))
    }  # fmt: skip


@pytest.mark.parametrize(
    ("quantity", "rule", "risk_class"),
    [
        ({"A": "50%", "B": "50%", "C": "60%", "D": "60%"}, "ratio_above_policy_max", "A"),
        ({"A": "3%", "B": "1%", "C": "30%", "D": "60%"}, "ratio_below_policy_min", "B"),
    ],
)
async def test_a_ratio_outside_its_policy_is_refused_naming_rule_and_class(
    api, world, quantity, rule, risk_class
):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(api, plan, world["owner"], quantity=quantity)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/risk-ratio-policy-breached")
    assert (rule, risk_class) in {(b["rule"], b["risk_class"]) for b in refused.json()["breaches"]}
    assert await batches_of(api, plan["plan_id"], world["owner"]) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"methods": ["teleport"]}, "methods"),
        ({"selection_mode": "lottery"}, "selection_mode"),
        ({"window_end": "31/06/2098"}, "window_end"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_malformed_input_is_a_validation_problem_naming_the_field(api, world, changes, field):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(api, plan, world["owner"], **changes)

    assert refused.status_code == 422
    assert any(field in e["field"] for e in refused.json()["errors"]), refused.json()


async def test_a_plan_is_submitted_only_with_a_batch(api, world):
    plan = await new_plan(api, world, YEAR)

    refused = await plan_step(api, world, plan["plan_id"], 1, "submit", "owner")

    assert refused.status_code == 409
    assert "at least one batch" in refused.json()["detail"]


async def test_only_the_owning_department_writes_and_drafts_stay_private(api, world):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()
    url = f"{BATCHES}/{batch['batch_id']}"
    etag = {"If-Match": f'"{batch["revision"]}"'}
    body = batch_body("330106", YEAR, name="改名")

    by_sibling = await add_batch(api, plan, world["sibling"])
    by_superior = await api.put(url, json=body, headers={**world["superior"], **etag})
    by_other_province = await add_batch(api, plan, world["other_province"])
    seen = {who: (await api.get(url, headers=world[who])).status_code
            for who in ("owner", "superior", "sibling", "anonymous", "stranger_admin")}  # fmt: skip

    assert by_sibling.status_code == 404  # a draft it cannot see
    assert by_superior.status_code in (403, 404)
    assert by_other_province.status_code == 403
    assert seen == {"owner": 200, "superior": 404, "sibling": 404, "anonymous": 404,
                    "stranger_admin": 404}  # fmt: skip
    assert (await api.get(url, headers=world["owner"])).json()["name"] == batch["name"]


async def test_a_draft_batch_changes_only_with_its_current_etag(api, world):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(api, plan, world["owner"])
    url = f"{BATCHES}/{created.json()['batch_id']}"
    body = batch_body("330106", YEAR, name="第二批")

    missing = await api.put(url, json=body, headers=world["owner"])
    changed = await api.put(
        url, json=body, headers={**world["owner"], "If-Match": created.headers["ETag"]}
    )
    stale = await api.put(
        url, json=body, headers={**world["owner"], "If-Match": created.headers["ETag"]}
    )

    assert missing.status_code == 428
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "第二批"
    assert changed.headers["ETag"] != created.headers["ETag"]
    assert stale.status_code == 412
    deleted = await api.delete(url, headers={**world["owner"], "If-Match": changed.headers["ETag"]})
    assert deleted.status_code == 204
    assert (await api.get(url, headers=world["owner"])).status_code == 404


async def test_a_published_batch_is_never_edited_only_cancelled_by_an_adjustment(
    api, world, ledger
):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()
    await publish(api, world, plan)
    url = f"{BATCHES}/{batch['batch_id']}"

    async def current():
        answer = await api.get(url, headers=world["owner"])
        return answer.json(), {**world["owner"], "If-Match": answer.headers["ETag"]}

    published, headers = await current()
    edited = await api.put(url, json=batch_body("330106", YEAR), headers=headers)
    deleted = await api.delete(url, headers=headers)
    too_early = await api.post(f"{url}:cancel", json={"reason": "不再需要"}, headers=headers)
    assert (edited.status_code, deleted.status_code, too_early.status_code) == (409, 409, 409)
    assert "adjust" in too_early.json()["detail"]

    adjusted = await plan_step(api, world, plan["plan_id"], 1, "adjust", "owner")
    assert adjusted.status_code == 422  # an adjustment states its reason
    current_plan = await api.get(f"{PLANS}/{plan['plan_id']}", headers=world["owner"])
    v2 = await api.post(
        f"{PLANS}/{plan['plan_id']}/versions/1:adjust", json={"adjustment_reason": "撤销第一批"},
        headers={**world["owner"], "If-Match": current_plan.headers["ETag"]},
    )  # fmt: skip
    assert v2.status_code == 201, v2.text
    _, headers = await current()
    no_reason = await api.post(f"{url}:cancel", json={"reason": "  "}, headers=headers)
    assert no_reason.status_code == 422
    pending = await api.post(f"{url}:cancel", json={"reason": "并入联合检查"}, headers=headers)
    assert pending.status_code == 200, pending.text
    assert (pending.json()["status"], pending.json()["cancelled_in_version"]) == ("published", 2)
    twice = await api.post(f"{url}:cancel", json={"reason": "再撤一次"},
                           headers={**world["owner"], "If-Match": pending.headers["ETag"]})  # fmt: skip
    assert twice.status_code == 409

    # Discarding the adjustment withdraws its cancellation; a new one carries it through.
    assert (await plan_step(api, world, plan["plan_id"], 2, "discard", "owner")).status_code == 200
    withdrawn, _ = await current()
    assert (withdrawn["status"], withdrawn["cancelled_in_version"]) == ("published", None)
    current_plan = await api.get(
        f"{PLANS}/{plan['plan_id']}", params={"version": 1}, headers=world["owner"]
    )
    v3 = await api.post(
        f"{PLANS}/{plan['plan_id']}/versions/1:adjust", json={"adjustment_reason": "撤销第一批"},
        headers={**world["owner"], "If-Match": current_plan.headers["ETag"]},
    )  # fmt: skip
    assert v3.status_code == 201, v3.text
    _, headers = await current()
    assert (
        await api.post(f"{url}:cancel", json={"reason": "并入联合检查"}, headers=headers)
    ).status_code == 200
    await publish(api, world, v3.json())

    gone, _ = await current()
    assert (gone["status"], gone["cancelled_from"], gone["cancel_reason"]) == (
        "cancelled", "published", "并入联合检查"
    )  # fmt: skip
    outbox = ledger("planning")
    [event] = announced(await outbox.announced("planning.batch.cancelled.v1"), batch["batch_id"])
    assert (event["data"]["cancelled_from"], event["data"]["reason"]) == (
        "published",
        "并入联合检查",
    )
    diff = await api.get(f"{PLANS}/{plan['plan_id']}/versions/3/diff")
    assert diff.json()["batches"]["cancelled"] == [batch["batch_id"]]
    assert published["batch_code"] == gone["batch_code"]  # kept in history


async def test_a_cross_department_batch_waits_for_its_partner_who_sees_only_what_it_is_invited_to(
    api, world, ledger
):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(JOINT)], methods=["on_site"],
        joint_kind="cross_department", participant_org_ids=[str(world["partner"])],
    )  # fmt: skip
    assert created.status_code == 201, created.text
    batch = created.json()
    assert [(i["org_id"], i["item_ids"], i["status"]) for i in batch["invitations"]] == [
        (str(world["partner"]), [str(JOINT)], "pending")
    ]
    waiting = await plan_step(api, world, plan["plan_id"], 1, "submit", "owner")
    assert waiting.status_code == 409
    assert "confirmation" in waiting.json()["detail"]

    url = f"{BATCHES}/{batch['batch_id']}"
    respond = f"{url}/invitations/{world['partner']}:respond"
    seen_by_partner = await api.get(url, headers=world["partner_admin"])
    invited = await api.get(BATCHES, params={"invited_org_id": str(world["partner"])},
                            headers=world["partner_admin"])  # fmt: skip
    seen_by_stranger = await api.get(url, headers=world["stranger_admin"])
    as_stranger = await api.post(respond, json={"accept": True, "item_ids": [str(JOINT)]},
                                 headers={**world["stranger_admin"], "If-Match": created.headers["ETag"]})  # fmt: skip
    wrong_items = await api.post(respond, json={"accept": True, "item_ids": [str(GENERAL)]},
                                 headers={**world["partner_admin"], "If-Match": created.headers["ETag"]})  # fmt: skip
    assert seen_by_partner.status_code == 200
    assert [b["batch_id"] for b in invited.json()["items"]] == [batch["batch_id"]]
    assert seen_by_stranger.status_code == 404
    assert as_stranger.status_code == 403
    assert wrong_items.status_code == 422
    assert "item_ids" in {e["field"] for e in wrong_items.json()["errors"]}

    confirmed = await api.post(respond, json={"accept": True, "item_ids": [str(JOINT)]},
                               headers={**world["partner_admin"], "If-Match": created.headers["ETag"]})  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["invitations"][0]["status"] == "confirmed"
    await publish(api, world, plan)

    [event] = announced(await ledger("planning").announced("planning.batch.published.v1"),
                        batch["batch_id"])  # fmt: skip
    assert event["data"]["joint_kind"] == "cross_department"
    assert [p["org_id"] for p in event["data"]["participants"]] == [str(world["partner"])]


async def test_a_declined_invitation_keeps_the_plan_from_being_submitted(api, world):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(JOINT)], methods=["on_site"],
        joint_kind="cross_department", participant_org_ids=[str(world["partner"])],
    )  # fmt: skip
    respond = f"{BATCHES}/{created.json()['batch_id']}/invitations/{world['partner']}:respond"
    headers = {**world["partner_admin"], "If-Match": created.headers["ETag"]}

    no_reason = await api.post(respond, json={"accept": False}, headers=headers)
    declined = await api.post(respond, json={"accept": False, "reason": "本季度无检查力量"},
                              headers=headers)  # fmt: skip

    assert no_reason.status_code == 422
    assert declined.json()["invitations"][0]["status"] == "declined"
    refused = await plan_step(api, world, plan["plan_id"], 1, "submit", "owner")
    assert refused.status_code == 409


async def test_an_internal_joint_batch_combines_items_and_overlaps_are_warned(api, world):
    plan = await new_plan(api, world, YEAR)
    first = await add_batch(api, plan, world["owner"])
    internal = await add_batch(
        api, plan, world["owner"], item_ids=[str(GENERAL), str(SECOND)], joint_kind="internal",
        window_start=f"{YEAR}-06-01", window_end=f"{YEAR}-08-31",
    )  # fmt: skip
    apart = await add_batch(
        api, plan, world["owner"], window_start=f"{YEAR}-10-01", window_end=f"{YEAR}-11-30"
    )

    assert internal.status_code == 201, internal.text
    assert internal.json()["invitations"] == []
    [overlap] = internal.json()["overlaps"]
    assert overlap["batch_id"] == first.json()["batch_id"]
    assert (overlap["from_day"], overlap["to_day"]) == (f"{YEAR}-06-01", f"{YEAR}-06-30")
    assert apart.json()["overlaps"] == []
    read = await api.get(f"{BATCHES}/{first.json()['batch_id']}", headers=world["owner"])
    assert [o["batch_id"] for o in read.json()["overlaps"]] == [internal.json()["batch_id"]]


async def test_a_directed_batch_names_its_conditions(api, world):
    plan = await new_plan(api, world, YEAR)

    directed = await add_batch(
        api, plan, world["owner"], draw_mode="directed",
        scope={"region_codes": ["330106"], "subject_types": ["enterprise"], "risk_classes": ["C", "D"]},
        quantity={"C": "30%", "D": 5},
    )  # fmt: skip
    bare = await add_batch(api, plan, world["owner"], draw_mode="directed")

    assert directed.status_code == 201, directed.text
    assert directed.json()["quantity"] == {"C": "30%", "D": 5}
    assert bare.status_code == 422
    assert "batch-directed-without-conditions" in {b["rule"] for b in bare.json()["breaches"]}


async def test_a_batch_that_no_longer_keeps_its_policy_stops_the_publication_and_nothing_is_published(
    api, world, ledger
):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()
    for action, who in (("submit", "owner"), ("file", "superior")):
        assert (await plan_step(api, world, plan["plan_id"], 1, action, who)).status_code == 200
    # The department tightens its own policy after filing: class B now needs 15% at least.
    tighter = {"classes": {
        "A": {"min_ratio": "0%", "max_ratio": "5%", "frequency_per_year": 1},
        "B": {"min_ratio": "15%", "max_ratio": "20%", "frequency_per_year": 1},
        "C": {"min_ratio": "20%", "max_ratio": "60%", "frequency_per_year": 2},
        "D": {"min_ratio": "60%", "max_ratio": "100%", "frequency_per_year": 2},
    }}  # fmt: skip
    policy = await api.put(f"/api/v1/planning/policies/{YEAR}/{world['county']}", json=tighter,
                           headers=world["owner"])  # fmt: skip
    assert policy.status_code in (200, 201), policy.text

    refused = await plan_step(api, world, plan["plan_id"], 1, "publish", "owner")

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/risk-ratio-policy-breached")
    still = (await api.get(f"{BATCHES}/{batch['batch_id']}", headers=world["owner"])).json()
    assert (still["status"], still["batch_code"]) == ("draft", None)
    plan_now = (await api.get(f"{PLANS}/{plan['plan_id']}", headers=world["owner"])).json()
    assert plan_now["status"] == "filed"
    outbox = ledger("planning")
    assert announced(await outbox.announced("planning.batch.published.v1"), batch["batch_id"]) == []


async def test_superiors_list_a_departments_batches_from_submission_on_and_another_province_never(
    api, world, bearer
):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()
    province = bearer("provincial_admin")
    other_province = bearer("provincial_admin", region="440000")

    async def listed(headers):
        found = await batches_of(api, plan["plan_id"], headers)
        return [b["batch_id"] for b in found]

    before = {w: await listed(h) for w, h in
              (("superior", world["superior"]), ("province", province))}  # fmt: skip
    assert (await plan_step(api, world, plan["plan_id"], 1, "submit", "owner")).status_code == 200
    after = {w: await listed(h) for w, h in
             (("superior", world["superior"]), ("province", province))}  # fmt: skip

    assert before == {"superior": [], "province": []}
    assert after == {"superior": [batch["batch_id"]], "province": [batch["batch_id"]]}
    refused = await api.get(BATCHES, params={"plan_id": plan["plan_id"]}, headers=other_province)
    assert refused.status_code == 403
    assert await listed(world["sibling"]) == []
