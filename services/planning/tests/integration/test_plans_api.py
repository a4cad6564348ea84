"""Annual plans through the API on real PostgreSQL and NATS: a county bureau drafts, submits,
its city bureau files, it publishes, adjusts (R7) and the province closes the plan; each step
that makes news lands in the outbox in the step's transaction; refused steps write nothing;
concurrent creates get distinct, gap-free codes."""

import asyncio
import re

import pytest
from planning_testkit import BATCHES, ensure_a_batch

PLANS = "/api/v1/planning/plans"
# Plan years chosen so that no test depends on today's date: 2024's deadline has passed,
# 2099's has not, and 2024 has ended.
PAST, FUTURE = 2024, 2099


@pytest.fixture
async def plans(service_client, test_catalogue):
    return await service_client("planning")


@pytest.fixture
async def bureaus(catalogue_org, bearer):
    """A city bureau with two county bureaus and a station, and their admins' tokens."""
    city = await catalogue_org("city", "330100")
    county = await catalogue_org("county", "330106", parent=city)
    sibling = await catalogue_org("county", "330105", parent=city)
    station = await catalogue_org("station", "330106", parent=county)

    def admin(org, region):
        return bearer("department_admin", region=region, org=str(org), sub=f"admin-{org}")

    return {
        "city": city,
        "county": county,
        "sibling": sibling,
        "station": station,
        "county_admin": admin(county, "330106"),
        "city_admin": admin(city, "330100"),
        "sibling_admin": admin(sibling, "330105"),
        "station_admin": admin(station, "330106"),
        "province_admin": bearer("provincial_admin", sub="province-admin"),
    }


async def create(plans, headers, year=PAST, **body):
    return await plans.post(PLANS, json={"year": year, "title": f"{year}年度抽查计划", **body},
                            headers=headers)  # fmt: skip


async def step(plans, answer, action, headers, json=None, etag=None):
    """POST `action` on the version `answer` describes, with its ETag (a draft submitted gets
    a batch first: §5.1 submits none without one)."""
    plan = answer.json()
    if action == "submit":
        await ensure_a_batch(plans, plan, headers)
    url = f"{PLANS}/{plan['plan_id']}/versions/{plan['version']}:{action}"
    match = {"If-Match": etag or answer.headers["ETag"]}
    return await plans.post(url, json=json, headers={**headers, **match})


async def through(plans, answer, bureaus, *actions):
    """Take a version through the steps, each by the one who takes it."""
    by = {"submit": "county_admin", "file": "city_admin", "publish": "county_admin",
          "close": "province_admin"}  # fmt: skip
    for action in actions:
        answer = await step(plans, answer, action, bureaus[by[action]])
        assert answer.status_code == 200, (action, answer.text)
    return answer


def events_of(envelopes, plan_id):
    return [e for e in envelopes if e["subject"] == plan_id]


