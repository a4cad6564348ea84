"""`Idempotency-Key` on writes (ARCHITECTURE.md §5).

The key row is inserted in the SAME transaction as the use case's state change, so an applied
request and its key are stored together or not at all: a retry can never apply an effect twice,
and a crash can never record a key for an effect that did not happen. The answer is stored right
after; in the rare crash between the two, a retry learns that the effect was applied
(`idempotency-outcome-unknown`) instead of having it applied again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import Database, UnitOfWork

RETENTION = timedelta(hours=24)
IN_FLIGHT = timedelta(seconds=60)
REPLAY_HEADER = "Idempotent-Replayed"


def idempotency_columns() -> list[Column[Any]]:
    """Also used by each service's first migration to create the table."""
    return [
        Column("principal", String(200), primary_key=True),
        Column("operation", String(120), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("response_status", Integer),
        Column("response_body", JSONB),
    ]


metadata = MetaData()
idempotency_keys = Table("idempotency_keys", metadata, *idempotency_columns())


def request_fingerprint(body: Any) -> str:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyKey:
    key: str | None
    operation: str
    database: Database

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        body: Any,
        use_case: Callable[[], Awaitable[BaseModel]],
        status_code: int = 200,
    ) -> JSONResponse:
        """Run `use_case` once per key; answer retries with the first answer."""
        if self.key is None:
            return _answer(status_code, (await use_case()).model_dump(mode="json"))
        fingerprint = request_fingerprint(body)
        earlier = await self._earlier_answer(principal, fingerprint)
        if earlier is not None:
            return earlier
        row = {
            "principal": principal.sub,
            "operation": self.operation,
            "key": self.key,
            "request_hash": fingerprint,
        }

        async def claim(session: AsyncSession, _events: list[Any]) -> None:
            await session.execute(insert(idempotency_keys).values(**row))

        uow.add_commit_hook(claim)
        try:
            result = await use_case()
        except (IntegrityError, p.Problem) as exc:
            if not _lost_a_race(exc):
                raise
            # A concurrent request with this key may have got there first (ours rolled back
            # whole): then its answer is ours, or it is still running.
            again = await self._earlier_answer(principal, fingerprint)
            if again is None:
                raise
            return again
        answer = result.model_dump(mode="json")
        async with self.database.sessions.begin() as session:
            await session.execute(
                update(idempotency_keys)
                .where(*_matches(principal.sub, self.operation, self.key))
                .values(response_status=status_code, response_body=answer)
            )
        return _answer(status_code, answer)

    async def _earlier_answer(self, principal: Principal, fingerprint: str) -> JSONResponse | None:
        assert self.key is not None
        async with self.database.sessions() as session:
            found = (
                await session.execute(
                    select(idempotency_keys).where(
                        *_matches(principal.sub, self.operation, self.key),
                        idempotency_keys.c.created_at > datetime.now(UTC) - RETENTION,
                    )
                )
            ).one_or_none()
        if found is None:
            return None
        if found.request_hash != fingerprint:
            raise p.Problem(
                p.IDEMPOTENCY_KEY_REUSED, errors=[p.FieldError("Idempotency-Key", "reused")]
            )
        if found.response_status is None:
            recent = found.created_at > datetime.now(UTC) - IN_FLIGHT
            raise p.Problem(p.IDEMPOTENCY_IN_PROGRESS if recent else p.IDEMPOTENCY_OUTCOME_UNKNOWN)
        return _answer(found.response_status, found.response_body, replayed=True)


def _lost_a_race(exc: Exception) -> bool:
    if isinstance(exc, p.Problem):
        return exc.kind.status == 409
    return isinstance(exc, IntegrityError)


def _matches(principal: str, operation: str, key: str) -> tuple[Any, ...]:
    c = idempotency_keys.c
    return (and_(c.principal == principal, c.operation == operation, c.key == key),)


def _answer(status_code: int, body: Any, replayed: bool = False) -> JSONResponse:
    headers = {REPLAY_HEADER: "true"} if replayed else {}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def purge_expired_keys(database: Database) -> int:
    async with database.sessions.begin() as session:
        result = await session.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.created_at < datetime.now(UTC) - RETENTION
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def idempotency_key(operation: str) -> Callable[..., IdempotencyKey]:
    """Dependency for one operation: reads the optional `Idempotency-Key` header."""

    def dependency(
        request: Request,
        key: str | None = Header(
            None,
            alias="Idempotency-Key",
            max_length=200,
            description="Makes a retried write harmless; kept 24 h · 幂等键",
        ),
    ) -> IdempotencyKey:
        return IdempotencyKey(key=key, operation=operation, database=request.app.state.database)

    return dependency
