"""Who sees and writes annual plans: the department edits only its own; its superior (the
parent org in the catalogue, or the provincial admin) sees them from submission on and files
them; everyone else sees published versions only; another province is refused; the national
admin reads everything."""

import pytest
from planning_testkit import ensure_a_batch

PLANS = "/api/v1/planning/plans"


@pytest.fixture
async def plans(service_client, test_catalogue):
    return await service_client("planning")


@pytest.fixture
async def world(catalogue_org, bearer):
    city = await catalogue_org("city", "330200")
    county = await catalogue_org("county", "330203", parent=city)
    sibling = await catalogue_org("county", "330205", parent=city)

    def admin(org, region):
        return bearer("department_admin", region=region, org=str(org), sub=f"admin-{org}")

    return {
        "county": county,
        "owner": admin(county, "330203"),
        "superior": admin(city, "330200"),
        "sibling": admin(sibling, "330205"),
        "province": bearer("provincial_admin"),
        "inspector": bearer("inspector", region="330203"),
        "national": bearer("national_admin", region="100000"),
        "other_province": bearer("department_admin", region="440106", org=str(county)),
        "anonymous": {},
    }


async def draft_of(plans, world, year=2024):
    answer = await plans.post(PLANS, json={"year": year, "title": "计划"}, headers=world["owner"])
    assert answer.status_code == 201, answer.text
    return answer


async def do(plans, answer, action, headers, etag=None):
    plan = answer.json()
    if action == "submit":
        await ensure_a_batch(plans, plan, headers)
    url = f"{PLANS}/{plan['plan_id']}/versions/{plan['version']}:{action}"
    return await plans.post(url, headers={**headers, "If-Match": etag or answer.headers["ETag"]})


async def seen_by(plans, plan_id, world):
    found = {}
    for who in ("owner", "superior", "sibling", "province", "inspector", "national", "anonymous"):
        answer = await plans.get(f"{PLANS}/{plan_id}", params={"version": 1}, headers=world[who])
        found[who] = answer.status_code
    return found


async def test_a_draft_is_seen_by_its_department_and_the_national_admin_only(plans, world):
    draft = await draft_of(plans, world)

    assert await seen_by(plans, draft.json()["plan_id"], world) == {
        "owner": 200, "superior": 404, "sibling": 404, "province": 404, "inspector": 404,
        "national": 200, "anonymous": 404,
    }  # fmt: skip


async def test_the_superior_sees_a_plan_from_submission_on(plans, world):
    submitted = await do(plans, await draft_of(plans, world), "submit", world["owner"])
    assert submitted.status_code == 200

    assert await seen_by(plans, submitted.json()["plan_id"], world) == {
        "owner": 200, "superior": 200, "sibling": 404, "province": 200, "inspector": 404,
        "national": 200, "anonymous": 404,
    }  # fmt: skip


async def test_everyone_sees_a_published_version(plans, world):
    submitted = await do(plans, await draft_of(plans, world), "submit", world["owner"])
    filed = await do(plans, submitted, "file", world["province"])
    published = await do(plans, filed, "publish", world["owner"])
    assert published.status_code == 200, published.text

    assert set((await seen_by(plans, published.json()["plan_id"], world)).values()) == {200}


async def test_the_list_shows_each_caller_what_it_may_see(plans, world):
    draft = await draft_of(plans, world, year=2030)
    submitted = await do(plans, await draft_of(plans, world, year=2031), "submit", world["owner"])
    filed = await do(plans, await do(plans, await draft_of(plans, world, year=2032), "submit",
                                     world["owner"]), "file", world["superior"])  # fmt: skip
    published = await do(plans, filed, "publish", world["owner"])
    mine = {draft.json()["plan_code"], submitted.json()["plan_code"],
            published.json()["plan_code"]}  # fmt: skip

    async def codes(who):
        answer = await plans.get(PLANS, params={"org_id": str(world["county"])},
                                 headers=world[who])  # fmt: skip
        assert answer.status_code == 200, answer.text
        return {v["plan_code"] for v in answer.json()["items"]}

    assert await codes("owner") == mine
    assert await codes("superior") == {submitted.json()["plan_code"], published.json()["plan_code"]}
    assert await codes("sibling") == {published.json()["plan_code"]}
    assert await codes("anonymous") == {published.json()["plan_code"]}
    assert await codes("national") == mine


