"""Helpers for tests of event flows: fill an outbox, apply events, wait for a condition.

Shipped with the library so every service's tests can use them; nothing here runs in production.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import nats
import sqlalchemy as sa
from nats.js.errors import NotFoundError

from shuangsui.contracts.events.registry import ProbeSent
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.envelope import Envelope, Outgoing, nats_subject, stream_name
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


async def on_stream(
    nats_url: str, event_type: str, province: str = PROVINCE
) -> list[dict[str, Any]]:
    """Every envelope of `event_type` on its context's JetStream stream, in stream order: what
    the consumers will read, whatever the outbox says (a re-publish JetStream dropped as a
    duplicate is not there; one it kept is there twice); none if there is no stream yet."""
    subject = nats_subject(province, event_type)
    stream = stream_name(event_type.split(".", 1)[0])
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        found: list[dict[str, Any]] = []
        seq = 1
        while True:
            try:
                message = await js.get_msg(stream, seq=seq, subject=subject, next=True)
            except NotFoundError:
                return found
            assert message.data is not None
            assert message.seq is not None
            found.append(json.loads(message.data))
            seq = message.seq + 1
    finally:
        await client.close()
