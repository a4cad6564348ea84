"""`GET /api/v1/sampling/batches` over the batches read model, fed through JetStream: the batches
a draw may still be committed for, scoped to the caller's department or province, and bad
filters answered with problem+json."""

import uuid
from datetime import date

import pytest

from shuangsui.sampling.worker import SUBSCRIPTIONS

BATCHES = "/api/v1/sampling/batches"
OPEN_DAY = "2026-05-01"


@pytest.fixture
async def sampling(service_client):
    return await service_client("sampling")


@pytest.fixture
async def world(consumer_feed, batch_events, bearer):
    """A county bureau's batches: two open, one whose window ended, one cancelled, and a joint
    one a partner takes part in; another bureau's batch beside them."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    county, partner, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def batch(org, code, start, end, **changes):
        return batch_events.published(
            org_id=org, batch_code=code, window_start=date.fromisoformat(start),
            window_end=date.fromisoformat(end), **changes,
        )  # fmt: skip

    stamp = f"{uuid.uuid4().int % 10**4:04d}"
    early = batch(county, f"33010620260315{stamp}", "2026-04-01", "2026-05-31",
                  participants=[], joint_kind="none")  # fmt: skip
    joint = batch(county, f"33010620260316{stamp}", "2026-04-01", "2026-06-30",
                  participants=[{"org_id": str(partner), "org_code": "330106-WJ", "department_type": "health",
                                 "lead_expertise": None}])  # fmt: skip
    ended = batch(county, f"33010620260101{stamp}", "2026-01-01", "2026-03-31")
    dropped = batch(county, f"33010620260317{stamp}", "2026-04-01", "2026-07-31")
    elsewhere = batch(other, f"33010520260315{stamp}", "2026-04-01", "2026-06-30",
                      org_region_code="330105", org_code="330105")  # fmt: skip
    events = [early, joint, ended, dropped, elsewhere, batch_events.cancelled(dropped)]
    for event in events:
        assert await feed.outcome(await feed.publish(event, "planning")) == "applied"

    def admin(role, org, region="330106"):
        return bearer(role, region=region, org=str(org), sub=f"{role}-{org}")

    return {
        "county": county, "partner": partner, "other": other,
        "early": early.payload, "joint": joint.payload, "ended": ended.payload,
        "dropped": dropped.payload, "elsewhere": elsewhere.payload,
        "owner": admin("department_admin", county),
        "partner_admin": admin("partner_admin", partner),
        "province": bearer("provincial_admin", region="330000"),
        "ningbo": bearer("auditor", region="330200"),
        "guangdong": bearer("provincial_admin", region="440000"),
    }  # fmt: skip


def codes(answer):
    assert answer.status_code == 200, answer.text
    return [b["batch_code"] for b in answer.json()["items"]]


async def test_the_owner_lists_its_open_published_batches_in_window_end_order(sampling, world):
    answer = await sampling.get(BATCHES, params={"window_open_on": OPEN_DAY},
                                headers=world["owner"])  # fmt: skip

    assert codes(answer) == [world["early"].batch_code, world["joint"].batch_code]
    first = answer.json()["items"][0]
    assert first["status"] == "published"
    assert first["cancellation"] is None
    assert first["published"]["strata"] == [s.model_dump() for s in world["early"].strata]
    assert first["published"]["window_end"] == "2026-05-31"


async def test_a_window_that_ended_is_no_longer_listed_to_draw(sampling, world):
    after_early = await sampling.get(BATCHES, params={"window_open_on": "2026-06-01"},
                                     headers=world["owner"])  # fmt: skip
    assert codes(after_early) == [world["joint"].batch_code]

    # Today (2026 or later) every example window has ended.
    by_default = await sampling.get(BATCHES, headers=world["owner"])
    assert world["joint"].batch_code not in codes(by_default)


async def test_cancelled_batches_are_listed_only_when_asked_for(sampling, world):
    answer = await sampling.get(BATCHES, params={"status": "cancelled"}, headers=world["owner"])

    assert codes(answer) == [world["dropped"].batch_code]
    assert answer.json()["items"][0]["cancellation"]["cancelled_from"] == "published"


async def test_a_partner_sees_the_joint_batch_it_takes_part_in_and_nothing_else(sampling, world):
    answer = await sampling.get(BATCHES, params={"window_open_on": OPEN_DAY},
                                headers=world["partner_admin"])  # fmt: skip

    assert codes(answer) == [world["joint"].batch_code]


async def test_the_province_sees_every_bureau_and_filters_by_org_and_region(sampling, world):
    params = {"window_open_on": OPEN_DAY, "limit": 500}
    everything = codes(await sampling.get(BATCHES, params=params, headers=world["province"]))
    assert {world["early"].batch_code, world["elsewhere"].batch_code} <= set(everything)

    by_org = await sampling.get(BATCHES, params={**params, "org_id": str(world["other"])},
                                headers=world["province"])  # fmt: skip
    assert codes(by_org) == [world["elsewhere"].batch_code]
    by_region = codes(await sampling.get(BATCHES, params={**params, "region_code": "330105"},
                                         headers=world["province"]))  # fmt: skip
    assert world["elsewhere"].batch_code in by_region
    assert world["early"].batch_code not in by_region


async def test_another_city_province_or_bureau_sees_none_of_them(sampling, world):
    params = {"window_open_on": OPEN_DAY, "limit": 500}
    ningbo = codes(await sampling.get(BATCHES, params=params, headers=world["ningbo"]))
    assert world["early"].batch_code not in ningbo
    assert world["elsewhere"].batch_code not in ningbo
    guangdong = await sampling.get(BATCHES, params=params, headers=world["guangdong"])
    assert guangdong.status_code == 403  # the platform serves one province

    outside = await sampling.get(BATCHES, params={**params, "region_code": "440106"},
                                 headers=world["province"])  # fmt: skip
    assert codes(outside) == []
    # The owner asking for another org's batches gets none, not that org's.
    theirs = await sampling.get(BATCHES, params={**params, "org_id": str(world["other"])},
                                headers=world["owner"])  # fmt: skip
    assert codes(theirs) == []


async def test_pages_follow_the_cursor(sampling, world):
    params = {"window_open_on": OPEN_DAY, "limit": 1}
    first = await sampling.get(BATCHES, params=params, headers=world["owner"])
    cursor = first.json()["next_cursor"]
    second = await sampling.get(BATCHES, params={**params, "cursor": cursor},
                                headers=world["owner"])  # fmt: skip

    assert codes(first) + codes(second) == [world["early"].batch_code, world["joint"].batch_code]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"region_code": "339999"}, 422, "region_code"),
        ({"department_type": "Market Supervision"}, 422, "department_type"),
        ({"status": "archived"}, 422, "status"),
        ({"window_open_on": "2026-13-01"}, 422, "window_open_on"),
        ({"org_id": "not-a-uuid"}, 422, "org_id"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, 400, None),
    ],
)
async def test_a_bad_filter_is_a_problem_naming_it(sampling, world, params, status, field):
    answer = await sampling.get(BATCHES, params=params, headers=world["owner"])

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in answer.text


async def test_roles_that_do_not_draw_are_refused(sampling, world, bearer):
    for headers in ({}, bearer("inspector"), bearer("enterprise")):
        answer = await sampling.get(BATCHES, headers=headers)
        assert answer.status_code in (401, 403), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
