"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from shuangsui.kernel.problems import INVALID_CURSOR, Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", int, str)
# A cursor is read back into a query: its numbers must fit the database's bigint.
_MAX_POSITION = 2**63 - 1


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's items · 本页数据")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page · 下一页游标"
    )


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Problem(INVALID_CURSOR, "the cursor is not one this API produced") from None
    if not isinstance(value, dict):
        raise Problem(INVALID_CURSOR, "the cursor is not one this API produced")
    return value


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: dict[str, Any] | None

    def page(
        self, rows: Sequence[R], position_of: Callable[[R], dict[str, Any]]
    ) -> tuple[list[R], str | None]:
        """Given up to `limit + 1` rows in key order, the page and the cursor after it."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return items, (encode_cursor(position_of(items[-1])) if more and items else None)

    def position(self, name: str, kind: type[K]) -> K | None:
        """The cursor's `name` as `kind` (None without a cursor). A cursor that lacks it or
        holds something else there (another list's cursor, an edited one) is
        `invalid-cursor`, not a failing query."""
        if self.after is None:
            return None
        value: Any = self.after.get(name)
        # `type`, not isinstance: `true` is no number here.
        fits = type(value) is kind and (
            abs(int(value)) <= _MAX_POSITION if kind is int else "\x00" not in str(value)
        )
        if not fits:
            raise Problem(INVALID_CURSOR, "the cursor is not one this list produced")
        return value  # type: ignore[no-any-return]


def page_request(
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1–500 · 每页条数"
    ),
    cursor: str | None = Query(None, description="Opaque cursor from `next_cursor` · 分页游标"),
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)
