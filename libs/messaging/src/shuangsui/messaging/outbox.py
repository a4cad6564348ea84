"""The transactional outbox: events are stored in the same transaction as the state change."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel.db import CommitHook
from shuangsui.kernel.observability import current_traceparent
from shuangsui.messaging.envelope import (
    Envelope,
    Outgoing,
    envelope_bytes,
    envelope_dict,
    json_time,
    nats_subject,
)
from shuangsui.messaging.tables import outbox

NOTIFY_CHANNEL = "outbox"
COPY_THRESHOLD = 200  # below this, one multi-row INSERT is as fast and simpler
# NATS refuses messages over its max_payload (1 MiB by default). An event that could never be
# published would stall the relay behind it, so it is refused when its transaction commits.
MAX_EVENT_BYTES = 900_000


class EventTooLarge(ValueError):
    """An event's envelope is larger than the broker accepts; split the event."""


def _ensure_publishable(event_type: str, size: int) -> None:
    if size > MAX_EVENT_BYTES:
        raise EventTooLarge(
            f"{event_type} event of {size:,} bytes is over {MAX_EVENT_BYTES:,}: split it"
        )


def outbox_rows(events: list[Any], province_token: str, service: str) -> list[dict[str, Any]]:
    traceparent = current_traceparent.get()
    source = f"/{province_token}/{service}"
    # NATS subject by (province, event type): one pattern check per type, not per event.
    subjects: dict[tuple[str, str], str] = {}
    rows = []
    for event in events:
        if isinstance(event, Envelope):
            event_id, envelope = event.id, event.model_dump(mode="json")
        else:
            event_id = uuid.uuid4()
            envelope = envelope_dict(
                event, event_id, datetime.now(UTC), province_token, source, traceparent
            )
        event_type, province = envelope["type"], envelope["province"]
        _ensure_publishable(event_type, len(_envelope_json(envelope).encode()))
        subject = subjects.get((province, event_type))
        if subject is None:
            subject = subjects[province, event_type] = nats_subject(province, event_type)
        rows.append(
            {
                "id": event_id,
                "nats_subject": subject,
                "event_type": event_type,
                "envelope": envelope,
            }
        )
    return rows


CopyRecord = tuple[uuid.UUID, str, str, str]  # id, nats_subject, event_type, envelope JSON
_COPY_COLUMNS = ["id", "nats_subject", "event_type", "envelope"]


def outbox_records(events: list[Any], province_token: str, service: str) -> list[CopyRecord]:
    """`outbox_rows` as COPY records: each envelope goes straight to JSON text, without the
    dict in between (a bulk push records one event per row)."""
    traceparent = current_traceparent.get()
    source = f"/{province_token}/{service}"
    subjects: dict[tuple[str, str], str] = {}
    ids = _new_event_ids(len(events))
    # The events of one commit are recorded at one moment: the time is written once.
    time_text = json_time(datetime.now(UTC))
    records = []
    for event, event_id in zip(events, ids, strict=True):
        if isinstance(event, Envelope):
            records.append((event.id, event.nats_subject, event.type, event.model_dump_json()))
            continue
        event_type = event.payload.event_type
        subject = subjects.get((province_token, event_type))
        if subject is None:
            subject = subjects[province_token, event_type] = nats_subject(
                province_token, event_type
            )
        envelope = envelope_bytes(event, event_id, time_text, province_token, source, traceparent)
        _ensure_publishable(event_type, len(envelope))
        records.append((event_id, subject, event_type, envelope.decode()))
    return records


def _new_event_ids(count: int) -> list[uuid.UUID]:
    """`count` version-4 UUIDs from one read of the OS's random source (not one per event)."""
    pool = os.urandom(16 * count)
    return [uuid.UUID(bytes=pool[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _envelope_json(envelope: dict[str, Any]) -> str:
    try:
        return orjson.dumps(envelope).decode()
    except TypeError:  # what orjson refuses (integers over 64 bits): the standard library
        return json.dumps(envelope, ensure_ascii=False)


async def copy_outbox_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk path for rows already shaped by `outbox_rows`."""
    await copy_outbox_records(
        session,
        [
            (r["id"], r["nats_subject"], r["event_type"], _envelope_json(r["envelope"]))
            for r in rows
        ],
    )


async def copy_outbox_records(session: AsyncSession, records: list[CopyRecord]) -> None:
    """Binary COPY on the session's own connection, inside its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # SQLAlchemy sends BEGIN with its first statement: a COPY sent first would commit on
        # its own, outside the unit of work (and under another transaction id).
        await session.execute(text("SELECT 1"))
    await driver.copy_records_to_table("outbox", records=records, columns=_COPY_COLUMNS)


def outbox_writer(province_token: str, service: str) -> CommitHook:
    """A unit-of-work commit hook that writes every recorded event to the outbox."""

    async def write(session: AsyncSession, events: list[Any]) -> None:
        if not events:
            return
        for event in events:
            if not isinstance(event, Outgoing | Envelope):
                raise TypeError(f"record() takes Outgoing events, not {type(event).__name__}")
        if len(events) >= COPY_THRESHOLD:
            await copy_outbox_records(session, outbox_records(events, province_token, service))
        else:
            await session.execute(insert(outbox), outbox_rows(events, province_token, service))
        # Delivered only at commit: wakes the relay at once instead of at its next poll.
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))

    return write