async def test_the_list_pages_with_a_cursor(plans, world):
    for year in (2040, 2041, 2042):
        await draft_of(plans, world, year=year)

    first = await plans.get(PLANS, params={"org_id": str(world["county"]), "limit": 2},
                            headers=world["owner"])  # fmt: skip
    rest = await plans.get(
        PLANS, params={"org_id": str(world["county"]), "limit": 2,
                       "cursor": first.json()["next_cursor"]}, headers=world["owner"],
    )  # fmt: skip
    bad = await plans.get(PLANS, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=world["owner"])

    assert len(first.json()["items"]) == 2
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    years = [v["year"] for v in first.json()["items"] + rest.json()["items"]]
    assert sorted(years) == [2040, 2041, 2042]
    assert bad.status_code == 400


async def test_another_department_cannot_write_a_plan_it_sees(plans, world):
    submitted = await do(plans, await draft_of(plans, world), "submit", world["owner"])
    filed = await do(plans, submitted, "file", world["superior"])

    by_the_sibling = await do(plans, filed, "publish", world["sibling"])
    by_the_superior = await do(plans, filed, "publish", world["superior"])
    hidden_draft = await do(plans, await draft_of(plans, world, year=2026), "submit",
                            world["sibling"])  # fmt: skip

    assert by_the_sibling.status_code == 404  # a filed version it cannot see
    assert by_the_superior.status_code == 403
    assert "owns the plan" in by_the_superior.json()["detail"]
    assert hidden_draft.status_code == 404


async def test_only_the_superior_files_and_not_the_department_itself(plans, world):
    submitted = await do(plans, await draft_of(plans, world), "submit", world["owner"])

    by_itself = await do(plans, submitted, "file", world["owner"])
    by_the_sibling = await do(plans, submitted, "file", world["sibling"])

    assert by_itself.status_code == 403
    assert "superior" in by_itself.json()["detail"]
    assert by_the_sibling.status_code == 404


async def test_another_province_is_refused_reads_and_writes(plans, world):
    published = await do(
        plans,
        await do(plans, await do(plans, await draft_of(plans, world), "submit", world["owner"]),
                 "file", world["superior"]),
        "publish", world["owner"],
    )  # fmt: skip

    read = await plans.get(f"{PLANS}/{published.json()['plan_id']}",
                           headers=world["other_province"])  # fmt: skip
    write = await plans.post(PLANS, json={"year": 2026, "title": "计划"},
                             headers=world["other_province"])  # fmt: skip
    adjust = await do(plans, published, "adjust", world["other_province"])

    assert (read.status_code, write.status_code, adjust.status_code) == (403, 403, 403)


@pytest.mark.parametrize("who", ["inspector", "province", "anonymous"])
async def test_only_department_admins_create_plans(plans, world, who):
    answer = await plans.post(PLANS, json={"year": 2026, "title": "计划"}, headers=world[who])

    assert answer.status_code == (401 if who == "anonymous" else 403)


async def test_the_national_admin_writes_the_national_orgs_plan(plans, catalogue_org, bearer):
    samr = await catalogue_org("national", "110000")
    national = bearer("national_admin", region="100000", org=str(samr))

    created = await plans.post(PLANS, json={"year": 2026, "title": "国家级计划"}, headers=national)

    assert created.status_code == 201, created.text
    assert created.json()["level"] == "national"
    assert created.json()["plan_code"].startswith("1100002026")
