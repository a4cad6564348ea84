"""Risk-ratio policies over HTTP against real PostgreSQL: who may set which, If-Match on
replacing, refusals naming the rule and class (writing nothing), what another region sees,
which policy applies, and the audit event in the outbox."""

import itertools
import random
import uuid

import asyncpg
import pytest

POLICIES = "/api/v1/planning/policies"
EFFECTIVE = "/api/v1/planning/policies:effective"
EVENT = "planning.policy.upserted.v1"

# Each test takes its own plan years, so what one stores never decides another's resolution.
_years = itertools.count(2100 + random.randrange(0, 40) * 20)

DEFAULTS = {
    "A": {"min_ratio": "0%", "max_ratio": "5%", "frequency_per_year": 1},
    "B": {"min_ratio": "5%", "max_ratio": "20%", "frequency_per_year": 1},
    "C": {"min_ratio": "20%", "max_ratio": "60%", "frequency_per_year": 2},
    "D": {"min_ratio": "60%", "max_ratio": "100%", "frequency_per_year": 2},
}


def classes(**changed):
    return {"classes": {**DEFAULTS, **changed}}


@pytest.fixture
def year():
    return next(_years)


@pytest.fixture
async def planning_api(service_client):
    return await service_client("planning")


@pytest.fixture
def county(bearer):
    """A county department (西湖区) with its org id in its token."""
    org = uuid.uuid4()
    return org, bearer("department_admin", region="330106", org=str(org))


def events_of(announced, policy_id):
    return [e for e in announced if e["policy_id"] == policy_id]


async def test_a_province_sets_its_policy_and_the_change_is_announced(
    planning_api, bearer, ledger, year
):
    body = classes(A={"min_ratio": "3%", "max_ratio": "5/100", "frequency_per_year": 1})

    created = await planning_api.put(
        f"{POLICIES}/{year}/330000", json=body, headers=bearer("provincial_admin")
    )

    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    policy = created.json()
    assert (policy["holder"], policy["province"], policy["version"]) == ("province", "33", 1)
    assert policy["classes"]["A"] == {
        "min_ratio": "3/100", "max_ratio": "1/20", "frequency_per_year": 1,
    }  # fmt: skip
    assert policy["unclassified_treatment"] == "B"
    [event] = events_of(await ledger("planning").announced_data(EVENT), policy["policy_id"])
    assert event["classes"]["A"]["min_ratio"] == "3/100"
    assert (event["previous"], event["version"], event["region_code"]) == (None, 1, "330000")


async def test_replacing_needs_the_current_etag_and_records_what_was_before(
    planning_api, bearer, ledger, year
):
    admin = bearer("provincial_admin")
    url = f"{POLICIES}/{year}/330000"
    first = (await planning_api.put(url, json=classes(), headers=admin)).json()
    tighter = classes(D={"min_ratio": "4/5", "max_ratio": "1/1", "frequency_per_year": 3})

    missing = await planning_api.put(url, json=tighter, headers=admin)
    replaced = await planning_api.put(url, json=tighter, headers={**admin, "If-Match": '"1"'})
    stale = await planning_api.put(url, json=classes(), headers={**admin, "If-Match": '"1"'})

    assert missing.status_code == 428
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert stale.json()["type"] == "/problems/precondition-failed"
    stored = (await planning_api.get(url, headers=admin)).json()
    assert (stored["version"], stored["classes"]["D"]["min_ratio"]) == (2, "4/5")
    announced = events_of(await ledger("planning").announced_data(EVENT), first["policy_id"])
    assert [e["version"] for e in announced] == [1, 2]
    assert announced[1]["previous"]["D"]["min_ratio"] == "3/5"


async def test_sending_the_stored_policy_again_changes_nothing(planning_api, bearer, ledger, year):
    admin = bearer("provincial_admin")
    url = f"{POLICIES}/{year}/330000"
    first = (await planning_api.put(url, json=classes(), headers=admin)).json()

    again = await planning_api.put(url, json=classes(), headers=admin)

    assert again.status_code == 200
    assert again.json()["version"] == 1
    announced = events_of(await ledger("planning").announced_data(EVENT), first["policy_id"])
    assert len(announced) == 1


