"""A planner previews a stored batch (POST /batches/{id}:preview): planning checks the batch
again, asks the registry over HTTP and answers with the subjects seeded there
(`batch_preview_testkit`) per stratum and the draw's expected sample; a batch of items the
registry does not hold is the planner's 422, naming the item; a batch they may not read is 404.

The registry's items are put in planning's catalogue as a list of province 33 in force from
2100 (the last plan year), a year no other test plans in, so the test catalogue of
`planning_testkit` stays the list in force for theirs.
"""

import json
import uuid
from datetime import date

import pytest
from batch_preview_testkit import DONGYANG, YIWU, seed_registry
from planning_testkit import BATCHES, GENERAL, PLANS, add_batch, list_id_of

YEAR = 2100
PREVIEW_LIST = uuid.UUID("0b5e7a1c-2d3f-4e5a-9b6c-7d8e9f0a2100")


@pytest.fixture(scope="module")
async def items(stack, service_env, mint_token, test_catalogue):
    """The registry's seeded items, in force for planning's batches of 2100 too."""
    import asyncpg

    ids = await seed_registry(stack, service_env, mint_token)
    conn = await asyncpg.connect(stack.database_url("planning"))
    try:
        await conn.execute(
            "INSERT INTO catalogue_lists (list_id, level, province, version, effective_from, "
            "item_ids, adopted_list_id, based_on_list_id, published_at) "
            "VALUES ($1, 'provincial', '330000', 2100, $2, $3, NULL, NULL, now())",
            PREVIEW_LIST, date(YEAR, 1, 1), list(ids.values()),
        )  # fmt: skip
        for name, item_id in ids.items():
            # The test catalogue's general item, as this list's item `name`.
            await conn.execute(
                "INSERT INTO catalogue_items SELECT $1, $2, list_level, 2100, province, $3, "
                "origin, $4, name, business_line, item_category, allowed_methods, $5::jsonb, "
                "required_qualification, min_ratio, lead_department, partner_departments, "
                "joint, inspection_level, status, version "
                "FROM catalogue_items WHERE list_id = $6 AND item_id = $7",
                PREVIEW_LIST, item_id, date(YEAR, 1, 1), f"T-PV-{name}",
                json.dumps({"subject_types": ["enterprise", "individual", "cooperative"],
                            "subject_tags": []}),
                list_id_of("330000"), GENERAL,
            )  # fmt: skip
    finally:
        await conn.close()
    return ids


@pytest.fixture
async def bureau(catalogue_org, bearer):
    """Jinhua's city bureau (义乌 and 东阳 are its counties) and another city's."""
    jinhua = await catalogue_org("city", "330700")
    other = await catalogue_org("city", "330100")
    return {
        "owner": bearer("department_admin", region="330700", org=str(jinhua), sub=f"a-{jinhua}"),
        "other": bearer("department_admin", region="330100", org=str(other), sub=f"a-{other}"),
    }


async def batch_in_a_new_plan(api, headers, year=YEAR, **batch):
    created = await api.post(PLANS, json={"year": year, "title": "计划"}, headers=headers)
    assert created.status_code == 201, created.text
    added = await add_batch(api, created.json(), headers, **batch)
    assert added.status_code == 201, added.text
    return added.json()["batch_id"]


async def preview(api, batch_id, headers):
    return await api.post(f"{BATCHES}/{batch_id}:preview", headers=headers)


async def test_a_stored_batch_is_previewed_with_the_registrys_counts(planning, items, bureau):
    batch_id = await batch_in_a_new_plan(
        planning, bureau["owner"], item_ids=[str(items["food"])],
        scope={"region_codes": [YIWU, DONGYANG]},
    )  # fmt: skip

    answer = await preview(planning, batch_id, bureau["owner"])

    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["exact"] is True
    assert [(s["stratum"], s["population"]) for s in found["strata"]] == [
        ("A", 2), ("B", 3), ("C", 1), ("D", 1),
    ]  # fmt: skip
    # The batch's 3%, 10%, 30% and 60%: ceil of each is 1.
    assert [(s["ratio"], s["expected_sample"]) for s in found["strata"]] == [
        ("3/100", 1), ("1/10", 1), ("3/10", 1), ("3/5", 1),
    ]  # fmt: skip
    assert (found["population"], found["expected_sample"]) == (7, 4)
    assert found["method"] == "index"
    assert [(c["region_code"], c["total"]) for c in found["counts"]] == [(YIWU, 5), (DONGYANG, 2)]
    assert found["unclassified_drawn_as"] == "B"


async def test_a_batch_of_two_items_is_previewed_as_a_range(planning, items, bureau):
    batch_id = await batch_in_a_new_plan(
        planning, bureau["owner"], item_ids=[str(items["food"]), str(items["all"])],
        scope={"region_codes": [YIWU, DONGYANG]},
    )  # fmt: skip

    found = (await preview(planning, batch_id, bureau["owner"])).json()

    assert (found["exact"], found["population"], found["expected_sample"]) == (False, None, None)
    assert (found["population_min"], found["population_max"]) == (9, 16)
    assert [(s["population_min"], s["population_max"]) for s in found["strata"]] == [
        (2, 4), (5, 8), (1, 2), (1, 2),
    ]  # fmt: skip


async def test_a_batch_of_an_item_the_registry_does_not_hold_is_a_422_naming_it(
    planning, items, bureau
):
    """The test catalogue's item is in force for planning, never published in the registry."""
    batch_id = await batch_in_a_new_plan(planning, bureau["owner"], year=2098)

    answer = await preview(planning, batch_id, bureau["owner"])

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error"
    assert str(GENERAL) in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["item_ids[0]"]


async def test_only_who_may_read_the_batch_previews_it(planning, items, bureau):
    batch_id = await batch_in_a_new_plan(
        planning, bureau["owner"], item_ids=[str(items["food"])], scope={"region_codes": [YIWU]}
    )

    assert (await preview(planning, batch_id, bureau["other"])).status_code == 404
    assert (await preview(planning, batch_id, {})).status_code == 401
    assert (await preview(planning, uuid.uuid4(), bureau["owner"])).status_code == 404
