"""Helpers for tests of event flows: fill an outbox, apply events, wait for a condition.

Shipped with the library so every service's tests can use them; nothing here runs in production.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import sqlalchemy as sa

from shuangsui.contracts.events.registry import ProbeSent
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.envelope import Envelope, Outgoing
from shuangsui.messaging.outbox import outbox_rows, outbox_writer

PROVINCE = "p33"

applied_events = sa.Table(
    "applied_events",
    sa.MetaData(),
    # Deliberately no unique constraint: exactly-once must come from the inbox, and the tests
    # count rows per event to prove it.
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("probe_note", sa.Text, nullable=False),
)


def asyncpg_url(dsn: str) -> str:
    return "postgresql+asyncpg://" + dsn.split("://", 1)[1]


def probe(note: str) -> Outgoing:
    payload = ProbeSent(probe_id=uuid.uuid4(), note=note, sent_at=datetime.now(UTC))
    return Outgoing(payload, subject=str(payload.probe_id), actor="test")


async def fill_outbox(dsn: str, count: int, note_prefix: str = "event") -> None:
    """Write `count` events into the outbox in one go, as use cases would have."""
    rows = outbox_rows([probe(f"{note_prefix}-{i}") for i in range(count)], PROVINCE, "registry")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "outbox",
            records=[
                (r["id"], r["nats_subject"], r["event_type"], json.dumps(r["envelope"]))
                for r in rows
            ],
            columns=["id", "nats_subject", "event_type", "envelope"],
        )
    finally:
        await conn.close()


async def record_application(event: Envelope, uow: UnitOfWork) -> None:
    async with uow:
        await uow.session.execute(
            sa.insert(applied_events).values(event_id=str(event.id), probe_note=event.data["note"])
        )
        await uow.commit()


def unit_of_work_factory(database: Database) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(database, event_writer=outbox_writer(PROVINCE, "planning"))


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = ""
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


async def scalar(dsn: str, query: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()
