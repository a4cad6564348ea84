"""Sampling's `batches` read model: planning's published batches, stored as published, and their
cancellations. Fed only by the `sampling-batches` consumer; the draw lifecycle adds its own
status to the same rows.

Both writes are idempotent and commute: the publication fills a row once (a copy changes
nothing, and it never revives a cancelled batch), the cancellation marks it once (before or
after its publication)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.sampling.domain.batches import BatchStatus, Cancellation, StoredBatch

metadata = sa.MetaData()

# One row per batch. `published` holds `planning.batch.published.v1`'s payload as it came (JSON),
# null while only the cancellation has arrived; the columns beside it are copies for filtering.
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("batch_code", sa.Text, nullable=False),
    sa.Column("plan_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("published", JSONB, nullable=True),
    sa.Column("org_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("org_region_code", sa.String(6), nullable=True),
    sa.Column("department_type", sa.Text, nullable=True),
    sa.Column("participant_org_ids", ARRAY(PgUUID(as_uuid=True)), nullable=True),
    sa.Column("window_start", sa.Date, nullable=True),
    sa.Column("window_end", sa.Date, nullable=True),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("cancelled_from", sa.Text, nullable=True),
    sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("batches_org", "org_id", "status"),
    sa.Index("batches_region", "org_region_code", "status"),
)


async def save_published(session: AsyncSession, batch: BatchPublished) -> bool:
    """Fill the batch's row with its publication unless it holds one; whether it was stored.
    A row made by an earlier cancellation keeps its status."""
    row = {
        "batch_id": batch.batch_id, "batch_code": batch.batch_code, "plan_id": batch.plan_id,
        "status": BatchStatus.published.value, "published": batch.model_dump(mode="json"),
        "org_id": batch.org_id, "org_region_code": batch.org_region_code,
        "department_type": batch.department_type,
        "participant_org_ids": [p.org_id for p in batch.participants],
        "window_start": batch.window_start, "window_end": batch.window_end,
        "published_at": batch.published_at,
    }  # fmt: skip
    statement = insert(batches).values(**row)
    kept = ("batch_id", "status")
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[batches.c.batch_id],
            set_={c: statement.excluded[c] for c in row if c not in kept},
            where=batches.c.published.is_(None),
        ).returning(batches.c.batch_id)
    )
    return result.first() is not None


async def save_cancelled(session: AsyncSession, cancelled: BatchCancelled) -> bool:
    """Mark the batch cancelled, making its row if the publication has not arrived; the first
    cancellation is kept. Whether it was stored."""
    row = {
        "batch_id": cancelled.batch_id, "batch_code": cancelled.batch_code,
        "plan_id": cancelled.plan_id, "status": BatchStatus.cancelled.value,
        "cancel_reason": cancelled.reason, "cancelled_from": cancelled.cancelled_from,
        "cancelled_at": cancelled.cancelled_at,
    }  # fmt: skip
    statement = insert(batches).values(**row)
    changed = ("status", "cancel_reason", "cancelled_from", "cancelled_at")
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[batches.c.batch_id],
            set_={c: statement.excluded[c] for c in changed},
            where=batches.c.cancelled_at.is_(None),
        ).returning(batches.c.batch_id)
    )
    return result.first() is not None


async def batch(session: AsyncSession, batch_id: UUID) -> StoredBatch | None:
    row = (
        await session.execute(sa.select(batches).where(batches.c.batch_id == batch_id))
    ).one_or_none()
    return _batch(row._mapping) if row is not None else None


async def batch_to_draw(session: AsyncSession, batch_id: UUID) -> StoredBatch | None:
    """The batch, its row locked until the transaction ends: draws of one batch are prepared
    and committed one at a time, so each takes the next code and sees the others' status."""
    query = sa.select(batches).where(batches.c.batch_id == batch_id).with_for_update()
    row = (await session.execute(query)).one_or_none()
    return _batch(row._mapping) if row is not None else None


async def save_draw_status(
    session: AsyncSession, batch_id: UUID, status: BatchStatus, drawn_at: datetime | None
) -> None:
    """The status the batch's draws leave it in (`published`, `drawing`, `drawn` with
    `drawn_at`); a cancelled batch stays cancelled whatever its draws do."""
    c = batches.c
    await session.execute(
        sa.update(batches)
        .where(c.batch_id == batch_id, c.status != BatchStatus.cancelled.value)
        .values(status=status.value, drawn_at=drawn_at)
    )


@dataclass(frozen=True)
class BatchQuery:
    """Which batches to list, in (window_end, batch_code) order after `after`. `org_ids`: the
    batches led by, or taking part with, one of these orgs; `region_prefix`: led by an org
    whose region starts with it; `statuses`: any of them; `open_on`: window not ended then."""

    region_prefix: str = ""
    org_ids: Collection[UUID] | None = None
    department_type: str | None = None
    statuses: Collection[BatchStatus] = (BatchStatus.published,)
    open_on: date | None = None
    after: tuple[date, str] | None = None
    limit: int = 50


async def search(session: AsyncSession, query: BatchQuery) -> list[StoredBatch]:
    c = batches.c
    statement = sa.select(batches).where(
        c.published.is_not(None),
        c.status.in_([s.value for s in query.statuses]),
        c.org_region_code.startswith(query.region_prefix, autoescape=True),
    )
    if query.org_ids is not None:
        ids = sa.literal(list(query.org_ids), ARRAY(PgUUID(as_uuid=True)))
        statement = statement.where(
            c.org_id.in_(list(query.org_ids)) | c.participant_org_ids.overlap(ids)
        )
    if query.department_type is not None:
        statement = statement.where(c.department_type == query.department_type)
    if query.open_on is not None:
        statement = statement.where(c.window_end >= query.open_on)
    if query.after is not None:
        statement = statement.where(sa.tuple_(c.window_end, c.batch_code) > sa.tuple_(*query.after))
    statement = statement.order_by(c.window_end, c.batch_code).limit(query.limit)
    return [_batch(r._mapping) for r in await session.execute(statement)]


def _batch(row: Any) -> StoredBatch:
    published = row["published"]
    cancelled = row["cancelled_at"]
    return StoredBatch(
        batch_id=row["batch_id"],
        batch_code=row["batch_code"],
        plan_id=row["plan_id"],
        status=BatchStatus(row["status"]),
        published=BatchPublished.model_validate(published) if published is not None else None,
        cancellation=(
            Cancellation(row["cancel_reason"], row["cancelled_from"], cancelled)
            if cancelled is not None
            else None
        ),
        drawn_at=row["drawn_at"],
    )
