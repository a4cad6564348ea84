"""The catalogue read model, fed the registry's real events through JetStream: items before or
after their list, copies of events, an older org version after a newer one and a worker restart
all end in the same state; batches then read the items in force from it."""

import itertools
import json
import uuid
from datetime import date

import asyncpg
import pytest

from shuangsui.planning.service import catalogue
from shuangsui.planning.worker import SUBSCRIPTIONS

CONSUMER = "planning-catalogue"
# Tests share planning's database: each reads a year of its own, which no other test's list
# versions take effect in, so the version in force on its days is its own.
_YEARS = itertools.count(2301)


def fresh_year() -> int:
    return next(_YEARS)


COUNTS = {
    "catalogue_lists": "SELECT count(*) FROM catalogue_lists WHERE list_id = $1",
    "catalogue_items": "SELECT count(*) FROM catalogue_items WHERE item_id = $1",
}


@pytest.fixture
def rows(stack):
    async def count(table: str, key: uuid.UUID) -> int:
        conn = await asyncpg.connect(stack.database_url("planning"))
        try:
            return int(await conn.fetchval(COUNTS[table], key))
        finally:
            await conn.close()

    return count


async def publish_all(feed, events):
    sent = [await feed.publish(e, "registry") for e in events]
    for envelope in sent:
        assert await feed.outcome(envelope) == "applied"
    return sent


async def test_items_before_their_list_and_a_list_before_its_items_end_the_same(
    consumer_feed, catalogue_events, new_uow
):
    year = fresh_year()
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    ids = [uuid.uuid4(), uuid.uuid4()]
    items_first = catalogue_events.item_list("provincial", "320000", date(year, 1, 1), ids)
    list_first = catalogue_events.item_list("provincial", "350000", date(year, 1, 1), ids)

    await publish_all(
        feed,
        [catalogue_events.item(items_first, i, f"JS-{n}") for n, i in enumerate(ids)]
        + [items_first],
    )
    await publish_all(
        feed,
        [list_first] + [catalogue_events.item(list_first, i, f"JS-{n}") for n, i in enumerate(ids)],
    )

    day = date(year, 5, 1)
    in_jiangsu = await catalogue.items_in_force(new_uow(), "320000", "county", day, ids)
    in_fujian = await catalogue.items_in_force(new_uow(), "350000", "county", day, ids)
    assert set(in_jiangsu) == set(in_fujian) == set(ids)
    assert {i.list_id for i in in_jiangsu.values()} == {items_first.payload.list_id}
    assert {i.list_id for i in in_fujian.values()} == {list_first.payload.list_id}
    assert _content(in_jiangsu) == _content(in_fujian)


def _content(found):
    return {k: (v.code, v.allowed_methods, v.joint, v.version) for k, v in found.items()}


async def test_a_list_version_is_in_force_from_its_day_until_the_next_and_carries_the_joint_fields(
    consumer_feed, catalogue_events, new_uow
):
    """The national item reappears in the adopting provincial version; a national plan reads the
    national version's row, a county plan the province's; the provincial item exists only there."""
    year = fresh_year()
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    national_item, local_item, later_item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    national = catalogue_events.item_list("national", None, date(year, 1, 1), [national_item])
    first = catalogue_events.item_list(
        "provincial", "360000", date(year, 3, 1), [national_item, local_item],
        adopted=national.payload.list_id,
    )  # fmt: skip
    second = catalogue_events.item_list(
        "provincial", "360000", date(year, 9, 1), [national_item, later_item], version=2,
        adopted=national.payload.list_id,
    )  # fmt: skip
    await publish_all(
        feed,
        [
            second, catalogue_events.item(second, national_item, "N-1", origin="national"),
            catalogue_events.item(second, later_item, "JX-2", min_ratio=0.03, joint=False,
                                  lead_department=None, partner_departments=[]),
            national, catalogue_events.item(national, national_item, "N-1"),
            first, catalogue_events.item(first, national_item, "N-1", origin="national"),
            catalogue_events.item(first, local_item, "JX-1", item_category="general"),
        ],
    )  # fmt: skip
    everything = [national_item, local_item, later_item]

    async def in_force(level, day):
        return await catalogue.items_in_force(new_uow(), "360000", level, day, everything)

    before_the_province = await in_force("county", date(year, 2, 1))
    assert set(before_the_province) == {national_item}
    assert before_the_province[national_item].list_id == national.payload.list_id

    spring = await in_force("county", date(year, 3, 1))
    assert set(spring) == {national_item, local_item}
    assert spring[national_item].list_id == first.payload.list_id
    assert spring[national_item].origin == "national"
    assert spring[local_item].item_category == "general"
    assert spring[national_item].joint
    assert spring[national_item].partner_departments == ("住房城乡建设部门", "应急管理部门")
    assert spring[national_item].required_qualification == "special_equipment"
    assert str(spring[national_item].min_ratio) == "1/20"
    by_county = await catalogue.items_in_force(new_uow(), "360102", "county", date(year, 3, 1),
                                               everything)  # fmt: skip
    assert by_county == spring

    autumn = await in_force("city", date(year, 9, 1))
    assert set(autumn) == {national_item, later_item}
    assert str(autumn[later_item].min_ratio) == "3/100"
    assert not autumn[later_item].joint

    national_plan = await in_force("national", date(year, 9, 1))
    assert set(national_plan) == {national_item}
    assert national_plan[national_item].list_id == national.payload.list_id


