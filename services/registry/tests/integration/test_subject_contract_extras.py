"""Promises of the subject and inspector APIs that the main suites do not pin: the one-subject
upsert's versions and retries, a streamed push over the size limit, and the inspector list's
personal data. Real PostgreSQL and NATS, through HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

BASE = "/api/v1/registry"
PUSH = f"{BASE}/subjects:bulk"
NDJSON = {"content-type": "application/x-ndjson"}
SMALL_PUSH_LIMIT = 2048
ORG_CODE = "330106001"
STATION_CODE = "330106-01"


def line_of(row: dict) -> bytes:
    return (json.dumps(row, ensure_ascii=False) + "\n").encode()


async def fetch(stack, sql: str, *args) -> list:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def announced_versions(stack, uscc: str) -> list[int]:
    """The versions the outbox announced for this subject, oldest first."""
    rows = await fetch(
        stack,
        "SELECT envelope->'data'->>'version' AS version FROM outbox "
        "WHERE event_type = 'registry.subject.upserted.v1' AND envelope->'data'->>'uscc' = $1 "
        "ORDER BY seq",
        uscc,
    )
    return [int(r["version"]) for r in rows]


def body_of(row: dict) -> dict:
    """What `PUT /subjects/{uscc}` takes: the row without its USCC (that is in the path)."""
    return {k: v for k, v in row.items() if k != "uscc"}


# --- PUT /subjects/{uscc} ---------------------------------------------------------------------


async def test_one_subject_is_created_then_updated_then_left_alone_when_unchanged(
    registry, pusher, admin, subject_row, stack
):
    first = subject_row(9_420_001)
    renamed = subject_row(
        9_420_001, name="杭州改名后企业有限公司", source_updated_at="2025-06-01T08:00:00+08:00"
    )
    url = f"{BASE}/subjects/{first['uscc']}"

    created = await registry.put(url, json=body_of(first), headers=pusher)
    assert created.status_code == 200, created.text
    assert (created.json()["created"], created.json()["applied"]) == (1, True)

    updated = await registry.put(url, json=body_of(renamed), headers=pusher)
    assert (updated.json()["updated"], updated.json()["created"]) == (1, 0), updated.text

    again = await registry.put(url, json=body_of(renamed), headers=pusher)
    assert (again.json()["unchanged"], again.json()["updated"]) == (1, 0), again.text

    stored = await registry.get(url, headers=admin)
    assert (stored.headers["etag"], stored.json()["name"]) == ('"2"', renamed["name"])
    assert await announced_versions(stack, first["uscc"]) == [1, 2], "unchanged adds no event"


async def test_a_retried_put_answers_its_first_answer_without_a_new_version_or_event(
    registry, pusher, admin, subject_row, stack
):
    first = subject_row(9_420_011)
    renamed = subject_row(
        9_420_011, name="杭州新名称企业有限公司", source_updated_at="2025-06-01T08:00:00+08:00"
    )
    url = f"{BASE}/subjects/{first['uscc']}"
    key = {"Idempotency-Key": f"put-{uuid.uuid4()}"}

    original = await registry.put(url, json=body_of(first), headers={**pusher, **key})
    assert original.json()["created"] == 1, original.text
    await registry.put(url, json=body_of(renamed), headers=pusher)

    # A client that never saw the first answer retries it after the subject has moved on.
    retried = await registry.put(url, json=body_of(first), headers={**pusher, **key})
    assert retried.status_code == original.status_code
    assert retried.json() == original.json()
    assert retried.headers["idempotent-replayed"] == "true"
    stored = await registry.get(url, headers=admin)
    assert (stored.headers["etag"], stored.json()["name"]) == ('"2"', renamed["name"])
    assert await announced_versions(stack, first["uscc"]) == [1, 2]


async def test_repeating_a_push_to_a_freshly_started_registry_answers_unchanged(
    registry, service_client, pusher, subject_row, stack
):
    row = subject_row(9_420_061)
    first = await registry.put(f"{BASE}/subjects/{row['uscc']}", json=body_of(row), headers=pusher)
    assert first.json()["created"] == 1, first.text
    restarted = await service_client("registry")
    again = await restarted.post(PUSH, content=line_of(row), headers={**pusher, **NDJSON})
    assert again.status_code == 200, again.text
    assert again.json()["unchanged"] == 1
    assert await announced_versions(stack, row["uscc"]) == [1]


async def test_a_key_sent_again_with_another_body_is_refused_and_changes_nothing(
    registry, pusher, subject_row, stack
):
    row = subject_row(9_420_021)
    url = f"{BASE}/subjects/{row['uscc']}"
    key = {"Idempotency-Key": f"put-{uuid.uuid4()}"}
    await registry.put(url, json=body_of(row), headers={**pusher, **key})
    other = {**body_of(row), "name": "另一个名称有限公司"}
    answer = await registry.put(url, json=other, headers={**pusher, **key})
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "/problems/idempotency-key-reused"
    assert await announced_versions(stack, row["uscc"]) == [1]


async def test_a_put_with_a_malformed_uscc_is_422_naming_it(registry, pusher, subject_row, stack):
    row = subject_row(9_420_031)
    wrong_check = row["uscc"][:-1] + ("0" if row["uscc"][-1] != "0" else "1")
    answer = await registry.put(f"{BASE}/subjects/{wrong_check}", json=body_of(row), headers=pusher)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == ["uscc"]
    assert await announced_versions(stack, wrong_check) == []


async def test_a_put_of_a_subject_outside_the_province_is_422_naming_the_region(
    registry, pusher, subject_row, stack
):
    row = subject_row(9_420_041, region_code="440106")
    answer = await registry.put(f"{BASE}/subjects/{row['uscc']}", json=body_of(row), headers=pusher)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["region_code"]
    assert await announced_versions(stack, row["uscc"]) == []


async def test_a_reader_cannot_put_a_subject(registry, mint_token, subject_row, stack):
    auditor = {"Authorization": f"Bearer {mint_token(roles=['auditor'], region='330000')}"}
    row = subject_row(9_420_051)
    answer = await registry.put(
        f"{BASE}/subjects/{row['uscc']}", json=body_of(row), headers=auditor
    )
    assert answer.status_code == 403, answer.text
    assert await announced_versions(stack, row["uscc"]) == []


# --- A streamed push over the size limit ------------------------------------------------------


@pytest.fixture
def small_push_limit(registry, monkeypatch) -> int:
    monkeypatch.setattr(registry._transport.app.state.settings, "max_push_bytes", SMALL_PUSH_LIMIT)
    return SMALL_PUSH_LIMIT


class ChunkedBody:
    """One NDJSON line per chunk and no Content-Length; counts how much the registry read."""

    def __init__(self, rows: list[dict]) -> None:
        self.lines = [line_of(row) for row in rows]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for line in self.lines:
            self.sent += 1
            yield line


async def stored_and_announced(stack, usccs: list[str]) -> tuple[int, int]:
    subjects = await fetch(stack, "SELECT 1 FROM subjects WHERE uscc = ANY($1)", usccs)
    events = await fetch(
        stack,
        "SELECT 1 FROM outbox WHERE event_type = 'registry.subject.upserted.v1' "
        "AND envelope->'data'->>'uscc' = ANY($1)",
        usccs,
    )
    return len(subjects), len(events)


async def test_a_chunked_push_over_the_limit_is_413_while_streaming_and_applies_nothing(
    registry, pusher, subject_row, stack, small_push_limit
):
    rows = [subject_row(9_421_000 + i) for i in range(40)]
    body = ChunkedBody(rows)
    assert sum(len(line) for line in body.lines) > 4 * small_push_limit
    answer = await registry.post(PUSH, content=body.__aiter__(), headers={**pusher, **NDJSON})
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"] == "/problems/payload-too-large"
    assert body.sent < len(rows), "the registry read the whole body before refusing it"
    assert await stored_and_announced(stack, [r["uscc"] for r in rows]) == (0, 0)


async def test_a_chunked_push_under_the_limit_is_applied(
    registry, pusher, subject_row, stack, small_push_limit
):
    rows = [subject_row(9_421_100 + i) for i in range(3)]
    body = ChunkedBody(rows)
    assert sum(len(line) for line in body.lines) < small_push_limit
    answer = await registry.post(PUSH, content=body.__aiter__(), headers={**pusher, **NDJSON})
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 3
    assert await stored_and_announced(stack, [r["uscc"] for r in rows]) == (3, 3)


# --- The inspector list and personal data -----------------------------------------------------


@pytest.fixture
async def officer(registry, admin, mint_token) -> dict:
    """An officer with every personal field filled: certificate, justice link and a conflict."""
    orgs = (
        "code,name,level,region_code,parent_code,is_hq\n"
        f"{ORG_CODE},杭州市西湖区市场监督管理局,county,330106,,true\n"
        f"{STATION_CODE},西湖区市场监督管理局第一市场监管所,station,330106,{ORG_CODE},false\n"
    )
    loaded = await registry.post(
        f"{BASE}/orgs:import", content=orgs.encode(), headers={**admin, "content-type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    qualification = f"q{uuid.uuid4().hex[:10]}"
    cert_no = f"P{uuid.uuid4().hex[:12].upper()}"
    syncer = mint_token(roles=["integrator"], region="330000", scopes=["registry:inspectors:sync"])
    record = {
        "justice_db_ref": f"SF-{cert_no}", "name": "陈静", "cert_no": cert_no,
        "cert_valid_until": "2028-01-01", "unit_code": ORG_CODE, "region_code": "330106",
        "qualifications": [qualification],
    }  # fmt: skip
    synced = await registry.post(
        f"{BASE}/inspectors:sync-justice",
        json={"records": [record]},
        headers={"Authorization": f"Bearer {syncer}"},
    )
    assert synced.json()["created"] == 1, synced.text
    listed = await registry.get(
        f"{BASE}/inspectors", params={"qualification": qualification}, headers=admin
    )
    [found] = listed.json()["items"]
    declared = await registry.post(
        f"{BASE}/inspectors/{found['inspector_id']}/conflicts",
        json={"subject_uscc": "91350100M000100Y43", "reason": "亲属"},
        headers=admin,
    )
    assert declared.status_code == 201, declared.text
    return {"qualification": qualification, "cert_no": cert_no, "id": found["inspector_id"]}


async def listed_and_read(registry, officer: dict, headers: dict) -> tuple[dict, dict]:
    listed = await registry.get(
        f"{BASE}/inspectors", params={"qualification": officer["qualification"]}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["items"]
    one = await registry.get(f"{BASE}/inspectors/{officer['id']}", headers=headers)
    assert one.status_code == 200, one.text
    return entry, one.json()


@pytest.mark.parametrize("role", ["station_staff", "reviewer", "auditor", "inspector"])
async def test_the_inspector_list_hides_what_reading_one_hides(role, registry, officer, mint_token):
    headers = {"Authorization": f"Bearer {mint_token(roles=[role], region='330000')}"}
    entry, one = await listed_and_read(registry, officer, headers)
    hidden = (entry["cert_no"], entry["justice_db_ref"], entry["conflicts"])
    assert (hidden, entry["personal_data_shown"]) == ((None, None, None), False)
    assert entry == one, "the list shows exactly what reading the officer shows"
    assert (entry["name"], entry["cert_valid_until"]) == ("陈静", "2028-01-01")


@pytest.mark.parametrize(
    ("role", "region"), [("provincial_admin", "330000"), ("department_admin", "330106")]
)
async def test_the_directorys_keepers_see_the_personal_data_in_the_list(
    role, region, registry, officer, mint_token
):
    headers = {"Authorization": f"Bearer {mint_token(roles=[role], region=region)}"}
    entry, one = await listed_and_read(registry, officer, headers)
    assert (entry["cert_no"], entry["justice_db_ref"]) == (
        officer["cert_no"],
        f"SF-{officer['cert_no']}",
    )
    assert [c["reason"] for c in entry["conflicts"]] == ["亲属"]
    assert entry == one


async def test_an_officer_sees_their_own_personal_data_in_the_list(registry, officer, mint_token):
    own = mint_token(roles=["inspector"], region="330000", sub=officer["id"])
    entry, _ = await listed_and_read(registry, officer, {"Authorization": f"Bearer {own}"})
    assert (entry["cert_no"], entry["personal_data_shown"]) == (officer["cert_no"], True)
