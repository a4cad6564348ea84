"""Batches at their edges, from a review of the batch API: what a draft reveals and to whom,
writes racing a delete, a cancellation that the batch outgrew, forged cursors, exhausted codes,
partners asked again when the terms move, and inputs that used to slip through — each against
real PostgreSQL and NATS."""

import base64
import json
import uuid

import pytest
from planning_testkit import (
    BATCHES,
    GENERAL,
    JOINT,
    PLANS,
    SECOND,
    add_batch,
    batch_body,
    new_plan,
    plan_step,
    publish,
)

YEAR = 2096


@pytest.fixture
async def api(service_client, test_catalogue):
    return await service_client("planning")


@pytest.fixture
def world(batch_world):
    return batch_world


async def test_publishing_an_adjustment_whose_cancelled_batch_is_now_drawing_is_a_409_not_500(
    api, world, planning_rows, ledger
):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()
    await publish(api, world, plan)
    v2 = await plan_step(api, world, plan["plan_id"], 1, "adjust", "owner",
                         json={"adjustment_reason": "撤销第一批"})  # fmt: skip
    assert v2.status_code == 201, v2.text
    url = f"{BATCHES}/{batch['batch_id']}"
    etag = (await api.get(url, headers=world["owner"])).headers["ETag"]
    cancel = await api.post(f"{url}:cancel", json={"reason": "并入联合检查"},
                            headers={**world["owner"], "If-Match": etag})  # fmt: skip
    assert cancel.status_code == 200, cancel.text
    # Meanwhile sampling commits the draw (published → drawing, DOMAIN §5.2).
    await planning_rows("UPDATE batches SET status = 'drawing' WHERE batch_id = $1 "
                        "RETURNING batch_id", uuid.UUID(batch["batch_id"]))  # fmt: skip
    for action, who in (("submit", "owner"), ("file", "superior")):
        assert (await plan_step(api, world, plan["plan_id"], 2, action, who)).status_code == 200

    published = await plan_step(api, world, plan["plan_id"], 2, "publish", "owner")

    assert published.status_code == 409, published.text
    assert published.json()["type"].endswith("/batch-transition")


async def test_an_inspector_of_the_lead_org_cannot_read_a_draft_batch(api, world):
    plan = await new_plan(api, world, YEAR)
    batch = (await add_batch(api, plan, world["owner"])).json()

    plan_seen = await api.get(f"{PLANS}/{plan['plan_id']}", headers=world["inspector"])
    batch_seen = await api.get(f"{BATCHES}/{batch['batch_id']}", headers=world["inspector"])
    listed = await api.get(BATCHES, params={"plan_id": plan["plan_id"]},
                           headers=world["inspector"])  # fmt: skip

    assert plan_seen.status_code == 404  # batches follow their plan (plans_access.py)
    assert listed.json()["items"] == []  # the list agrees
    assert batch_seen.status_code == 404


async def test_only_the_partner_admin_of_an_invited_org_reads_the_draft(api, world):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(JOINT)], methods=["on_site"],
        joint_kind="cross_department", participant_org_ids=[str(world["partner"])],
    )  # fmt: skip
    assert created.status_code == 201, created.text

    seen = await api.get(f"{BATCHES}/{created.json()['batch_id']}",
                         headers=world["partner_inspector"])  # fmt: skip

    assert seen.status_code == 404


def _cursor(position):
    raw = json.dumps(position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_an_edited_cursor_is_an_invalid_cursor_problem(api):
    forged = _cursor({"window_start": "not-a-date", "batch_id": str(uuid.uuid4())})

    answer = await api.get(BATCHES, params={"cursor": forged})

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_an_internal_joint_batch_cannot_enrol_another_bureau_without_its_consent(api, world):
    plan = await new_plan(api, world, YEAR)

    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(GENERAL), str(SECOND)], joint_kind="internal",
        participant_org_ids=[str(world["sibling_org"])],
    )  # fmt: skip

    # Either refused, or the sibling is asked (an invitation) before the plan can be submitted.
    assert created.status_code == 422 or created.json()["invitations"] != [], created.text


