"""Which operations need a token, as each service documents it in its own OpenAPI document.

An operation is public when its `security` is empty or missing, or allows the empty requirement
`{}` (how the kernel documents its optional bearer, `OptionalBearer`); any other operation needs
a bearer token. The gateway refuses a tokenless request for such an operation itself, before
any of its body is forwarded; what the table does not know it forwards (the service decides).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from shuangsui.gateway.upstreams import Upstreams
from shuangsui.kernel.auth import OPTIONAL_BEARER

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_PARAMETER = re.compile(r"\{[^/{}]+\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: re.Pattern[str]
    requires_token: bool


def requires_token(operation: dict[str, Any], document: dict[str, Any]) -> bool:
    security = operation.get("security", document.get("security"))
    if not security:
        return False
    return not any(not requirement or OPTIONAL_BEARER in requirement for requirement in security)


def path_pattern(template: str) -> re.Pattern[str]:
    """`/api/v1/registry/subjects/{uscc}` → one path segment for each parameter."""
    literals = _PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(literal) for literal in literals))


class RouteTable:
    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations

    @classmethod
    def from_openapi(cls, document: dict[str, Any]) -> RouteTable:
        operations = [
            Operation(method.upper(), path_pattern(path), requires_token(operation, document))
            for path, item in (document.get("paths") or {}).items()
            if isinstance(item, dict)
            for method, operation in item.items()
            if method in HTTP_METHODS and isinstance(operation, dict)
        ]
        return cls(operations)

    def requires_token(self, method: str, path: str) -> bool | None:
        """None when the document has no such operation, or two that disagree (a literal path
        beside a template: the service's route order, which decides, is not in the document)."""
        found = {
            op.requires_token
            for op in self.operations
            if op.method == method and op.path.fullmatch(path)
        }
        return found.pop() if len(found) == 1 else None


@dataclass
class _Known:
    table: RouteTable | None
    refresh_at: float


class RouteTables:
    """Each service's table, fetched on first use and again once `max_age` old. A service that
    does not answer keeps its last table and is asked again after `retry_after`, so one that
    comes back (or is redeployed with other routes) is known again within seconds."""

    def __init__(self, upstreams: Upstreams, max_age: float, retry_after: float = 5.0) -> None:
        self._upstreams = upstreams
        self._max_age = max_age
        self._retry_after = retry_after
        self._known: dict[str, _Known] = {}
        self._locks = {service: asyncio.Lock() for service in upstreams.urls}

    async def requires_token(self, service: str, method: str, path: str) -> bool | None:
        if service not in self._upstreams.urls:
            return None
        table = await self._table(service)
        return None if table is None else table.requires_token(method, path)

    async def _table(self, service: str) -> RouteTable | None:
        known = self._known.get(service)
        if known is None or time.monotonic() >= known.refresh_at:
            async with self._locks[service]:  # one fetch, however many requests are waiting
                known = self._known.get(service)
                if known is None or time.monotonic() >= known.refresh_at:
                    known = self._known[service] = await self._fetch(service, known)
        return known.table

    async def _fetch(self, service: str, known: _Known | None) -> _Known:
        try:
            document = await self._upstreams.fetch_json(service, "/openapi.json")
            if not isinstance(document, dict):
                raise ValueError("not an OpenAPI document")
            table = RouteTable.from_openapi(document)
        except (httpx.HTTPError, ValueError):
            stale = known.table if known is not None else None
            return _Known(stale, time.monotonic() + self._retry_after)
        return _Known(table, time.monotonic() + self._max_age)
