"""The problem answers an operation documents (FastAPI's `responses=`), built alike everywhere.

Every documented error answer is `application/problem+json` with the `Problem` schema the app
adds to its OpenAPI components; an answer given as a problem type also shows that type as an
example, so a client generator and a reader see which `type` to expect under which status.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from shuangsui.kernel.problems import PROBLEM_MEDIA_TYPE, ProblemType

PROBLEM_REF = "#/components/schemas/Problem"
GENERIC_DESCRIPTION = "Problem details (RFC 9457) · 错误详情"

# What a status means when no operation-specific description is given.
_MEANING: dict[int, str] = {
    400: "Bad request · 请求有误",
    401: GENERIC_DESCRIPTION,
    403: GENERIC_DESCRIPTION,
    404: "Not found in your region · 未找到",
    409: "Conflict with the current state, or the same request in flight · 冲突",
    412: "If-Match is stale · 版本已变",
    413: "Body too large · 请求体过大",
    415: "Content type not accepted · 内容类型不支持",
    422: GENERIC_DESCRIPTION,
    428: "If-Match missing · 缺少 If-Match",
    503: "A dependency is not reachable · 服务暂不可用",
}

Responses = dict[int | str, dict[str, Any]]


def problem_responses(
    *answers: int | ProblemType, descriptions: Mapping[int, str] | None = None
) -> Responses:
    """`responses=` for the given statuses and problem types, e.g.
    `problem_responses(409, PRECONDITION_FAILED, descriptions={409: "A draft exists · 已有草稿"})`.

    A status in `descriptions` is documented even if not in `answers`. Several problem types of
    one status share its entry, each an example."""
    kinds: dict[int, list[ProblemType]] = {}
    for answer in answers:
        if isinstance(answer, ProblemType):
            kinds.setdefault(answer.status, []).append(answer)
        else:
            kinds.setdefault(_status(answer), [])
    given = dict(descriptions or {})
    for status in given:
        kinds.setdefault(_status(status), [])
    return {
        status: _response(status, types, given.get(status))
        for status, types in sorted(kinds.items())
    }


def _status(code: int) -> int:
    if not 400 <= code <= 599:
        raise ValueError(f"{code} is not an error status")
    return code


def _response(status: int, types: list[ProblemType], description: str | None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": PROBLEM_REF}}
    if types:
        content["examples"] = {
            t.name: {
                "summary": t.title,
                "value": {"type": t.uri, "title": t.title, "status": t.status},
            }
            for t in types
        }
    if description is None:
        description = (
            "; ".join(t.title for t in types) if types else _MEANING.get(status, _phrase(status))
        )
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: content}}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return GENERIC_DESCRIPTION