@pytest.mark.parametrize(
    ("changed", "rule", "risk_class", "field"),
    [
        ({"C": {"min_ratio": "1/2", "max_ratio": "2/5", "frequency_per_year": 2}},
         "min_above_max", "C", "classes.C.min_ratio"),
        ({"B": {"min_ratio": "0%", "max_ratio": "20%", "frequency_per_year": 1},
          "A": {"min_ratio": "1%", "max_ratio": "5%", "frequency_per_year": 1}},
         "riskier_class_min_below_safer", "B", "classes.B.min_ratio"),
        ({"D": {"min_ratio": "60%", "max_ratio": "100%", "frequency_per_year": 1}},
         "riskier_class_less_frequent", "D", "classes.D.frequency_per_year"),
        ({"D": {"min_ratio": "60%", "max_ratio": "150%", "frequency_per_year": 2}},
         "ratio_not_valid", "D", "classes.D.max_ratio"),
    ],
)  # fmt: skip
async def test_a_policy_breaking_a_rule_is_refused_naming_rule_and_class_and_nothing_is_stored(
    planning_api, bearer, year, changed, rule, risk_class, field
):
    admin = bearer("provincial_admin")
    url = f"{POLICIES}/{year}/330000"

    refused = await planning_api.put(url, json=classes(**changed), headers=admin)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/risk-ratio-policy-not-valid"
    assert {"rule": rule, "risk_class": risk_class, "field": field} in problem["violations"]
    assert field in [e["field"] for e in problem["errors"]]
    assert (await planning_api.get(url, headers=admin)).status_code == 404


async def test_a_policy_missing_a_class_is_refused(planning_api, bearer, year):
    body = {"classes": {c: v for c, v in DEFAULTS.items() if c != "B"}}

    refused = await planning_api.put(
        f"{POLICIES}/{year}/330000", json=body, headers=bearer("provincial_admin")
    )

    assert refused.status_code == 422
    assert refused.json()["violations"][0]["rule"] == "class_missing"


async def test_a_holder_that_is_neither_national_a_province_nor_an_org_is_a_422(
    planning_api, bearer, year
):
    answer = await planning_api.put(
        f"{POLICIES}/{year}/330100", json=classes(), headers=bearer("provincial_admin")
    )

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["holder"]


@pytest.mark.parametrize(
    ("roles", "region", "holder", "status"),
    [
        (["department_admin"], "330106", "330000", 403),  # a department sets no province policy
        (["provincial_admin"], "330000", "national", 403),  # nor a province the national one
        (["department_admin"], "330106", str(uuid.uuid4()), 403),  # nor another department's
        (["provincial_admin"], "440000", "440000", 403),  # another province's token
        (["auditor"], "330000", "330000", 403),
        (["national_admin"], "100000", "330000", 403),  # the national admin sets defaults only
        (None, None, "330000", 401),
    ],
)
async def test_only_the_holder_may_set_a_policy(
    planning_api, bearer, ledger, year, roles, region, holder, status
):
    headers = bearer(*roles, region=region, org=str(uuid.uuid4())) if roles else {}
    before = len(await ledger("planning").announced(EVENT))

    answer = await planning_api.put(f"{POLICIES}/{year}/{holder}", json=classes(), headers=headers)

    assert answer.status_code == status, answer.text
    assert len(await ledger("planning").announced(EVENT)) == before


async def test_the_national_admin_sets_the_national_default(planning_api, bearer, year):
    answer = await planning_api.put(
        f"{POLICIES}/{year}/national", json=classes(), headers=bearer("national_admin",
                                                                      region="100000"),
    )  # fmt: skip

    assert answer.status_code == 201, answer.text
    assert (answer.json()["holder"], answer.json()["province"]) == ("national", None)


async def test_a_department_sets_its_own_policy(planning_api, county, year):
    org, headers = county

    answer = await planning_api.put(f"{POLICIES}/{year}/{org}", json=classes(), headers=headers)

    assert answer.status_code == 201, answer.text
    assert (answer.json()["holder"], answer.json()["org_id"]) == ("org", str(org))