async def test_a_plan_is_filed_published_adjusted_with_its_diff_and_closed(plans, bureaus, ledger):
    created = await create(plans, bureaus["county_admin"], description="初稿")
    assert created.status_code == 201, created.text
    plan = created.json()
    plan_id = plan["plan_id"]
    assert re.fullmatch(r"3301062024\d{4}", plan["plan_code"])
    assert (plan["status"], plan["version"], plan["level"]) == ("draft", 1, "county")
    assert created.headers["ETag"] == f'"{plan["revision"]}"'

    edited = await plans.patch(
        f"{PLANS}/{plan_id}/versions/1", json={"title": "西湖区2024年度双随机抽查计划"},
        headers={**bureaus["county_admin"], "If-Match": created.headers["ETag"]},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["description"]) == (
        "西湖区2024年度双随机抽查计划", "初稿"
    )  # fmt: skip

    submitted = await step(plans, edited, "submit", bureaus["county_admin"])
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["late"] is True  # 31 March 2024 has passed; accepted all the same
    filed = await step(plans, submitted, "file", bureaus["city_admin"])
    assert filed.json()["status"] == "filed"
    assert filed.json()["filed_to_org_id"] == str(bureaus["city"])
    published = await step(
        plans, filed, "publish", bureaus["county_admin"], json={"necips_ref": "GS-2024-1"}
    )
    assert published.json()["status"] == "published"
    assert published.json()["necips_ref"] == "GS-2024-1"

    adjusted = await step(
        plans, published, "adjust", bureaus["county_admin"],
        json={"adjustment_reason": "新增电梯专项检查", "period_end": "2024-11-30"},
    )  # fmt: skip
    assert adjusted.status_code == 201, adjusted.text
    v2 = adjusted.json()
    assert (v2["version"], v2["status"], v2["supersedes_version"]) == (2, "draft", 1)
    assert v2["plan_code"] == plan["plan_code"]
    still = await plans.get(f"{PLANS}/{plan_id}", params={"version": 1},
                            headers=bureaus["county_admin"])  # fmt: skip
    assert still.json()["status"] == "published"
    listed = await plans.get(BATCHES, params={"plan_id": plan_id}, headers=bureaus["county_admin"])
    [batch] = listed.json()["items"]
    assert (batch["status"], batch["published_in_version"]) == ("published", 1)
    cancelled = await plans.post(
        f"{BATCHES}/{batch['batch_id']}:cancel", json={"reason": "并入电梯专项检查"},
        headers={**bureaus["county_admin"], "If-Match": f'"{batch["revision"]}"'},
    )  # fmt: skip
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_in_version"]) == (
        "published",
        2,
    )

    republished = await through(plans, adjusted, bureaus, "submit", "file", "publish")
    assert republished.json()["late"] is False  # an adjustment is never late
    superseded = await plans.get(f"{PLANS}/{plan_id}", params={"version": 1})
    assert superseded.json()["status"] == "superseded"

    diff = await plans.get(f"{PLANS}/{plan_id}/versions/2/diff")
    assert diff.status_code == 200, diff.text
    assert diff.json() == {
        "plan_id": plan_id,
        "from_version": 1,
        "to_version": 2,
        "adjustment_reason": "新增电梯专项检查",
        "fields": [{"field": "period_end", "label": "计划期间止",
                    "before": "2024-12-31", "after": "2024-11-30"}],
        "batches": {"added": [], "cancelled": [batch["batch_id"]], "changed": []},
    }  # fmt: skip
    gone = await plans.get(f"{BATCHES}/{batch['batch_id']}")
    assert (gone.json()["status"], gone.json()["cancelled_from"]) == ("cancelled", "published")

    closed = await through(plans, republished, bureaus, "close")
    assert closed.json()["status"] == "closed"
    another = await create(plans, bureaus["county_admin"])
    assert another.status_code == 409  # the year has its plan, closed

    outbox = ledger("planning")
    filed_events = events_of(await outbox.announced("planning.plan.filed.v1"), plan_id)
    assert [(e["data"]["version"], e["data"]["late"]) for e in filed_events] == [
        (1, True), (2, False)
    ]  # fmt: skip
    assert filed_events[0]["actor"] == f"admin-{bureaus['city']}"
    assert filed_events[0]["data"]["filed_to_org_id"] == str(bureaus["city"])
    assert filed_events[0]["data"]["plan_code"] == plan["plan_code"]
    published_events = events_of(await outbox.announced("planning.plan.published.v1"), plan_id)
    assert [e["data"]["version"] for e in published_events] == [1, 2]
    assert [b["batch_id"] for b in published_events[0]["data"]["batches"]] == [batch["batch_id"]]
    assert published_events[1]["data"]["batches"] == []
    assert published_events[0]["actor"] == f"admin-{bureaus['county']}"
    [adjusted_event] = events_of(await outbox.announced("planning.plan.adjusted.v1"), plan_id)
    assert adjusted_event["data"]["old_version"] == 1
    assert adjusted_event["data"]["new_version"] == 2
    assert adjusted_event["data"]["reason"] == "新增电梯专项检查"
    assert adjusted_event["data"]["changed_fields"] == [
        {"field": "period_end", "before": "2024-12-31", "after": "2024-11-30"}
    ]
    [closed_event] = events_of(await outbox.announced("planning.plan.closed.v1"), plan_id)
    assert closed_event["data"]["version"] == 2
    assert closed_event["actor"] == "province-admin"


async def test_a_plan_submitted_before_the_deadline_is_on_time(plans, bureaus, ledger):
    created = await create(plans, bureaus["county_admin"], year=FUTURE)

    filed = await through(plans, created, bureaus, "submit", "file")

    assert filed.json()["late"] is False
    assert filed.json()["deadline"] == f"{FUTURE}-03-31"
    events = await ledger("planning").announced("planning.plan.filed.v1")
    [event] = events_of(events, created.json()["plan_id"])
    assert event["data"]["late"] is False


