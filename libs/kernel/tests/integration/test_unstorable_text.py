"""Text PostgreSQL cannot hold never reaches it: a NUL (or a lone surrogate) in any path or query
parameter or JSON body field is a 422 naming the field. And a value the database refuses anyway
is the caller's 422, while the database failing by itself stays a 500.

The routes hand what they are given to a real PostgreSQL, unchecked, as a careless handler would.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from shuangsui.kernel.errors import REFUSED_VALUE_DETAIL
from shuangsui.kernel.storable import UNSTORABLE_REASON

PROBLEM_JSON = "application/problem+json"
BASE = "/api/v1/kerneltest"


class Note(BaseModel):
    text: str
    tags: list[str] = []


class Notebook(BaseModel):
    notes: list[Note]
    extra: dict[str, Any] = {}


router = APIRouter(prefix=BASE)


async def _select(request: Request, sql: str, **values: Any) -> Any:
    async with request.app.state.database.engine.connect() as conn:
        return (await conn.execute(text(sql), values)).scalar()


@router.get("/echo/{name}")
async def echo(request: Request, name: str, q: str = "") -> dict[str, Any]:
    return {
        "name": await _select(request, "SELECT :v", v=name),
        "q": await _select(request, "SELECT :v", v=q),
    }


@router.post("/notebooks")
async def notebook(request: Request, body: Notebook) -> dict[str, Any]:
    stored = [await _select(request, "SELECT :v", v=note.text) for note in body.notes]
    return {"stored": stored}


@router.post("/uploads")
async def upload(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@router.get("/cast")
async def cast(request: Request, value: str, to: str) -> dict[str, Any]:
    types = {"integer": "integer", "date": "date", "uuid": "uuid"}
    # Sent as text: PostgreSQL itself refuses what it cannot read as the type.
    sql = f"SELECT CAST(CAST(:v AS text) AS {types[to]})"
    return {"value": str(await _select(request, sql, v=value))}


@router.get("/int4/{number}")
async def int4(request: Request, number: int) -> dict[str, Any]:
    return {"value": await _select(request, "SELECT CAST(:v AS integer)", v=number)}


@router.get("/broken/{how}")
async def broken(request: Request, how: str) -> dict[str, Any]:
    sql = {"division": "SELECT 1 / 0", "table": "SELECT * FROM no_such_table"}[how]
    return {"value": await _select(request, sql)}


@pytest.fixture
async def client(build_app, client_of, database):
    return await client_of(build_app(router, components=[database]))


def fields_of(answer) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert all(e["reason"] == UNSTORABLE_REASON for e in answer.json()["errors"])
    return [e["field"] for e in answer.json()["errors"]]


async def test_text_without_a_nul_reaches_the_database(client):
    answer = await client.get(f"{BASE}/echo/西湖", params={"q": "茶叶"})
    assert answer.json() == {"name": "西湖", "q": "茶叶"}


async def test_a_nul_in_a_query_parameter_is_422_naming_it(client):
    assert fields_of(await client.get(f"{BASE}/echo/x", params={"q": "a\x00b"})) == ["q"]


async def test_a_nul_in_an_undeclared_query_parameter_is_refused_too(client):
    assert fields_of(await client.get(f"{BASE}/echo/x", params={"other": "\x00"})) == ["other"]


async def test_a_nul_in_a_path_parameter_is_422_naming_it(client):
    assert fields_of(await client.get(f"{BASE}/echo/a%00b")) == ["name"]


async def test_a_nul_in_a_nested_json_field_is_422_naming_the_field(client):
    body = {"notes": [{"text": "ok"}, {"text": "bad\x00", "tags": ["fine", "\x00"]}]}
    fields = fields_of(await client.post(f"{BASE}/notebooks", json=body))
    assert fields == ["notes[1].text", "notes[1].tags[1]"]


async def test_a_nul_in_a_json_key_or_an_undeclared_field_is_refused(client):
    body = {"notes": [], "extra": {"a\x00": 1, "b": {"c": "\x00"}}}
    assert fields_of(await client.post(f"{BASE}/notebooks", json=body)) == [
        "extra.a\x00",
        "extra.b.c",
    ]


async def test_a_lone_surrogate_escaped_in_json_is_422(client):
    raw = b'{"notes": [{"text": "\\ud800"}]}'
    answer = await client.post(
        f"{BASE}/notebooks", content=raw, headers={"content-type": "application/json"}
    )
    assert fields_of(answer) == ["notes[0].text"]


async def test_a_streamed_upload_is_not_read_by_the_check(client):
    # No body parameter: the route reads the body itself, NUL bytes and all.
    answer = await client.post(f"{BASE}/uploads", content=b"a\x00b" * 1000)
    assert answer.status_code == 200
    assert answer.json() == {"bytes": 3000}


@pytest.mark.parametrize(
    ("value", "to"), [("abc", "integer"), ("2025-13-45", "date"), ("not-a-uuid", "uuid")]
)
async def test_a_value_the_database_refuses_is_the_callers_422(client, value, to):
    answer = await client.get(f"{BASE}/cast", params={"value": value, "to": to})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.json()["detail"] == REFUSED_VALUE_DETAIL


async def test_a_number_the_driver_cannot_send_is_the_callers_422(client):
    answer = await client.get(f"{BASE}/int4/{2**40}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == REFUSED_VALUE_DETAIL


@pytest.mark.parametrize("how", ["division", "table"])
async def test_the_database_failing_by_itself_is_still_a_500(client, how):
    answer = await client.get(f"{BASE}/broken/{how}")
    assert answer.status_code == 500
    assert answer.json()["type"] == "/problems/internal-error"
