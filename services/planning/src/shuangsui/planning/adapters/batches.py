"""Batches (抽查批次) in PostgreSQL (migration 0008): one row per batch, its draft as JSON in
the draft's own field names, its invitations, and the code sequences per region and day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.planning.adapters.catalogue import catalogue_orgs
from shuangsui.planning.adapters.plans import plan_versions
from shuangsui.planning.domain.batch_documents import draft_document, draft_of
from shuangsui.planning.domain.batch_lifecycle import BatchStatus
from shuangsui.planning.domain.batch_records import Batch, Invitation, InvitationStatus

metadata = sa.MetaData()
_uuid = PgUUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def batch_columns() -> list[sa.Column[Any]]:
    """Also used by migration 0008; freeze a copy there before changing these."""
    return [
        sa.Column("batch_id", _uuid, primary_key=True),
        sa.Column("plan_id", _uuid, nullable=False),
        sa.Column("added_in_version", sa.Integer, nullable=False),
        sa.Column("org_id", _uuid, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("draft", JSONB, nullable=False),
        sa.Column("invitations", JSONB, nullable=False),
        sa.Column("invited_org_ids", ARRAY(_uuid), nullable=False),
        sa.Column("batch_code", sa.String(18), unique=True),
        sa.Column("published_at", _ts),
        sa.Column("published_in_version", sa.Integer),
        sa.Column("published_payload", JSONB),
        sa.Column("cancelled_in_version", sa.Integer),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("cancelled_from", sa.Text),
        sa.Column("cancelled_at", _ts),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    ]


def batch_indexes(table: sa.Table) -> list[sa.Index]:
    return [
        sa.Index("batches_plan", table.c.plan_id, table.c.added_in_version),
        sa.Index("batches_org_year", table.c.org_id, table.c.year),
        sa.Index("batches_invited", table.c.invited_org_ids, postgresql_using="gin"),
    ]


batches = sa.Table("batches", metadata, *batch_columns())
batch_indexes(batches)

# The last sequence given out per (region, Asia/Shanghai day): the public code's last 4 digits.
batch_code_sequences = sa.Table(
    "batch_code_sequences",
    metadata,
    sa.Column("region_code", sa.String(6), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("last_sequence", sa.Integer, nullable=False),
)


# ---- rows ↔ records ----------------------------------------------------------------------------


def _invitation_document(i: Invitation) -> dict[str, Any]:
    return {
        "org_id": str(i.org_id),
        "department_type": i.department_type,
        "item_ids": [str(x) for x in i.item_ids],
        "status": i.status.value,
        "reason": i.reason,
        "responded_by": i.responded_by,
        "responded_at": i.responded_at.isoformat() if i.responded_at else None,
    }


def _invitation_of(d: dict[str, Any]) -> Invitation:
    at = d.get("responded_at")
    return Invitation(
        org_id=UUID(d["org_id"]),
        department_type=d["department_type"],
        item_ids=tuple(UUID(x) for x in d["item_ids"]),
        status=InvitationStatus(d["status"]),
        reason=d.get("reason"),
        responded_by=d.get("responded_by"),
        responded_at=dt.datetime.fromisoformat(at) if at else None,
    )


def _batch_of(row: Any) -> Batch:
    m = row._mapping
    return Batch(
        batch_id=m["batch_id"],
        plan_id=m["plan_id"],
        added_in_version=m["added_in_version"],
        org_id=m["org_id"],
        draft=draft_of(m["draft"]),
        status=BatchStatus(m["status"]),
        revision=m["revision"],
        invitations=tuple(_invitation_of(d) for d in m["invitations"]),
        region_code=m["region_code"],
        year=m["year"],
        batch_code=m["batch_code"],
        published_at=m["published_at"],
        published_in_version=m["published_in_version"],
        cancelled_in_version=m["cancelled_in_version"],
        cancel_reason=m["cancel_reason"],
        cancelled_from=BatchStatus(m["cancelled_from"]) if m["cancelled_from"] else None,
        cancelled_at=m["cancelled_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _values(batch: Batch, by: str) -> dict[str, Any]:
    draft = batch.draft
    return {
        "batch_id": batch.batch_id,
        "plan_id": batch.plan_id,
        "added_in_version": batch.added_in_version,
        "org_id": batch.org_id,
        "region_code": batch.region_code,
        "year": batch.year,
        "status": batch.status.value,
        "revision": batch.revision,
        "name": draft.name,
        "window_start": draft.window_start,
        "window_end": draft.window_end,
        "draft": draft_document(draft),
        "invitations": [_invitation_document(i) for i in batch.invitations],
        "invited_org_ids": list(batch.invited_org_ids),
        "batch_code": batch.batch_code,
        "published_at": batch.published_at,
        "published_in_version": batch.published_in_version,
        "cancelled_in_version": batch.cancelled_in_version,
        "cancel_reason": batch.cancel_reason,
        "cancelled_from": batch.cancelled_from.value if batch.cancelled_from else None,
        "cancelled_at": batch.cancelled_at,
        "updated_by": by,
    }


# ---- commands ----------------------------------------------------------------------------------


async def insert(s: AsyncSession, batch: Batch, by: str) -> None:
    await s.execute(sa.insert(batches).values(**_values(batch, by), created_by=by))


async def save(
    s: AsyncSession, batch: Batch, by: str, published: dict[str, Any] | None = None
) -> None:
    values = {**_values(batch, by), "updated_at": sa.func.now()}
    if published is not None:
        values["published_payload"] = published
    await s.execute(sa.update(batches).where(batches.c.batch_id == batch.batch_id).values(**values))


async def delete(s: AsyncSession, batch_id: UUID) -> None:
    await s.execute(sa.delete(batches).where(batches.c.batch_id == batch_id))


async def delete_drafts_of(s: AsyncSession, plan_id: UUID, version: int) -> None:
    """The draft batches a discarded version added: never public, so nothing is kept."""
    await s.execute(
        sa.delete(batches).where(
            batches.c.plan_id == plan_id,
            batches.c.added_in_version == version,
            batches.c.status == BatchStatus.draft.value,
        )
    )


async def next_code_sequence(s: AsyncSession, region_code: str, day: dt.date) -> int:
    stmt = pg_insert(batch_code_sequences).values(region_code=region_code, day=day, last_sequence=1)
    upsert = stmt.on_conflict_do_update(
        index_elements=["region_code", "day"],
        set_={"last_sequence": batch_code_sequences.c.last_sequence + 1},
    )
    return int(
        (await s.execute(upsert.returning(batch_code_sequences.c.last_sequence))).scalar_one()
    )


# ---- reads -------------------------------------------------------------------------------------


async def get(s: AsyncSession, batch_id: UUID, *, lock: bool = False) -> Batch | None:
    query = sa.select(batches).where(batches.c.batch_id == batch_id)
    if lock:
        query = query.with_for_update()
    row = (await s.execute(query)).one_or_none()
    return _batch_of(row) if row is not None else None


async def of_plan(s: AsyncSession, plan_id: UUID, *, lock: bool = False) -> list[Batch]:
    """Every batch of the plan, in the order they were added."""
    query = (
        sa.select(batches)
        .where(batches.c.plan_id == plan_id)
        .order_by(batches.c.added_in_version, batches.c.created_at, batches.c.batch_id)
    )
    if lock:
        query = query.with_for_update()
    return [_batch_of(row) for row in (await s.execute(query)).all()]


async def of_org_year(s: AsyncSession, org_id: UUID, year: int) -> list[Batch]:
    """The org's batches of the year that are not cancelled (for the overlap warning)."""
    query = sa.select(batches).where(
        batches.c.org_id == org_id,
        batches.c.year == year,
        batches.c.status != BatchStatus.cancelled.value,
    )
    return [_batch_of(row) for row in (await s.execute(query)).all()]


