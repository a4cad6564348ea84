"""Cursor pagination (ARCHITECTURE.md §5): `?limit=` 1–500 (default 50), an opaque `?cursor=`,
and a `next_cursor` only while there are more rows."""

import base64
import json

import pytest
from fastapi import APIRouter, Depends

from shuangsui.kernel.pagination import (
    INVALID_CURSOR,
    PageRequest,
    decode_cursor,
    encode_cursor,
    page_request,
)
from shuangsui.kernel.problems import Problem

router = APIRouter(prefix="/api/v1/kerneltest")


@router.get("/subjects")
async def list_subjects(page: PageRequest = Depends(page_request)) -> dict[str, object]:
    return {"limit": page.limit, "after": page.after}


@pytest.fixture
async def client(build_app, client_of):
    return await client_of(build_app(router))


def position(row: dict[str, object]) -> dict[str, object]:
    return {"uscc": row["uscc"]}


def rows(count: int) -> list[dict[str, object]]:
    return [{"uscc": f"9133010600000000{n:02d}"} for n in range(count)]


def test_cursor_gives_back_the_position_it_was_made_from():
    where = {"name": "杭州市西湖区市场监督管理局", "id": 1042, "at": "2025-03-01T08:00:00Z"}

    assert decode_cursor(encode_cursor(where)) == where


def test_cursor_can_travel_in_a_query_string_unescaped():
    cursor = encode_cursor({"name": "杭州 & 宁波?", "id": 255, "blob": "\xff\xfe>>>???"})

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "a",
        encode_cursor({"uscc": "913301060000000001"})[:-4],
        base64.urlsafe_b64encode(json.dumps(["uscc", 1]).encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd\xfc").decode(),
    ],
    ids=["garbage", "one-character", "truncated", "not-an-object", "not-utf8"],
)
def test_cursor_not_produced_by_the_api_is_refused(cursor):
    with pytest.raises(Problem) as refused:
        decode_cursor(cursor)

    assert refused.value.kind == INVALID_CURSOR


def test_page_with_more_rows_behind_it_points_after_its_last_item():
    items, next_cursor = PageRequest(limit=3, after=None).page(rows(4), position)

    assert items == rows(3)
    assert next_cursor is not None
    assert decode_cursor(next_cursor) == position(rows(3)[-1])


def test_last_page_has_no_next_cursor():
    items, next_cursor = PageRequest(limit=3, after=None).page(rows(3), position)

    assert (items, next_cursor) == (rows(3), None)


def test_empty_list_is_one_page_without_next_cursor():
    assert PageRequest(limit=3, after=None).page([], position) == ([], None)


async def test_limit_defaults_to_fifty(client):
    answer = await client.get("/api/v1/kerneltest/subjects")

    assert answer.json() == {"limit": 50, "after": None}


@pytest.mark.parametrize("limit", [1, 500])
async def test_limit_within_bounds_is_accepted(client, limit):
    answer = await client.get("/api/v1/kerneltest/subjects", params={"limit": limit})

    assert answer.json()["limit"] == limit


@pytest.mark.parametrize("limit", [0, 501, -1])
async def test_limit_out_of_bounds_is_422_naming_limit(client, limit):
    answer = await client.get("/api/v1/kerneltest/subjects", params={"limit": limit})

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["limit"]


async def test_cursor_from_a_previous_page_resumes_after_its_position(client):
    cursor = encode_cursor({"uscc": "913301060000000002"})

    answer = await client.get("/api/v1/kerneltest/subjects", params={"cursor": cursor})

    assert answer.json()["after"] == {"uscc": "913301060000000002"}


async def test_garbage_cursor_is_400_invalid_cursor_problem(client):
    answer = await client.get("/api/v1/kerneltest/subjects", params={"cursor": "garbage!"})

    assert answer.status_code == 400
    assert answer.json()["type"] == "/problems/invalid-cursor"


def page_after(position: dict[str, object]) -> PageRequest:
    return PageRequest(limit=10, after=position)


def test_a_cursor_position_is_read_as_its_type():
    assert page_after({"version": 7, "code": "A-1"}).position("version", int) == 7
    assert page_after({"version": 7, "code": "A-1"}).position("code", str) == "A-1"
    assert PageRequest(limit=10, after=None).position("version", int) is None


@pytest.mark.parametrize(
    ("position", "kind"),
    [({}, int), ({"version": "7"}, int), ({"version": True}, int), ({"version": 2**70}, int),
     ({"version": 7.5}, int), ({"code": 1}, str), ({"code": "a\x00"}, str), ({"code": None}, str)],
)  # fmt: skip
def test_a_cursor_holding_something_else_is_invalid_not_a_failing_query(position, kind):
    name = next(iter(position), "version")
    with pytest.raises(Problem) as refused:
        page_after(position).position(name, kind)
    assert refused.value.kind is INVALID_CURSOR
