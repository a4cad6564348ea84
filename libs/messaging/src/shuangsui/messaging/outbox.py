"""The transactional outbox: events are stored in the same transaction as the state change."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel.db import CommitHook
from shuangsui.kernel.observability import current_traceparent
from shuangsui.messaging.envelope import Envelope, Outgoing
from shuangsui.messaging.tables import outbox

NOTIFY_CHANNEL = "outbox"
COPY_THRESHOLD = 200  # below this, one multi-row INSERT is as fast and simpler


def outbox_rows(events: list[Any], province_token: str, service: str) -> list[dict[str, Any]]:
    traceparent = current_traceparent.get()
    rows = []
    for event in events:
        envelope = (
            event
            if isinstance(event, Envelope)
            else event.envelope(province_token, service, traceparent)
        )
        rows.append(
            {
                "id": envelope.id,
                "nats_subject": envelope.nats_subject,
                "event_type": envelope.type,
                "envelope": envelope.model_dump(mode="json"),
            }
        )
    return rows


async def copy_outbox_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk path: binary COPY on the session's own connection, inside its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        "outbox",
        records=[
            (
                r["id"],
                r["nats_subject"],
                r["event_type"],
                json.dumps(r["envelope"], ensure_ascii=False),
            )
            for r in rows
        ],
        columns=["id", "nats_subject", "event_type", "envelope"],
    )


def outbox_writer(province_token: str, service: str) -> CommitHook:
    """A unit-of-work commit hook that writes every recorded event to the outbox."""

    async def write(session: AsyncSession, events: list[Any]) -> None:
        if not events:
            return
        for event in events:
            if not isinstance(event, Outgoing | Envelope):
                raise TypeError(f"record() takes Outgoing events, not {type(event).__name__}")
        rows = outbox_rows(events, province_token, service)
        if len(rows) >= COPY_THRESHOLD:
            await copy_outbox_rows(session, rows)
        else:
            await session.execute(insert(outbox), rows)
        # Delivered only at commit: wakes the relay at once instead of at its next poll.
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))

    return write