async def plan_row_state(planning_rows, plan_id):
    return await planning_rows(
        "SELECT version, status, revision FROM plan_versions WHERE plan_id = $1 ORDER BY version",
        plan_id,
    )


async def outbox_of(ledger, plan_id):
    found = []
    for kind in ("filed", "published", "adjusted", "closed"):
        found += events_of(await ledger("planning").announced(f"planning.plan.{kind}.v1"), plan_id)
    return found


@pytest.mark.parametrize(
    ("steps", "action", "rule"),
    [
        (["submit"], "publish", "publishing needs a filed version"),
        (["submit", "file"], "file", "filing needs a submitted version"),
        (["submit", "file"], "submit", "submitting needs a draft version"),
        (["submit", "file", "publish"], "discard", "only a draft version can be discarded"),
        (["submit"], "adjust", "adjusting needs a published version"),
        (["submit", "file"], "close", "closing needs a published version"),
    ],
)
async def test_an_illegal_step_is_a_409_naming_the_rule_and_writes_nothing(
    plans, bureaus, planning_rows, ledger, steps, action, rule
):
    answer = await through(plans, await create(plans, bureaus["county_admin"]), bureaus, *steps)
    plan_id = answer.json()["plan_id"]
    before = (await plan_row_state(planning_rows, plan_id), await outbox_of(ledger, plan_id))
    by = {"file": "city_admin", "close": "province_admin"}.get(action, "county_admin")

    body = {"adjustment_reason": "调整"} if action == "adjust" else None
    refused = await step(plans, answer, action, bureaus[by], json=body)

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "/problems/plan-transition"
    assert rule in refused.json()["detail"]
    assert (
        await plan_row_state(planning_rows, plan_id),
        await outbox_of(ledger, plan_id),
    ) == before


async def test_a_published_version_is_never_edited_in_place(plans, bureaus):
    published = await through(
        plans, await create(plans, bureaus["county_admin"]), bureaus, "submit", "file", "publish"
    )
    plan = published.json()

    refused = await plans.patch(
        f"{PLANS}/{plan['plan_id']}/versions/1", json={"title": "改"},
        headers={**bureaus["county_admin"], "If-Match": published.headers["ETag"]},
    )  # fmt: skip

    assert refused.status_code == 409
    assert "editing needs a draft version" in refused.json()["detail"]


async def test_a_stale_or_missing_if_match_is_refused(plans, bureaus, planning_rows):
    created = await create(plans, bureaus["county_admin"])
    plan_id = created.json()["plan_id"]
    url = f"{PLANS}/{plan_id}/versions/1"
    await plans.patch(url, json={"title": "第二稿"},
                      headers={**bureaus["county_admin"], "If-Match": created.headers["ETag"]})  # fmt: skip
    before = await plan_row_state(planning_rows, plan_id)

    stale = await step(plans, created, "submit", bureaus["county_admin"])
    missing = await plans.post(f"{url}:submit", headers=bureaus["county_admin"])

    assert stale.status_code == 412
    assert missing.status_code == 428
    assert await plan_row_state(planning_rows, plan_id) == before


async def test_an_adjustment_needs_a_reason_and_only_one_is_on_its_way(plans, bureaus):
    published = await through(
        plans, await create(plans, bureaus["county_admin"]), bureaus, "submit", "file", "publish"
    )

    no_reason = await step(plans, published, "adjust", bureaus["county_admin"], json={})
    first = await step(plans, published, "adjust", bureaus["county_admin"],
                       json={"adjustment_reason": "增加批次"})  # fmt: skip
    second = await step(plans, published, "adjust", bureaus["county_admin"],
                        json={"adjustment_reason": "再次调整"})  # fmt: skip

    assert no_reason.status_code == 422
    assert "adjustment_reason" in [e["field"] for e in no_reason.json()["errors"]]
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["type"] == "/problems/plan-conflict"


async def test_discarding_an_adjustment_keeps_the_published_version_in_force(plans, bureaus):
    published = await through(
        plans, await create(plans, bureaus["county_admin"]), bureaus, "submit", "file", "publish"
    )
    draft = await step(plans, published, "adjust", bureaus["county_admin"],
                       json={"adjustment_reason": "拟调整"})  # fmt: skip

    discarded = await step(plans, draft, "discard", bureaus["county_admin"])
    again = await step(plans, published, "adjust", bureaus["county_admin"],
                       json={"adjustment_reason": "重新调整"})  # fmt: skip

    assert discarded.json()["status"] == "discarded"
    latest = await plans.get(f"{PLANS}/{published.json()['plan_id']}")
    assert (latest.json()["version"], latest.json()["status"]) == (1, "published")
    assert (again.status_code, again.json()["version"]) == (201, 3)


