"""The directory of professional institutions and experts against real PostgreSQL: upsert by
natural key, retries, If-Match, bad input, jurisdictions, roles, events."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

BASE = "/api/v1/registry"


@pytest.fixture
def lab_uscc(uscc) -> str:
    """A USCC no other test uses: the database lives for the whole session."""
    return uscc(uuid.uuid4().int % 10**9, region="330100")


@pytest.fixture
def code() -> str:
    return f"ZJ-{uuid.uuid4().hex[:10].upper()}"


LAB = {"name": "浙江某检验检测研究院有限公司", "kind": "testing", "region_code": "330100",
       "qualifications": ["CNAS", "CMA"], "valid_until": "2027-12-31"}  # fmt: skip
EXPERT = {"name": "李明", "region_code": "330106", "qualifications": ["food_safety"]}


async def put_lab(registry, headers, uscc: str, body: dict | None = None, **extra):
    return await registry.put(
        f"{BASE}/institutions/{uscc}", json=LAB if body is None else body,
        headers={**headers, **extra},
    )  # fmt: skip


async def put_expert(registry, headers, code: str, body: dict | None = None, **extra):
    return await registry.put(
        f"{BASE}/experts/{code}", json=EXPERT if body is None else body,
        headers={**headers, **extra},
    )  # fmt: skip


async def listed(registry, headers, **params) -> list[dict]:
    answer = await registry.get(f"{BASE}/institutions", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def query(stack, sql: str, *args) -> list:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def fields(answer) -> list[str]:
    return sorted(e["field"] for e in answer.json()["errors"])


# --- create, retry, update ----------------------------------------------------------------------


async def test_an_institution_is_created_and_sending_it_again_changes_nothing(
    registry, admin, lab_uscc
):
    first = await put_lab(registry, admin, lab_uscc)
    again = await put_lab(registry, admin, lab_uscc)
    assert first.status_code == 201, first.text
    assert (first.json()["outcome"], first.headers["ETag"]) == ("created", '"1"')
    assert first.json()["qualifications"] == ["CMA", "CNAS"]
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["version"]) == ("unchanged", 1)
    assert again.json()["institution_id"] == first.json()["institution_id"]
    assert len(await listed(registry, admin, uscc=lab_uscc)) == 1


async def test_an_expert_sent_again_is_one_entry_whatever_the_case_of_the_code(
    registry, admin, code
):
    first = await put_expert(registry, admin, code)
    again = await put_expert(registry, admin, code.lower())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "unchanged"
    assert (first.json()["kind"], first.json()["expert_code"], first.json()["uscc"]) == (
        "expert", code, None,
    )  # fmt: skip
    assert len(await listed(registry, admin, expert_code=code)) == 1


async def test_two_simultaneous_first_writes_of_one_key_make_one_entry(registry, admin, code):
    answers = await asyncio.gather(*(put_expert(registry, admin, code) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["institution_id"] for a in answers}) == 1
    assert len(await listed(registry, admin, expert_code=code)) == 1


async def test_the_same_idempotency_key_replays_the_first_answer(registry, admin, lab_uscc):
    key = {"Idempotency-Key": f"lab-{lab_uscc}"}
    first = await put_lab(registry, admin, lab_uscc, **key)
    retry = await put_lab(registry, admin, lab_uscc, **key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.headers["ETag"] == '"1"'
    assert retry.json() == first.json()
    assert len(await listed(registry, admin, uscc=lab_uscc)) == 1


async def test_an_idempotency_key_reused_with_another_body_is_refused(registry, admin, code):
    key = {"Idempotency-Key": f"expert-{code}"}
    assert (await put_expert(registry, admin, code, **key)).status_code == 201
    other = await put_expert(registry, admin, code, {**EXPERT, "name": "李明明"}, **key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_replacing_needs_the_current_etag(registry, admin, lab_uscc):
    created = await put_lab(registry, admin, lab_uscc)
    suspended = {**LAB, "status": "suspended"}
    missing = await put_lab(registry, admin, lab_uscc, suspended)
    stale = await put_lab(registry, admin, lab_uscc, suspended, **{"If-Match": '"7"'})
    done = await put_lab(
        registry, admin, lab_uscc, suspended, **{"If-Match": created.headers["ETag"]}
    )
    assert (missing.status_code, stale.status_code) == (428, 412)
    assert done.status_code == 200, done.text
    assert (done.json()["outcome"], done.json()["status"], done.headers["ETag"]) == (
        "updated", "suspended", '"2"',
    )  # fmt: skip


async def test_a_retried_replacement_whose_answer_was_lost_succeeds_unchanged(
    registry, admin, code
):
    created = await put_expert(registry, admin, code)
    moved = {**EXPERT, "region_code": "330102"}
    etag = {"If-Match": created.headers["ETag"]}
    first = await put_expert(registry, admin, code, moved, **etag)
    retry = await put_expert(registry, admin, code, moved, **etag)
    assert first.json()["outcome"] == "updated"
    assert retry.status_code == 200
    assert (retry.json()["outcome"], retry.headers["ETag"]) == ("unchanged", '"2"')


async def test_if_match_on_a_key_not_yet_registered_is_412(registry, admin, code):
    answer = await put_expert(registry, admin, code, **{"If-Match": '"1"'})
    assert answer.status_code == 412
    assert await listed(registry, admin, expert_code=code) == []


async def test_an_entry_is_read_with_its_etag(registry, admin, lab_uscc):
    created = (await put_lab(registry, admin, lab_uscc)).json()
    answer = await registry.get(f"{BASE}/institutions/{created['institution_id']}", headers=admin)
    assert answer.status_code == 200
    assert (answer.json()["uscc"], answer.headers["ETag"]) == (lab_uscc, '"1"')


# --- bad input ----------------------------------------------------------------------------------


async def test_bad_fields_are_422_naming_each(registry, admin, lab_uscc):
    body = {**LAB, "name": "  ", "region_code": "339999", "qualifications": ["x" * 61]}
    answer = await put_lab(registry, admin, lab_uscc, body)
    assert answer.status_code == 422
    assert fields(answer) == ["name", "qualifications", "region_code"]


async def test_an_expert_is_not_registered_as_an_institution(registry, admin, lab_uscc):
    answer = await put_lab(registry, admin, lab_uscc, {**LAB, "kind": "expert"})
    assert (answer.status_code, fields(answer)) == (422, ["kind"])


async def test_a_malformed_uscc_is_422_naming_it(registry, admin):
    answer = await put_lab(registry, admin, "91330100MA27XK5B3A")
    assert (answer.status_code, fields(answer)) == (422, ["uscc"])


async def test_a_malformed_expert_code_is_422_naming_it(registry, admin):
    answer = await put_expert(registry, admin, "-bad code")
    assert (answer.status_code, fields(answer)) == (422, ["expert_code"])


async def test_an_expert_carries_no_uscc(registry, admin, code, lab_uscc):
    answer = await put_expert(registry, admin, code, {**EXPERT, "uscc": lab_uscc})
    assert (answer.status_code, fields(answer)) == (422, ["uscc"])


# --- jurisdictions and roles --------------------------------------------------------------------


async def test_another_province_is_refused_before_anything_is_read(
    registry, admin, bearer, lab_uscc
):
    created = (await put_lab(registry, admin, lab_uscc)).json()
    jiangsu = bearer("provincial_admin", region="320000")
    takeover = await put_lab(registry, jiangsu, lab_uscc, {**LAB, "region_code": "320100"})
    read = await registry.get(f"{BASE}/institutions/{created['institution_id']}", headers=jiangsu)
    listing = await registry.get(f"{BASE}/institutions", headers=jiangsu)
    assert (takeover.status_code, read.status_code, listing.status_code) == (403, 403, 403)
    assert lab_uscc not in read.text + listing.text


async def test_another_citys_entry_is_not_found_and_not_listed(registry, admin, bearer, lab_uscc):
    created = (await put_lab(registry, admin, lab_uscc)).json()
    ningbo = bearer("department_admin", region="330200")
    read = await registry.get(f"{BASE}/institutions/{created['institution_id']}", headers=ningbo)
    assert read.status_code == 404
    assert await listed(registry, ningbo, uscc=lab_uscc) == []


async def test_an_entry_outside_the_writers_region_is_403_naming_region_code(
    registry, bearer, code
):
    hangzhou = bearer("department_admin", region="330100")
    answer = await put_expert(registry, hangzhou, code, {**EXPERT, "region_code": "330206"})
    assert (answer.status_code, fields(answer)) == (403, ["region_code"])


async def test_a_city_department_admin_keeps_its_city_only(registry, admin, bearer, code):
    await put_expert(registry, admin, code, {**EXPERT, "region_code": "330206"})
    hangzhou = bearer("department_admin", region="330100")
    takeover = await put_expert(registry, hangzhou, code)
    own = await put_expert(registry, hangzhou, f"{code}-H")
    assert (takeover.status_code, fields(takeover)) == (403, ["expert_code"])
    assert own.status_code == 201


@pytest.mark.parametrize("role", ["inspector", "station_staff", "reviewer", "partner_admin"])
async def test_a_role_that_does_not_keep_the_directory_cannot_write(registry, bearer, code, role):
    answer = await put_expert(registry, bearer(role), code)
    assert answer.status_code == 403


async def test_readers_list_and_others_are_refused(registry, admin, bearer, code):
    await put_expert(registry, admin, code)
    inspector = bearer("inspector", region="330106")
    assert [e["expert_code"] for e in await listed(registry, inspector, expert_code=code)] == [code]
    enterprise = bearer("enterprise")
    refused = await registry.get(f"{BASE}/institutions", headers=enterprise)
    assert refused.status_code == 403


# --- events -------------------------------------------------------------------------------------


async def test_each_change_of_an_institution_is_one_event_and_no_change_is_none(
    registry, admin, stack, lab_uscc
):
    created = await put_lab(registry, admin, lab_uscc)
    await put_lab(registry, admin, lab_uscc)
    suspended = {**LAB, "status": "suspended"}
    await put_lab(registry, admin, lab_uscc, suspended, **{"If-Match": created.headers["ETag"]})
    events = await query(
        stack,
        "SELECT envelope->'data' AS d FROM outbox WHERE event_type = "
        "'registry.institution.upserted.v1' AND envelope->'data'->>'uscc' = $1",
        lab_uscc,
    )
    data = sorted((json.loads(e["d"]) for e in events), key=lambda d: d["version"])
    assert [(d["version"], d["status"]) for d in data] == [(1, "active"), (2, "suspended")]
    assert data[0]["institution_id"] == created.json()["institution_id"]
    assert (data[0]["kind"], data[0]["qualifications"]) == ("testing", ["CMA", "CNAS"])


async def test_an_expert_is_announced_by_code_without_any_uscc(registry, admin, stack, code):
    created = (await put_expert(registry, admin, code)).json()
    events = await query(
        stack,
        "SELECT envelope->'data' AS d FROM outbox WHERE event_type = "
        "'registry.expert.upserted.v1' AND envelope->'data'->>'expert_code' = $1",
        code,
    )
    assert len(events) == 1
    data = json.loads(events[0]["d"])
    assert (data["expert_id"], data["region_code"], data["version"]) == (
        created["institution_id"], "330106", 1,
    )  # fmt: skip
    assert "uscc" not in data


async def test_openapi_names_the_operations(registry):
    paths = (await registry.get("/openapi.json")).json()["paths"]
    ids = {op["operationId"] for item in paths.values() for op in item.values()}
    assert {"registry_institutions_upsert", "registry_experts_upsert",
            "registry_institutions_list", "registry_institutions_get"} <= ids  # fmt: skip