async def test_a_withdrawn_item_is_kept_but_not_in_force(
    consumer_feed, catalogue_events, new_uow, rows
):
    year = fresh_year()
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    kept, withdrawn = uuid.uuid4(), uuid.uuid4()
    lst = catalogue_events.item_list("provincial", "370000", date(year, 1, 1), [kept, withdrawn])
    await publish_all(
        feed,
        [lst, catalogue_events.item(lst, kept, "SD-1"),
         catalogue_events.item(lst, withdrawn, "SD-2", status="withdrawn")],
    )  # fmt: skip

    found = await catalogue.items_in_force(new_uow(), "370000", "provincial", date(year, 2, 1),
                                           [kept, withdrawn])  # fmt: skip

    assert set(found) == {kept}
    assert await rows("catalogue_items", withdrawn) == 1


async def test_a_copy_published_again_is_stored_once(consumer_feed, catalogue_events, rows):
    """Another message id (past JetStream's duplicate window) for the same event: the inbox."""
    year = fresh_year()
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    item_id = uuid.uuid4()
    lst = catalogue_events.item_list("provincial", "410000", date(year, 1, 1), [item_id])
    listed, item = await publish_all(feed, [lst, catalogue_events.item(lst, item_id, "HA-1")])

    for envelope in (listed, item):
        await feed.publish_raw(f"evt.p33.{envelope.type}", envelope.model_dump_json().encode())
    await feed.settled()

    assert await rows("catalogue_lists", lst.payload.list_id) == 1
    assert await rows("catalogue_items", item_id) == 1
    assert await feed.ledger.inbox_count(listed.id, CONSUMER) == 1
    assert await feed.ledger.inbox_count(item.id, CONSUMER) == 1


async def test_an_older_org_version_after_a_newer_one_is_ignored(
    consumer_feed, catalogue_events, new_uow
):
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    city_id, county_id = uuid.uuid4(), uuid.uuid4()
    city = catalogue_events.org(city_id, f"C{city_id.hex[:8]}", "city", "330100")
    newer = catalogue_events.org(county_id, f"K{county_id.hex[:8]}", "county", "330106",
                                 version=3, parent=city.payload, name="西湖区局（新）")  # fmt: skip
    older = catalogue_events.org(county_id, f"K{county_id.hex[:8]}", "county", "330106",
                                 version=2, name="西湖区局（旧）", status="closed")  # fmt: skip

    await publish_all(feed, [newer, older, city])

    county = await catalogue.org(new_uow(), county_id)
    assert county is not None
    assert (county.version, county.name, county.status) == (3, "西湖区局（新）", "active")
    superior = await catalogue.superior_of(new_uow(), county_id)
    assert superior is not None
    assert superior.org_id == city_id
    assert await catalogue.superior_of(new_uow(), city_id) is None
    assert await catalogue.org(new_uow(), uuid.uuid4()) is None


async def test_a_poison_item_is_dead_lettered_and_the_next_one_applied(
    consumer_feed, catalogue_events, new_uow
):
    year = fresh_year()
    feed = await consumer_feed("planning", SUBSCRIPTIONS, max_deliveries=2)
    good = uuid.uuid4()
    lst = catalogue_events.item_list("provincial", "420000", date(year, 1, 1), [good])
    envelope = feed.envelope_of(catalogue_events.item(lst, uuid.uuid4(), "HB-0"), "registry")
    body = envelope.model_dump(mode="json")
    body["data"]["min_ratio"] = 3  # a share above 1 the contract refuses
    await feed.publish_raw(f"evt.p33.{body['type']}", json.dumps(body).encode(), envelope.id)
    await publish_all(feed, [lst, catalogue_events.item(lst, good, "HB-1")])

    assert await feed.outcome(envelope.id) == "dead_lettered"
    [dead] = await feed.ledger.dead_letters(envelope.id)
    assert dead["consumer"] == CONSUMER
    assert "min_ratio" in dead["last_error"]
    found = await catalogue.items_in_force(new_uow(), "420000", "county", date(year, 1, 1), [good])
    assert set(found) == {good}


async def test_events_published_while_the_worker_is_down_arrive_when_it_is_back(
    consumer_feed, catalogue_events, new_uow
):
    year = fresh_year()
    first = await consumer_feed("planning", SUBSCRIPTIONS)
    before = uuid.uuid4()
    lst = catalogue_events.item_list("provincial", "430000", date(year, 1, 1), [before])
    await publish_all(first, [lst])
    await first.stop()

    missed = await first.publish(catalogue_events.item(lst, before, "HN-1"), "registry")
    day = date(year, 1, 2)
    assert await catalogue.items_in_force(new_uow(), "430000", "county", day, [before]) == {}

    restarted = await consumer_feed("planning", SUBSCRIPTIONS)
    assert await restarted.outcome(missed) == "applied"
    found = await catalogue.items_in_force(new_uow(), "430000", "county", day, [before])
    assert set(found) == {before}
