"""The asyncpg connection under a session, for COPY (the bulk paths' fastest way in)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def asyncpg_connection(session: AsyncSession) -> Any:
    return await driver_of(await session.connection())


async def driver_of(connection: AsyncConnection) -> Any:
    raw = await connection.get_raw_connection()
    return raw.driver_connection
