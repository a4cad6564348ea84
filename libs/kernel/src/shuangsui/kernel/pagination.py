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


def page_request(
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1–500 · 每页条数"
    ),
    cursor: str | None = Query(None, description="Opaque cursor from `next_cursor` · 分页游标"),
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)