async def test_a_partner_is_asked_again_when_the_lead_moves_the_window_it_confirmed(api, world):
    plan = await new_plan(api, world, YEAR)
    joint = {"item_ids": [str(JOINT)], "methods": ["on_site"], "joint_kind": "cross_department",
             "participant_org_ids": [str(world["partner"])]}  # fmt: skip
    created = await add_batch(api, plan, world["owner"], **joint)
    url = f"{BATCHES}/{created.json()['batch_id']}"
    confirmed = await api.post(
        f"{url}/invitations/{world['partner']}:respond",
        json={"accept": True, "item_ids": [str(JOINT)]},
        headers={**world["partner_admin"], "If-Match": created.headers["ETag"]},
    )
    assert confirmed.status_code == 200, confirmed.text

    moved = await api.put(
        url, json=batch_body("330106", YEAR, window_start=f"{YEAR}-11-01",
                             window_end=f"{YEAR}-12-31", **joint),
        headers={**world["owner"], "If-Match": confirmed.headers["ETag"]},
    )  # fmt: skip

    assert moved.status_code == 200, moved.text
    assert moved.json()["invitations"][0]["status"] == "pending"


async def test_a_workdays_entry_deadline_without_its_number_is_refused_naming_the_field(api, world):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(
        api, plan, world["owner"], entry_deadline_rule={"kind": "workdays_after_window_end"}
    )

    assert refused.status_code == 422, refused.text
    assert "entry_deadline_rule.workdays" in {e["field"] for e in refused.json()["errors"]}


async def test_a_key_supervision_batch_names_a_key_item_of_its_own(api, world):
    plan = await new_plan(api, world, YEAR)

    made_up = await add_batch(
        api, plan, world["owner"], origin="key_supervision",
        key_supervision_item_id=str(uuid.uuid4()),
    )  # fmt: skip

    assert made_up.status_code == 422, made_up.text
    assert "key_supervision_item_id" in {b["field"] for b in made_up.json()["breaches"]}


async def test_a_boolean_quantity_is_refused(api, world):
    plan = await new_plan(api, world, YEAR)

    refused = await add_batch(
        api, plan, world["owner"], quantity={"A": True, "B": "10%", "C": "30%", "D": "60%"}
    )

    assert refused.status_code == 422, refused.text


async def test_publishing_when_the_days_batch_codes_are_used_up_is_a_problem_not_500(
    api, catalogue_org, bearer, planning_rows, ledger
):
    from datetime import UTC, datetime

    from shuangsui.contracts.workdays import shanghai_date

    region = "330111"  # only this test's org is here: its code sequence is used up below
    city = await catalogue_org("city", "330100")
    county = await catalogue_org("county", region, parent=city)
    world = {
        "owner": bearer("department_admin", region=region, org=str(county), sub=f"o-{county}"),
        "superior": bearer("department_admin", region="330100", org=str(city), sub=f"s-{city}"),
    }
    plan = await new_plan(api, world, YEAR)
    batch = await add_batch(api, plan, world["owner"])
    assert batch.status_code == 201, batch.text
    for action, who in (("submit", "owner"), ("file", "superior")):
        assert (await plan_step(api, world, plan["plan_id"], 1, action, who)).status_code == 200
    await planning_rows(
        "INSERT INTO batch_code_sequences (region_code, day, last_sequence) VALUES ($1, $2, 9999) "
        "ON CONFLICT (region_code, day) DO UPDATE SET last_sequence = 9999 RETURNING day",
        region, shanghai_date(datetime.now(UTC)),
    )  # fmt: skip

    refused = await plan_step(api, world, plan["plan_id"], 1, "publish", "owner")

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


async def _waiting_on_a_lock(conn, timeout=10.0):
    import asyncio

    for _ in range(int(timeout / 0.05)):
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        if found:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never waited for the plan's lock")


