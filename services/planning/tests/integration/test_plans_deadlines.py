"""Plan deadlines (R5, R6): 31 March by default, set per province by its provincial admin; a
late plan is accepted and flagged; the report counts every market-supervision org at county
level and above as on time, late or not yet submitted."""

import pytest
from planning_testkit import add_batch

PLANS = "/api/v1/planning/plans"
DEADLINES = "/api/v1/planning/deadlines"


@pytest.fixture
async def plans(service_client, test_catalogue):
    return await service_client("planning")


async def test_the_deadline_is_31_march_until_the_province_sets_another(plans, bearer):
    reader = bearer("department_admin", region="330106")

    default = await plans.get(f"{DEADLINES}/2050", headers=reader)
    put = await plans.put(f"{DEADLINES}/2050", json={"deadline": "2050-04-15"},
                          headers=bearer("provincial_admin", sub="province"))  # fmt: skip
    configured = await plans.get(f"{DEADLINES}/2050", headers=reader)

    assert default.json() == {"province": "330000", "year": 2050, "deadline": "2050-03-31",
                              "configured": False}  # fmt: skip
    assert put.status_code == 200, put.text
    assert configured.json()["deadline"] == "2050-04-15"
    assert configured.json()["configured"] is True


async def test_a_submission_takes_the_deadline_its_province_set(plans, bearer, catalogue_org):
    await plans.put(f"{DEADLINES}/2051", json={"deadline": "2051-05-20"},
                    headers=bearer("provincial_admin"))  # fmt: skip
    org = await catalogue_org("county", "330106")
    admin = bearer("department_admin", region="330106", org=str(org))
    created = await plans.post(PLANS, json={"year": 2051, "title": "计划"}, headers=admin)
    plan = created.json()
    assert (await add_batch(plans, plan, admin)).status_code == 201

    submitted = await plans.post(
        f"{PLANS}/{plan['plan_id']}/versions/1:submit",
        headers={**admin, "If-Match": created.headers["ETag"]},
    )

    assert submitted.json()["deadline"] == "2051-05-20"
    assert submitted.json()["late"] is False


@pytest.mark.parametrize(
    ("roles", "region", "body", "status", "field"),
    [
        (["department_admin"], "330106", {"deadline": "2052-04-01"}, 403, None),
        (["provincial_admin"], "330000", {"deadline": "2053-04-01"}, 422, "deadline"),
        (["provincial_admin"], "330000", {"deadline": "soon"}, 422, "deadline"),
        (["provincial_admin"], "440000", {"deadline": "2052-04-01"}, 403, None),
    ],
)
async def test_only_the_provinces_admin_sets_a_deadline_inside_the_year(
    plans, bearer, roles, region, body, status, field
):
    answer = await plans.put(f"{DEADLINES}/2052", json=body, headers=bearer(*roles, region=region))
    after = await plans.get(f"{DEADLINES}/2052", headers=bearer("provincial_admin"))

    assert answer.status_code == status, answer.text
    if field:
        assert field in " ".join(e["field"] for e in answer.json()["errors"])
    assert after.json()["configured"] is False


async def test_the_report_counts_on_time_late_and_missing_plans(plans, bearer, catalogue_org):
    # A city of its own (Taizhou, 3310), so the counts are this test's orgs alone.
    city = await catalogue_org("city", "331000")
    on_time = await catalogue_org("county", "331002", parent=city)
    late = await catalogue_org("county", "331003", parent=city)
    drafting = await catalogue_org("county", "331004", parent=city)
    await catalogue_org("station", "331002", parent=on_time)
    await catalogue_org("county", "331002", department_type="ecology_environment")
    await catalogue_org("county", "331081", parent=city, status="closed")

    async def submit(org, region, year):
        admin = bearer("department_admin", region=region, org=str(org))
        created = await plans.post(PLANS, json={"year": year, "title": "计划"}, headers=admin)
        plan = created.json()
        assert (await add_batch(plans, plan, admin)).status_code == 201
        await plans.post(f"{PLANS}/{plan['plan_id']}/versions/1:submit",
                         headers={**admin, "If-Match": created.headers["ETag"]})  # fmt: skip
        return plan

    # The deadline of 2097 is ahead, that of 2023 behind, whatever day the test runs.
    on_time_plan = await submit(on_time, "331002", 2097)
    await submit(late, "331003", 2023)
    admin = bearer("department_admin", region="331004", org=str(drafting))
    await plans.post(PLANS, json={"year": 2097, "title": "草稿"}, headers=admin)
    city_admin = bearer("department_admin", region="331000", org=str(city))

    future = await plans.get(f"{DEADLINES}/2097/report", headers=city_admin)
    past = await plans.get(f"{DEADLINES}/2023/report", headers=city_admin)

    assert future.status_code == 200, future.text
    standings = {o["org_id"]: o["standing"] for o in future.json()["orgs"]}
    assert standings == {
        str(city): "not_submitted", str(on_time): "on_time", str(late): "not_submitted",
        str(drafting): "not_submitted",
    }  # fmt: skip
    assert future.json()["counts"] == {"on_time": 1, "late": 0, "not_submitted": 3}
    [row] = [o for o in future.json()["orgs"] if o["org_id"] == str(on_time)]
    assert row["plan_code"] == on_time_plan["plan_code"]
    assert row["deadline"] == "2097-03-31"
    assert past.json()["counts"] == {"on_time": 0, "late": 1, "not_submitted": 3}


async def test_the_report_keeps_to_the_callers_region(plans, bearer, catalogue_org):
    county = await catalogue_org("county", "331102")
    elsewhere = await catalogue_org("county", "331121")

    answer = await plans.get(
        f"{DEADLINES}/2097/report",
        headers=bearer("department_admin", region="331102", org=str(county)),
    )
    inspector = await plans.get(f"{DEADLINES}/2097/report", headers=bearer("inspector"))

    listed = {o["org_id"] for o in answer.json()["orgs"]}
    assert str(county) in listed
    assert str(elsewhere) not in listed
    assert inspector.status_code == 403
