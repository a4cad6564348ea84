"""Reading credit risk classes (信用风险分类): a subject's classes with their history, and the
subject list by class, as sampling streams one stratum of a draw. Real PostgreSQL, through HTTP.

The subjects live in a county no other test pushes to (慈溪 330282), so a list filtered to it
holds only what these tests put there.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

BASE = "/api/v1/registry"
COUNTY = "330282"
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def classifier(mint_token) -> dict[str, str]:
    """Zhejiang's credit risk classification system."""
    token = mint_token(
        roles=["integrator"], region="330000", sub="zj-credit",
        scopes=["registry:risk-classes:push"],
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


def ndjson(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def county_subject(uscc, number: int, **fields: Any) -> dict[str, Any]:
    return {
        "uscc": uscc(number, COUNTY), "name": f"慈溪测试{number}有限公司",
        "subject_type": "enterprise", "status": "active", "region_code": COUNTY,
        "industry_code": "C1419", "source": "zj-aic",
        "source_updated_at": "2025-03-01T08:00:00+08:00", **fields,
    }  # fmt: skip


def risk(uscc: str, risk_class: str, as_of: str, domain: str = "general", **fields: Any) -> dict:
    return {
        "uscc": uscc, "risk_class": risk_class, "domain": domain, "source": "zj-credit",
        "as_of": as_of, **fields,
    }  # fmt: skip


async def push_subjects(registry, pusher, *rows: dict[str, Any]) -> None:
    answer = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert answer.status_code == 200, answer.text


async def push_classes(registry, classifier, *rows: dict[str, Any], **headers: str) -> dict:
    answer = await registry.post(
        f"{BASE}/risk-classes:bulk", content=ndjson(*rows), headers={**classifier, **NDJSON, **headers}
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def risk_history(registry, auth, uscc: str, **params: Any) -> Any:
    return await registry.get(f"{BASE}/subjects/{uscc}/risk-classes", params=params, headers=auth)


def changes_of(page: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c["domain"], c["old_class"], c["new_class"], c["source"], c["as_of"])
        for c in page["items"]
    ]


async def test_the_history_shows_each_change_with_its_source_and_time(
    registry, pusher, classifier, admin, uscc
):
    subject = county_subject(uscc, 1)
    await push_subjects(registry, pusher, subject)
    await push_classes(registry, classifier, risk(subject["uscc"], "B", "2025-01-01T00:00:00Z"))
    await push_classes(
        registry, classifier, risk(subject["uscc"], "C", "2025-04-01T00:00:00Z", source="zj-xy2")
    )

    answer = await risk_history(registry, admin, subject["uscc"])
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["uscc"] == subject["uscc"]
    assert found["risk_classes"] == {
        "general": {"risk_class": "C", "source": "zj-xy2", "as_of": "2025-04-01T00:00:00Z"}
    }
    assert changes_of(found) == [
        ("general", "B", "C", "zj-xy2", "2025-04-01T00:00:00Z"),
        ("general", None, "B", "zj-credit", "2025-01-01T00:00:00Z"),
    ], "newest first, class before → after"
    assert {c["actor"] for c in found["items"]} == {"zj-credit"}, "the token that pushed them"
    assert all(c["recorded_at"] for c in found["items"])
    assert found["next_cursor"] is None


async def test_a_stale_or_repeated_class_is_no_change(registry, pusher, classifier, admin, uscc):
    subject = county_subject(uscc, 2)
    await push_subjects(registry, pusher, subject)
    await push_classes(registry, classifier, risk(subject["uscc"], "B", "2025-03-01T00:00:00Z"))
    stale = await push_classes(
        registry, classifier, risk(subject["uscc"], "D", "2025-01-01T00:00:00Z")
    )
    again = await push_classes(
        registry, classifier, risk(subject["uscc"], "B", "2025-05-01T00:00:00Z")
    )
    assert (stale["stale"], again["unchanged"]) == (1, 1)

    found = (await risk_history(registry, admin, subject["uscc"])).json()
    assert changes_of(found) == [("general", None, "B", "zj-credit", "2025-03-01T00:00:00Z")]
    assert found["risk_classes"]["general"]["risk_class"] == "B"


async def test_a_retried_push_is_one_change(registry, pusher, classifier, admin, uscc):
    subject = county_subject(uscc, 3)
    await push_subjects(registry, pusher, subject)
    body = risk(subject["uscc"], "D", "2025-02-01T00:00:00Z")
    for _ in range(2):
        await push_classes(registry, classifier, body, **{"Idempotency-Key": "risk-read-3"})
    found = (await risk_history(registry, admin, subject["uscc"])).json()
    assert len(found["items"]) == 1


async def test_the_history_pages_newest_first_and_narrows_to_a_domain(
    registry, pusher, classifier, admin, uscc
):
    subject = county_subject(uscc, 4)
    await push_subjects(registry, pusher, subject)
    for risk_class, as_of in (("A", "2025-01-01"), ("B", "2025-02-01"), ("C", "2025-03-01")):
        await push_classes(
            registry, classifier, risk(subject["uscc"], risk_class, f"{as_of}T00:00:00Z")
        )
    await push_classes(
        registry, classifier, risk(subject["uscc"], "D", "2025-03-01T00:00:00Z", "food")
    )

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await risk_history(registry, admin, subject["uscc"], **params)).json()
        assert len(page["items"]) <= 2
        seen += [(c["domain"], c["new_class"]) for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("food", "D"), ("general", "C"), ("general", "B"), ("general", "A")]

    food = (await risk_history(registry, admin, subject["uscc"], domain="food")).json()
    assert [(c["domain"], c["new_class"]) for c in food["items"]] == [("food", "D")]
    assert list(food["risk_classes"]) == ["food"]


async def test_another_region_answers_as_the_subject_read_does(
    registry, pusher, classifier, bearer, uscc
):
    subject = county_subject(uscc, 5)
    await push_subjects(registry, pusher, subject)
    await push_classes(registry, classifier, risk(subject["uscc"], "B", "2025-01-01T00:00:00Z"))

    other_county = bearer("department_admin", region="330281")
    answer = await risk_history(registry, other_county, subject["uscc"])
    assert answer.status_code == 404, "another county's subject is as missing as an unknown one"
    assert answer.headers["content-type"].startswith("application/problem+json")
    own_county = bearer("department_admin", region=COUNTY)
    assert (await risk_history(registry, own_county, subject["uscc"])).status_code == 200
    assert (await risk_history(registry, own_county, uscc(99, COUNTY))).status_code == 404

    # Each province runs its own platform: another province's token is refused before any
    # subject is looked up, by this read as by `GET /subjects/{uscc}`.
    guangdong = bearer("provincial_admin", region="440000")
    subject_read = await registry.get(f"{BASE}/subjects/{subject['uscc']}", headers=guangdong)
    answer = await risk_history(registry, guangdong, subject["uscc"])
    assert answer.status_code == subject_read.status_code == 403
    assert "B" not in answer.text


async def test_roles_that_do_not_read_the_directory_are_refused(
    registry, pusher, classifier, bearer, uscc
):
    subject = county_subject(uscc, 6)
    await push_subjects(registry, pusher, subject)
    enterprise = bearer("enterprise", region="330000")
    for caller in (enterprise, classifier):
        answer = await risk_history(registry, caller, subject["uscc"])
        assert answer.status_code == 403, answer.text
    assert (await risk_history(registry, {}, subject["uscc"])).status_code == 401


async def test_bad_filters_are_422_naming_the_field(registry, admin, uscc):
    cases = [
        ("/subjects", {"risk_class": "E"}, "risk_class"),
        ("/subjects", {"risk_class": "B", "domain": "Food!"}, "domain"),
        (f"/subjects/{uscc(7, COUNTY)}/risk-classes", {"domain": "食品"}, "domain"),
        (f"/subjects/{uscc(7, COUNTY)}/risk-classes", {"limit": 0}, "limit"),
    ]
    for path, params, field in cases:
        answer = await registry.get(f"{BASE}{path}", params=params, headers=admin)
        assert answer.status_code == 422, (path, params, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_classes_pushed_as_csv_are_kept_with_their_history(
    registry, pusher, classifier, admin, uscc
):
    subject = county_subject(uscc, 8)
    await push_subjects(registry, pusher, subject)
    body = (
        "uscc,risk_class,domain,source,as_of\n"
        f"{subject['uscc']},A,general,zj-credit,2025-01-01T00:00:00Z\n"
        f"{subject['uscc']},C,food,zj-food,2025-01-02T00:00:00+08:00\n"
    )
    answer = await registry.post(
        f"{BASE}/risk-classes:bulk",
        content=body.encode(),
        headers={**classifier, "content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 2

    found = (await risk_history(registry, admin, subject["uscc"])).json()
    assert {d: c["risk_class"] for d, c in found["risk_classes"].items()} == {
        "general": "A",
        "food": "C",
    }
    assert sorted(changes_of(found)) == [
        ("food", None, "C", "zj-food", "2025-01-01T16:00:00Z"),
        ("general", None, "A", "zj-credit", "2025-01-01T00:00:00Z"),
    ]


async def test_the_subject_history_names_the_source_and_the_actor(registry, pusher, admin, uscc):
    first = county_subject(uscc, 9)
    renamed = {**first, "name": "慈溪改名公司", "source": "zj-permit",
               "source_updated_at": "2025-04-01T08:00:00+08:00"}  # fmt: skip
    await push_subjects(registry, pusher, first)
    await push_subjects(registry, pusher, renamed)
    answer = await registry.get(f"{BASE}/subjects/{first['uscc']}/history", headers=admin)
    assert answer.status_code == 200, answer.text
    assert [(h["version"], h["source"], h["actor"]) for h in answer.json()] == [
        (2, "zj-permit", "zj-aic"),
        (1, "zj-aic", "zj-aic"),
    ]


# The list by class, within an item's population ------------------------------------------


async def list_usccs(registry, auth, station: str, **params: Any) -> set[str]:
    answer = await registry.get(
        f"{BASE}/subjects", params={"unit_code": station, "limit": 500, **params}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    return {s["uscc"] for s in answer.json()["items"]}


async def test_the_list_shows_classes_and_streams_one_stratum_of_an_items_population(
    catalogue, registry, pusher, classifier, admin, national, bearer, uscc, new_uow
):
    marker = uuid.uuid4().hex[:6]
    makers = f"食品生产{marker}"
    await catalogue.replace_rules([
        {"dimension": "format", "value": makers, "when": {"industry_code_prefixes": ["C14"]}},
    ])  # fmt: skip
    item_id = await catalogue.publish_national_item(
        subject_types=["enterprise"], subject_tags=[f"format:{makers}"]
    )
    await catalogue.settle()

    station = f"330282-{marker}"  # other tests' subjects of the county are not this station's
    b, c, food_only, bare, outside = (
        county_subject(uscc, n, unit_code=station, **fields)
        for n, fields in ((11, {}), (12, {}), (13, {}), (14, {}), (15, {"industry_code": "F5221"}))
    )
    await push_subjects(registry, pusher, b, c, food_only, bare, outside)
    await push_classes(
        registry, classifier,
        risk(b["uscc"], "B", "2025-01-01T00:00:00Z"),
        risk(c["uscc"], "C", "2025-01-01T00:00:00Z"),
        risk(c["uscc"], "B", "2025-01-01T00:00:00Z", "food"),
        risk(food_only["uscc"], "A", "2025-01-01T00:00:00Z", "food"),
        risk(outside["uscc"], "B", "2025-01-01T00:00:00Z"),
    )  # fmt: skip

    async def stratum(**params: Any) -> set[str]:
        """What sampling streams: the item's population at this station, narrowed by class."""
        return await list_usccs(registry, admin, station, item_id=item_id, **params)

    population = {b["uscc"], c["uscc"], food_only["uscc"], bare["uscc"]}
    assert await stratum() == population
    listed = await registry.get(
        f"{BASE}/subjects", params={"item_id": item_id, "unit_code": station}, headers=admin
    )
    classes = {s["uscc"]: s["risk_classes"] for s in listed.json()["items"]}
    assert classes == {
        b["uscc"]: {"general": "B"},
        c["uscc"]: {"general": "C", "food": "B"},
        food_only["uscc"]: {"food": "A"},
        bare["uscc"]: {},
    }

    in_b = await stratum(risk_class="B")
    assert in_b == {b["uscc"]}, "the B subject outside the item's scope is not in its stratum"
    unclassified = await stratum(risk_class="unclassified")
    assert unclassified == {food_only["uscc"], bare["uscc"]}, (
        "a class in another domain leaves a subject unclassified in `general`"
    )
    assert await stratum(risk_class="B", domain="food") == {c["uscc"]}
    assert await stratum(risk_class="unclassified", domain="food") == {b["uscc"], bare["uscc"]}
    assert await stratum(risk_class="D") == set()
    without_item = await list_usccs(registry, admin, station, risk_class="B")
    assert without_item == {b["uscc"], outside["uscc"]}

    yuyao = bearer("department_admin", region="330281")
    elsewhere = await registry.get(
        f"{BASE}/subjects", params={"unit_code": station, "risk_class": "B"}, headers=yuyao
    )
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["items"] == [], "another county streams none of this county's"
