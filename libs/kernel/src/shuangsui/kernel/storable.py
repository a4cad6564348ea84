"""Text PostgreSQL can hold: a NUL character (U+0000) or a lone UTF-16 surrogate in a request is
a 422 naming the field, never a database or driver error.

PostgreSQL `text` cannot store U+0000, and a lone surrogate (which JSON's `\\udXXX` escapes can
carry) cannot even be encoded for the wire. Every service's routers get `refuse_unstorable_text`
as their first dependency (`kernel.app`), so the check covers every path and query parameter
and every field of a JSON body, declared or not, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from shuangsui.kernel.errors import field_path
from shuangsui.kernel.problems import VALIDATION, FieldError, Problem

__all__ = ["UNSTORABLE_REASON", "refuse_unstorable_text", "unstorable_fields"]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_REASON = "contains a NUL character or a lone surrogate, which text cannot hold"


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def unstorable_fields(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The locations of the strings (keys included) in a JSON value that text cannot hold."""
    if isinstance(value, str):
        if not is_storable(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and not is_storable(key):
                yield (*loc, key)
            yield from unstorable_fields(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_fields(item, (*loc, index))


async def refuse_unstorable_text(request: Request) -> None:
    """Dependency: 422 for a path or query parameter, or a JSON body field, that text cannot
    hold. A body is looked at only where the operation takes one, and so has already been read:
    streamed uploads stay streamed (their readers check their own rows)."""
    wrong = [name for name, value in request.path_params.items() if not _storable(value)]
    wrong += [
        name
        for name, value in request.query_params.multi_items()
        if not (is_storable(name) and is_storable(value))
    ]
    wrong += [field_path(("body", *loc)) for loc in unstorable_fields(await _json_body(request))]
    if wrong:
        errors = [FieldError(name, UNSTORABLE_REASON) for name in dict.fromkeys(wrong)]
        raise Problem(VALIDATION, f"{len(errors)} field(s) invalid", errors=errors)


def _storable(value: Any) -> bool:
    return not isinstance(value, str) or is_storable(value)


async def _json_body(request: Request) -> Any:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return None
    if not _is_json(request.headers.get("content-type")) or not await request.body():
        return None
    try:
        return await request.json()  # parsed once: FastAPI has just read it the same way
    except ValueError:
        return None  # not JSON after all: validation answers that


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
