"""The items a planner may put in a batch (GET /api/v1/planning/catalogue/items), read from the
catalogue read model the registry's events fed: a caller sees its province's list in force (with
the national items it adopts) or the national list, never another province's own items."""

import itertools
import uuid
from datetime import date

import pytest

from shuangsui.planning.worker import SUBSCRIPTIONS

ITEMS = "/api/v1/planning/catalogue/items"
# A year of this module's own in the shared database (test_catalogue_consumer.py counts from 2301).
_YEARS = itertools.count(2601)


@pytest.fixture
async def client(service_client):
    return await service_client("planning")


@pytest.fixture
async def published(consumer_feed, catalogue_events):
    """A national version and two provinces' versions adopting its item, in a fresh year."""
    year = next(_YEARS)
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    shared, zhejiang_own, guangdong_own = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    zhejiang_key = uuid.uuid4()
    national = catalogue_events.item_list("national", None, date(year, 1, 1), [shared])
    zhejiang = catalogue_events.item_list(
        "provincial", "330000", date(year, 2, 1), [shared, zhejiang_own, zhejiang_key],
        adopted=national.payload.list_id,
    )  # fmt: skip
    guangdong = catalogue_events.item_list(
        "provincial", "440000", date(year, 2, 1), [shared, guangdong_own],
        adopted=national.payload.list_id,
    )  # fmt: skip
    events = [
        national, catalogue_events.item(national, shared, "N-001"),
        zhejiang, catalogue_events.item(zhejiang, shared, "N-001", origin="national"),
        catalogue_events.item(zhejiang, zhejiang_own, "ZJ-002", item_category="general",
                              business_line="食品安全", name="餐饮服务单位检查"),
        catalogue_events.item(zhejiang, zhejiang_key, "ZJ-003"),
        guangdong, catalogue_events.item(guangdong, shared, "N-001", origin="national"),
        catalogue_events.item(guangdong, guangdong_own, "GD-002"),
    ]  # fmt: skip
    for event in events:
        assert await feed.outcome(await feed.publish(event, "registry")) == "applied"
    return {
        "on": date(year, 6, 1).isoformat(),
        "shared": str(shared), "zhejiang_own": str(zhejiang_own),
        "zhejiang_key": str(zhejiang_key), "guangdong_own": str(guangdong_own),
        "national_list": str(national.payload.list_id), "zhejiang_list": str(zhejiang.payload.list_id),
    }  # fmt: skip


async def test_a_planner_sees_its_provinces_list_in_force_and_not_another_provinces_items(
    client, bearer, published
):
    answer = await client.get(
        ITEMS, params={"on": published["on"]},
        headers=bearer("department_admin", region="330100", org="330100-AMR"),
    )  # fmt: skip

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [i["item_id"] for i in body["items"]] == [
        published["shared"],
        published["zhejiang_own"],
        published["zhejiang_key"],
    ]
    assert published["guangdong_own"] not in answer.text
    assert {i["list_id"] for i in body["items"]} == {published["zhejiang_list"]}
    adopted = body["items"][0]
    assert (adopted["origin"], adopted["code"], adopted["min_ratio"], adopted["joint"]) == (
        "national", "N-001", "1/20", True,
    )  # fmt: skip
    assert adopted["partner_departments"] == ["住房城乡建设部门", "应急管理部门"]
    assert body["next_cursor"] is None


async def test_another_provinces_token_is_refused_by_this_provinces_platform(
    client, bearer, published
):
    """Each province runs its own instance: Guangdong's items reach it only as data, and a
    Guangdong token reads nothing here, not even its own province's list."""
    answer = await client.get(
        ITEMS, params={"on": published["on"]}, headers=bearer("provincial_admin", region="440000")
    )

    assert answer.status_code == 403
    assert published["guangdong_own"] not in answer.text


async def test_a_token_whose_region_is_no_division_is_refused(client, bearer):
    answer = await client.get(ITEMS, headers=bearer("provincial_admin", region="339999"))
    assert answer.status_code == 403
    assert "339999" in answer.json()["detail"]


async def test_the_national_list_for_national_callers_and_when_asked(client, bearer, published):
    for headers, params in [
        (bearer("national_admin", region="100000"), {"on": published["on"]}),
        (bearer("national_admin", region="100000"), {"on": published["on"], "level": "provincial"}),
        (bearer("provincial_admin", region="330000"), {"on": published["on"], "level": "national"}),
    ]:
        answer = await client.get(ITEMS, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        assert [(i["item_id"], i["list_id"]) for i in items] == [
            (published["shared"], published["national_list"])
        ]


async def test_filters_narrow_the_list(client, bearer, published):
    headers = bearer("provincial_admin", region="330000")
    on = published["on"]

    async def ids(**params):
        answer = await client.get(ITEMS, params={"on": on, **params}, headers=headers)
        assert answer.status_code == 200, answer.text
        return [i["item_id"] for i in answer.json()["items"]]

    assert await ids(item_category="general") == [published["zhejiang_own"]]
    assert await ids(business_line="食品安全") == [published["zhejiang_own"]]
    assert await ids(q="餐饮") == [published["zhejiang_own"]]
    assert await ids(q="zj-00") == [published["zhejiang_own"], published["zhejiang_key"]]
    assert await ids(q="%") == []  # a wildcard is a character here


async def test_pages_follow_the_cursor_to_the_end(client, bearer, published):
    headers = bearer("provincial_admin", region="330000")
    seen, cursor = [], None
    while True:
        params = {"on": published["on"], "limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = await client.get(ITEMS, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        seen += [i["code"] for i in answer.json()["items"]]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["N-001", "ZJ-002", "ZJ-003"]


async def test_before_any_list_took_effect_the_list_is_empty(client, bearer):
    answer = await client.get(
        ITEMS, params={"on": "1900-01-01"}, headers=bearer("provincial_admin")
    )
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "next_cursor": None}


async def test_no_token_is_401(client):
    answer = await client.get(ITEMS)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "eyJpZCI6MX0"],  # garbage, and another list's position {"id":1}
)
async def test_a_cursor_this_list_did_not_produce_is_400(client, bearer, cursor):
    answer = await client.get(ITEMS, params={"cursor": cursor}, headers=bearer("provincial_admin"))
    assert answer.status_code == 400
    assert answer.json()["type"] == "/problems/invalid-cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"on": "tomorrow"}, "on"),
        ({"level": "city"}, "level"),
        ({"item_category": "urgent"}, "item_category"),
        ({"q": ""}, "q"),
        ({"limit": 0}, "limit"),
    ],
)
async def test_bad_input_is_a_validation_problem_naming_the_field(client, bearer, params, field):
    answer = await client.get(ITEMS, params=params, headers=bearer("provincial_admin"))
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_the_operation_documents_its_problems(client):
    operation = (await client.get("/openapi.json")).json()["paths"][ITEMS]["get"]
    assert operation["operationId"] == "planning_catalogue_items_list"
    assert {"400", "401", "403", "422"} <= set(operation["responses"])
