"""Periodic clean-up of a service database's messaging tables, run beside the relay."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import asyncpg
import structlog

from shuangsui.kernel.idempotency import RETENTION as IDEMPOTENCY_RETENTION

log = structlog.get_logger("housekeeping")

# Published events stay this long so an operator can re-publish them; JetStream keeps 90 days.
OUTBOX_RETENTION = timedelta(days=7)


async def clean_once(conn: asyncpg.Connection) -> dict[str, str]:
    outbox = await conn.execute(
        "DELETE FROM outbox WHERE published_at < now() - $1::interval", OUTBOX_RETENTION
    )
    keys = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval",
        IDEMPOTENCY_RETENTION,
    )
    return {"outbox": outbox, "idempotency_keys": keys}


async def run_housekeeping(database_url: str, stop: asyncio.Event, every: float = 600.0) -> None:
    while not stop.is_set():
        try:
            conn = await asyncpg.connect(database_url)
            try:
                log.info("housekeeping", deleted=await clean_once(conn))
            finally:
                await conn.close()
        except Exception as exc:  # the next round tries again; the relay is unaffected
            log.warning("housekeeping failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