async def test_a_department_sees_its_own_and_its_provinces_policies_not_its_neighbours(
    planning_api, bearer, county, year
):
    org, own = county
    neighbour_org = uuid.uuid4()
    neighbour = bearer("department_admin", region="330206", org=str(neighbour_org))
    await planning_api.put(f"{POLICIES}/{year}/{org}", json=classes(), headers=own)
    await planning_api.put(f"{POLICIES}/{year}/{neighbour_org}", json=classes(), headers=neighbour)
    await planning_api.put(
        f"{POLICIES}/{year}/330000", json=classes(), headers=bearer("provincial_admin")
    )

    listed = await planning_api.get(POLICIES, params={"year": year}, headers=own)
    hidden = await planning_api.get(f"{POLICIES}/{year}/{neighbour_org}", headers=own)
    province_wide = await planning_api.get(
        POLICIES, params={"year": year}, headers=bearer("provincial_admin")
    )

    assert listed.status_code == 200
    assert {(p["holder"], p["org_id"]) for p in listed.json()["items"]} == {
        ("org", str(org)), ("province", None),
    }  # fmt: skip
    assert hidden.status_code == 404
    assert len(province_wide.json()["items"]) == 3


async def test_another_provinces_policies_are_invisible(planning_api, bearer, stack, year):
    """A policy of province 44 (as a national deployment's shared database would hold it)
    is neither listed nor applied for province 33."""
    conn = await asyncpg.connect(stack.database_url("planning"))
    try:
        await conn.execute(
            "INSERT INTO risk_ratio_policies (policy_id, policy_key, holder, province, "
            "region_code, effective_year, classes, unclassified_treatment, version, updated_by, "
            "updated_at) VALUES ($1, $2, 'province', '44', '440000', $3, $4::jsonb, 'B', 1, "
            "'test', now())",
            uuid.uuid4(), f"{year}/province/44/*", year,
            '{"A": {"min_ratio": "1/1", "max_ratio": "1/1", "frequency_per_year": 9}}',
        )  # fmt: skip
    finally:
        await conn.close()
    admin = bearer("provincial_admin")

    listed = await planning_api.get(POLICIES, params={"year": year}, headers=admin)
    effective = await planning_api.get(EFFECTIVE, params={"year": year}, headers=admin)
    refused = await planning_api.get(POLICIES, headers=bearer("provincial_admin", region="440000"))

    assert listed.json()["items"] == []
    assert effective.json()["source"] == "platform_default"
    assert refused.status_code == 403


async def test_the_list_pages_with_a_cursor(planning_api, bearer, year):
    admin = bearer("provincial_admin")
    items = sorted(str(uuid.uuid4()) for _ in range(3))
    for item in items:
        await planning_api.put(
            f"{POLICIES}/{year}/330000", params={"item_id": item}, json=classes(), headers=admin
        )

    first = (await planning_api.get(POLICIES, params={"year": year, "limit": 2},
                                    headers=admin)).json()  # fmt: skip
    second = (await planning_api.get(POLICIES, params={"year": year, "limit": 2,
                                     "cursor": first["next_cursor"]}, headers=admin)).json()  # fmt: skip

    seen = [p["item_id"] for p in first["items"] + second["items"]]
    assert seen == items
    assert second["next_cursor"] is None


async def test_the_most_specific_policy_applies_and_the_answer_says_which(
    planning_api, bearer, county, year
):
    org, department = county
    item = str(uuid.uuid4())
    province, national = bearer("provincial_admin"), bearer("national_admin", region="100000")

    async def source() -> str:
        answer = await planning_api.get(
            EFFECTIVE, params={"year": year, "item_id": item}, headers=department
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["source"])

    def marked(frequency: int):
        # Each level's policy is told apart by its class D frequency.
        return classes(D={"min_ratio": "60%", "max_ratio": "100%", "frequency_per_year": frequency})

    seen = [await source()]
    for holder, params, headers, frequency in [
        ("national", {}, national, 3),
        ("330000", {}, province, 4),
        (str(org), {}, department, 5),
        ("330000", {"item_id": item}, province, 6),
        (str(org), {"item_id": item}, department, 7),
    ]:
        stored = await planning_api.put(
            f"{POLICIES}/{year}/{holder}", params=params, json=marked(frequency), headers=headers
        )
        assert stored.status_code == 201, stored.text
        seen.append(await source())

    assert seen == [
        "platform_default", "national", "province", "org", "province_item", "org_item",
    ]  # fmt: skip
    applied = await planning_api.get(
        EFFECTIVE, params={"year": year, "item_id": item}, headers=department
    )
    assert applied.json()["policy"]["classes"]["D"]["frequency_per_year"] == 7


