"""A push spanning many chunks: the next chunk is validated while the previous one is written.

Through HTTP against the real stack (there is no other honest way to see the writes), with
chunks of three rows so that ten rows make four chunks.
"""

import json

import asyncpg
import pytest

from shuangsui.registry.service import push

PUSH = "/api/v1/registry/subjects:bulk"
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(push, "CHUNK", 3)
    monkeypatch.setattr(push, "YIELD_EVERY", 2)


def ndjson(*rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


async def written(stack, usccs: list[str]) -> tuple[int, int, int]:
    """How many of these subjects, history entries and upserted events are stored."""
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM subjects WHERE uscc = ANY($1)", usccs),
            await conn.fetchval("SELECT count(*) FROM subject_history WHERE uscc = ANY($1)", usccs),
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = 'registry.subject.upserted.v1' "
                "AND envelope->'data'->>'uscc' = ANY($1)",
                usccs,
            ),
        )
    finally:
        await conn.close()


async def test_every_chunk_is_written_with_history_and_events(registry, pusher, subject_row, stack):
    rows = [subject_row(7000 + i) for i in range(10)]
    answer = await registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["received"], answer.json()["created"]) == (10, 10)
    assert await written(stack, [r["uscc"] for r in rows]) == (10, 10, 10)


async def test_a_bad_row_in_the_last_chunk_undoes_the_chunks_already_written(
    registry, pusher, subject_row, stack
):
    rows = [subject_row(7100 + i) for i in range(9)] + [subject_row(7109, status="dormant")]
    answer = await registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
    assert answer.status_code == 422, answer.text
    assert (answer.json()["rejected"], answer.json()["applied"]) == (1, False)
    assert answer.json()["errors"][0]["line"] == 10
    assert await written(stack, [r["uscc"] for r in rows]) == (0, 0, 0)


async def test_per_row_mode_writes_every_good_row_of_every_chunk(
    registry, pusher, subject_row, stack
):
    rows = [subject_row(7200 + i) for i in range(10)]
    rows[4] = {**rows[4], "region_code": "110101"}  # Beijing: outside the pusher's province
    answer = await registry.post(
        f"{PUSH}?mode=per_row", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    report = answer.json()
    assert (report["created"], report["rejected"]) == (9, 1), answer.text
    assert report["errors"][0]["line"] == 5
    assert await written(stack, [r["uscc"] for r in rows]) == (9, 9, 9)


async def test_a_repeated_push_across_chunks_changes_nothing_the_second_time(
    registry, pusher, subject_row, stack
):
    rows = [subject_row(7300 + i) for i in range(7)]
    rows.append({**rows[1], "name": "重复的一行"})  # the same subject again, in a later chunk
    body = ndjson(*rows)
    first = await registry.post(f"{PUSH}?mode=per_row", content=body, headers={**pusher, **NDJSON})
    assert (first.json()["created"], first.json()["rejected"]) == (7, 1), first.text
    assert first.json()["errors"][0]["reason"] == "duplicate of line 2"
    again = await registry.post(f"{PUSH}?mode=per_row", content=body, headers={**pusher, **NDJSON})
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 7), again.text
    assert await written(stack, [r["uscc"] for r in rows]) == (7, 7, 7)


async def test_a_pusher_of_another_province_writes_no_chunk(
    registry, mint_token, subject_row, stack
):
    token = mint_token(roles=["integrator"], region="320000", scopes=["registry:subjects:push"])
    rows = [subject_row(7400 + i) for i in range(7)]
    answer = await registry.post(
        f"{PUSH}?mode=per_row",
        content=ndjson(*rows),
        headers={"Authorization": f"Bearer {token}", **NDJSON},
    )
    assert answer.status_code == 403, answer.text  # this registry serves Zhejiang only
    assert await written(stack, [r["uscc"] for r in rows]) == (0, 0, 0)


async def test_a_body_that_turns_out_not_to_be_csv_midway_writes_nothing(
    registry, pusher, subject_row, stack
):
    header = "uscc,name,subject_type,region_code,source,source_updated_at\n"
    good = [
        f"{subject_row(7500 + i)['uscc']},企业{i},enterprise,330106,zj-aic,2025-03-01T08:00:00Z\n"
        for i in range(7)
    ]
    body = (header + "".join(good) + '"unterminated\n').encode()
    answer = await registry.post(
        f"{PUSH}?mode=per_row", content=body, headers={**pusher, "content-type": "text/csv"}
    )
    assert answer.status_code == 415, answer.text
    assert await written(stack, [line.split(",")[0] for line in good]) == (0, 0, 0)