async def test_one_plan_per_org_and_year_until_it_is_discarded(plans, bureaus):
    first = await create(plans, bureaus["county_admin"], year=2025)
    duplicate = await create(plans, bureaus["county_admin"], year=2025)
    await step(plans, first, "discard", bureaus["county_admin"])
    after_discard = await create(plans, bureaus["county_admin"], year=2025)

    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "/problems/plan-conflict"
    assert first.json()["plan_code"] in duplicate.json()["detail"]
    assert after_discard.status_code == 201
    assert after_discard.json()["plan_code"] != first.json()["plan_code"]


async def test_closing_waits_for_the_end_of_the_plans_year(plans, bureaus):
    published = await through(
        plans, await create(plans, bureaus["county_admin"], year=FUTURE), bureaus,
        "submit", "file", "publish",
    )  # fmt: skip

    early = await step(plans, published, "close", bureaus["province_admin"])
    by_the_department = await step(plans, published, "close", bureaus["county_admin"])

    assert early.status_code == 409
    assert f"closing waits until {FUTURE} has ended" in early.json()["detail"]
    assert by_the_department.status_code == 403


async def test_concurrent_creates_get_distinct_codes_without_gaps(plans, catalogue_org, bearer):
    # A region and year of their own: nothing else in the session takes codes there.
    orgs = [await catalogue_org("county", "330110") for _ in range(8)]
    tokens = [bearer("department_admin", region="330110", org=str(o)) for o in orgs]

    answers = await asyncio.gather(*(create(plans, t, year=2077) for t in tokens))

    assert [a.status_code for a in answers] == [201] * 8
    sequences = sorted(int(a.json()["plan_code"][-4:]) for a in answers)
    assert sequences == list(range(1, 9))


async def test_concurrent_creates_of_one_org_make_one_plan(plans, catalogue_org, bearer):
    org = await catalogue_org("county", "330111")
    token = bearer("department_admin", region="330111", org=str(org))

    answers = await asyncio.gather(*(create(plans, token, year=2078) for _ in range(4)))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    # The refused creates gave their numbers back: the next plan of the region is 0002.
    other = await catalogue_org("county", "330111")
    nxt = await create(plans, bearer("department_admin", region="330111", org=str(other)),
                       year=2078)  # fmt: skip
    assert nxt.json()["plan_code"] == "33011120780002"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"year": 1999, "title": "计划"}, "year"),
        ({"year": 2026, "title": ""}, "title"),
        ({"year": 2026, "title": "计划", "period_end": "2027-01-31"}, "period_end"),
        ({"year": 2026, "title": "计划", "period_start": "2026-09-01",
          "period_end": "2026-03-01"}, "period_end"),
        ({"year": 2026, "title": "计划", "owner": "me"}, "owner"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(
    plans, bureaus, planning_rows, body, field
):
    answer = await plans.post(PLANS, json=body, headers=bureaus["county_admin"])

    assert answer.status_code == 422, answer.text
    assert field in " ".join(e["field"] for e in answer.json()["errors"])
    rows = await planning_rows("SELECT 1 FROM plan_versions WHERE org_id = $1", bureaus["county"])
    assert rows == []


async def test_a_station_or_an_org_unknown_to_the_catalogue_makes_no_plan(plans, bureaus, bearer):
    station = await create(plans, bureaus["station_admin"])
    unknown = await create(
        plans,
        bearer("department_admin", region="330106", org="0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11"),
    )

    assert station.status_code == 422
    assert station.json()["type"] == "/problems/plan-org"
    assert "station" in station.json()["detail"]
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "org_id", "reason": "unknown to planning's catalogue"}
    ]


async def test_a_publication_reference_longer_than_allowed_is_refused(plans, bureaus):
    filed = await through(plans, await create(plans, bureaus["county_admin"]), bureaus,
                          "submit", "file")  # fmt: skip

    refused = await step(plans, filed, "publish", bureaus["county_admin"],
                         json={"necips_ref": "x" * 65})  # fmt: skip
    latest = await plans.get(f"{PLANS}/{filed.json()['plan_id']}", headers=bureaus["county_admin"])

    assert refused.status_code == 422
    assert "necips_ref" in " ".join(e["field"] for e in refused.json()["errors"])
    assert latest.json()["status"] == "filed"