async def test_the_platform_default_is_answered_when_nothing_is_set(planning_api, county, year):
    _, department = county

    answer = await planning_api.get(EFFECTIVE, params={"year": year}, headers=department)

    assert answer.status_code == 200
    effective = answer.json()
    assert effective["source"] == "platform_default"
    assert effective["policy"]["policy_id"] is None
    assert {c: (v["min_ratio"], v["max_ratio"], v["frequency_per_year"])
            for c, v in effective["policy"]["classes"].items()} == {
        "A": ("0/1", "1/20", 1), "B": ("1/20", "1/5", 1),
        "C": ("1/5", "3/5", 2), "D": ("3/5", "1/1", 2),
    }  # fmt: skip


async def test_another_departments_policy_outside_the_region_is_not_disclosed(
    planning_api, bearer, county, year
):
    _, department = county
    neighbour_org = uuid.uuid4()
    neighbour = bearer("department_admin", region="330206", org=str(neighbour_org))
    await planning_api.put(f"{POLICIES}/{year}/{neighbour_org}", json=classes(), headers=neighbour)

    answer = await planning_api.get(
        EFFECTIVE, params={"year": year, "org_id": str(neighbour_org)}, headers=department
    )

    assert answer.status_code == 404


async def test_withdrawing_an_item_policy_falls_back_to_the_province_and_is_announced(
    planning_api, bearer, ledger, year
):
    admin = bearer("provincial_admin")
    item = str(uuid.uuid4())
    item_url = f"{POLICIES}/{year}/330000"
    await planning_api.put(item_url, json=classes(), headers=admin)
    stored = (
        await planning_api.put(item_url, params={"item_id": item}, json=classes(), headers=admin)
    ).json()

    unmatched = await planning_api.delete(item_url, params={"item_id": item}, headers=admin)
    stale = await planning_api.delete(
        item_url, params={"item_id": item}, headers={**admin, "If-Match": '"2"'}
    )
    withdrawn = await planning_api.delete(
        item_url, params={"item_id": item}, headers={**admin, "If-Match": '"1"'}
    )
    again = await planning_api.delete(
        item_url, params={"item_id": item}, headers={**admin, "If-Match": '"1"'}
    )
    effective = await planning_api.get(
        EFFECTIVE, params={"year": year, "item_id": item}, headers=admin
    )

    assert (unmatched.status_code, stale.status_code) == (428, 412)
    assert withdrawn.status_code == 204
    assert again.status_code == 404
    assert effective.json()["source"] == "province"
    [event] = [
        e for e in await ledger("planning").announced_data("planning.policy.deleted.v1")
        if e["policy_id"] == stored["policy_id"]
    ]  # fmt: skip
    assert (event["item_id"], event["version"], event["previous"]["A"]["max_ratio"]) == (
        item, 1, "1/20",
    )  # fmt: skip


async def test_a_department_cannot_withdraw_its_provinces_policy(
    planning_api, bearer, county, year
):
    _, department = county
    url = f"{POLICIES}/{year}/330000"
    await planning_api.put(url, json=classes(), headers=bearer("provincial_admin"))

    refused = await planning_api.delete(url, headers={**department, "If-Match": '"1"'})

    assert refused.status_code == 403
    assert (await planning_api.get(url, headers=department)).status_code == 200


async def test_a_national_caller_names_the_province_whose_policy_applies(
    planning_api, bearer, year
):
    await planning_api.put(
        f"{POLICIES}/{year}/330000", json=classes(), headers=bearer("provincial_admin")
    )
    national = bearer("national_admin", region="100000")

    named = await planning_api.get(EFFECTIVE, params={"year": year, "province": "33"},
                                   headers=national)  # fmt: skip
    unnamed = await planning_api.get(EFFECTIVE, params={"year": year}, headers=national)
    other = await planning_api.get(
        EFFECTIVE, params={"year": year, "province": "44"}, headers=bearer("provincial_admin")
    )

    assert (named.json()["source"], unnamed.json()["source"]) == ("province", "platform_default")
    assert other.status_code == 403


@pytest.mark.parametrize("frequency", [1.5, "2", True])
async def test_a_frequency_that_is_no_whole_number_is_refused_naming_its_field(
    planning_api, bearer, year, frequency
):
    body = classes(C={"min_ratio": "20%", "max_ratio": "60%", "frequency_per_year": frequency})

    refused = await planning_api.put(
        f"{POLICIES}/{year}/330000", json=body, headers=bearer("provincial_admin")
    )

    assert refused.status_code == 422
    assert any("frequency_per_year" in e["field"] for e in refused.json()["errors"])