async def published_payload(s: AsyncSession, batch_id: UUID) -> dict[str, Any] | None:
    query = sa.select(batches.c.published_payload).where(batches.c.batch_id == batch_id)
    return (await s.execute(query)).scalar_one_or_none()


def visibility(
    *,
    everything: bool,
    public: Sequence[str],
    shown_to_superior: Sequence[str],
    own_org: UUID | None,
    invited_org: UUID | None,
    province_prefix: str | None,
    subordinates_of: UUID | None,
) -> sa.ColumnElement[bool]:
    """The batches a caller may read: the published ones (and their later states), its own
    org's, those it is invited to, and — once their plan version is submitted, as with the
    plans — those of its province (provincial admin) and of the orgs beneath it (a department
    admin)."""
    if everything:
        return sa.true()
    c = batches.c
    submitted = sa.exists().where(
        plan_versions.c.plan_id == c.plan_id,
        plan_versions.c.version == c.added_in_version,
        plan_versions.c.status.in_(shown_to_superior),
    )
    seen: list[sa.ColumnElement[bool]] = [c.status.in_(public)]
    if own_org is not None:
        seen.append(c.org_id == own_org)
    if invited_org is not None:
        seen.append(sa.any_(c.invited_org_ids) == invited_org)
    if province_prefix is not None:
        seen.append(sa.and_(c.region_code.startswith(province_prefix, autoescape=True), submitted))
    if subordinates_of is not None:
        children = sa.select(catalogue_orgs.c.org_id).where(
            catalogue_orgs.c.parent_org_id == subordinates_of
        )
        seen.append(sa.and_(c.org_id.in_(children), submitted))
    return sa.or_(*seen)


async def list_batches(
    s: AsyncSession,
    visible: sa.ColumnElement[bool],
    filters: Sequence[sa.ColumnElement[bool]],
    after: tuple[dt.date, UUID] | None,
    limit: int,
) -> list[Batch]:
    """In (window start, batch id) order, keyset-paged."""
    c = batches.c
    query = sa.select(batches).where(visible, *filters)
    if after is not None:
        query = query.where(
            sa.tuple_(c.window_start, sa.cast(c.batch_id, sa.Text))
            > sa.tuple_(sa.literal(after[0]), sa.literal(str(after[1])))
        )
    query = query.order_by(c.window_start, sa.cast(c.batch_id, sa.Text)).limit(limit)
    return [_batch_of(row) for row in (await s.execute(query)).all()]