@pytest.mark.parametrize("operation", ["update", "delete", "respond"])
async def test_a_batch_deleted_while_a_write_waits_is_a_404_not_500(api, world, stack, operation):
    import asyncio

    import asyncpg

    plan = await new_plan(api, world, YEAR)
    joint = {"item_ids": [str(JOINT)], "methods": ["on_site"], "joint_kind": "cross_department",
             "participant_org_ids": [str(world["partner"])]}  # fmt: skip
    created = await add_batch(api, plan, world["owner"], **joint)
    assert created.status_code == 201, created.text
    batch_id = created.json()["batch_id"]
    url = f"{BATCHES}/{batch_id}"
    etag = {"If-Match": created.headers["ETag"]}
    requests = {
        "update": lambda: api.put(url, json=batch_body("330106", YEAR, **joint),
                                  headers={**world["owner"], **etag}),
        "delete": lambda: api.delete(url, headers={**world["owner"], **etag}),
        "respond": lambda: api.post(f"{url}/invitations/{world['partner']}:respond",
                                    json={"accept": True, "item_ids": [str(JOINT)]},
                                    headers={**world["partner_admin"], **etag}),
    }  # fmt: skip
    conn = await asyncpg.connect(stack.database_url("planning"))
    try:
        # The lead's other request (a delete, a discard) holds the plan's rows meanwhile.
        holding = conn.transaction()
        await holding.start()
        await conn.execute(
            "SELECT 1 FROM plan_versions WHERE plan_id = $1 FOR UPDATE", uuid.UUID(plan["plan_id"])
        )
        waiting = asyncio.create_task(requests[operation]())
        watcher = await asyncpg.connect(stack.database_url("planning"))
        try:
            await _waiting_on_a_lock(watcher)
        finally:
            await watcher.close()
        await conn.execute("DELETE FROM batches WHERE batch_id = $1", uuid.UUID(batch_id))
        await holding.commit()
        answer = await waiting
    finally:
        await conn.close()

    assert answer.status_code == 404, answer.text


async def test_the_overlaps_of_a_published_batch_do_not_reveal_drafts_to_others(api, world):
    plan = await new_plan(api, world, YEAR)
    published = (await add_batch(api, plan, world["owner"])).json()
    await publish(api, world, plan)
    v2 = await plan_step(api, world, plan["plan_id"], 1, "adjust", "owner",
                         json={"adjustment_reason": "增加第二批"})  # fmt: skip
    assert v2.status_code == 201, v2.text
    draft = (await add_batch(api, v2.json(), world["owner"], name="第二批（草稿）")).json()
    assert [o["batch_id"] for o in draft["overlaps"]] == [published["batch_id"]]

    seen = {who: (await api.get(f"{BATCHES}/{published['batch_id']}", headers=world[who])).json()
            for who in ("sibling", "owner")}  # fmt: skip
    anonymous = (await api.get(f"{BATCHES}/{published['batch_id']}")).json()
    hidden = await api.get(f"{BATCHES}/{draft['batch_id']}")

    assert hidden.status_code == 404  # the draft itself is not public…
    assert [o["batch_id"] for o in seen["owner"]["overlaps"]] == [draft["batch_id"]]
    assert anonymous["overlaps"] == []  # …nor is it named in a public batch's warning
    assert seen["sibling"]["overlaps"] == []


async def test_a_published_joint_batch_does_not_show_who_answered_to_the_public(api, world):
    plan = await new_plan(api, world, YEAR)
    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(JOINT)], methods=["on_site"],
        joint_kind="cross_department", participant_org_ids=[str(world["partner"])],
    )  # fmt: skip
    url = f"{BATCHES}/{created.json()['batch_id']}"
    confirmed = await api.post(
        f"{url}/invitations/{world['partner']}:respond",
        json={"accept": True, "item_ids": [str(JOINT)]},
        headers={**world["partner_admin"], "If-Match": created.headers["ETag"]},
    )
    assert confirmed.status_code == 200, confirmed.text
    await publish(api, world, plan)

    public = await api.get(url)

    assert public.status_code == 200
    assert f"partner_admin-{world['partner']}" not in public.text


async def test_an_invited_partner_learns_nothing_of_the_leads_other_drafts(api, world):
    plan = await new_plan(api, world, YEAR)
    other = (await add_batch(api, plan, world["owner"], name="另一批草稿")).json()
    created = await add_batch(
        api, plan, world["owner"], item_ids=[str(JOINT)], methods=["on_site"],
        joint_kind="cross_department", participant_org_ids=[str(world["partner"])],
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert [o["batch_id"] for o in created.json()["overlaps"]] == [other["batch_id"]]

    seen = await api.get(f"{BATCHES}/{created.json()['batch_id']}",
                         headers=world["partner_admin"])  # fmt: skip

    assert seen.status_code == 200
    assert other["batch_id"] not in seen.text
