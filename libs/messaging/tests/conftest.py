"""Fixtures for messaging tests: a database with the messaging tables, a private NATS server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from shuangsui.kernel.db import Database
from shuangsui.kernel.idempotency import metadata as idempotency_metadata
from shuangsui.messaging.tables import metadata as messaging_metadata
from shuangsui.messaging.testing import applied_events, asyncpg_url


@pytest.fixture
async def messaging_db(fresh_database: str) -> str:
    engine = create_async_engine(asyncpg_url(fresh_database))
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(idempotency_metadata.create_all)
        await conn.run_sync(applied_events.metadata.create_all)
    await engine.dispose()
    return fresh_database


@pytest.fixture
async def database(messaging_db: str) -> AsyncIterator[Database]:
    db = Database(asyncpg_url(messaging_db))
    yield db
    await db.stop()
