"""Sampling's `recusals` table (migration 0006): declarations of a completed draw's team members
and their decisions. Written only by `service/recusals.py`; a decision under the draw's row lock
(`adapters.draws.draw(lock=True)`), so the accepted ones of a draw take their places one at a
time. The database refuses a second open declaration of the same inspector for the same subject
(`recusals_one_open`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.sampling.adapters.draws import draws
from shuangsui.sampling.domain.recusals import Cause, DeclaredAs, Recusal, RecusalStatus

metadata = draws.metadata

recusals = sa.Table(
    "recusals",
    metadata,
    sa.Column("recusal_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("draw_id", PgUUID(as_uuid=True), sa.ForeignKey("draws.draw_id"), nullable=False),
    sa.Column("subject_id", sa.Text, nullable=False),
    sa.Column("inspector_id", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("declared_by", sa.Text, nullable=False),
    sa.Column("declared_as", sa.Text, nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.Text, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sequence", sa.SmallInteger, nullable=True),
    sa.Column("replacement", JSONB, nullable=True),
    sa.UniqueConstraint("draw_id", "sequence", name="recusals_draw_sequence"),
    sa.Index(
        "recusals_one_open",
        "draw_id",
        "subject_id",
        "inspector_id",
        unique=True,
        postgresql_where=sa.text("status = 'declared'"),
    ),
)


class OpenDeclarationExists(Exception):
    """The database refused a second open declaration of one inspector for one subject."""


def _row(recusal: Recusal) -> dict[str, Any]:
    return {
        "recusal_id": recusal.recusal_id, "draw_id": recusal.draw_id,
        "subject_id": recusal.subject_id, "inspector_id": recusal.inspector_id,
        "cause": recusal.cause.value, "note": recusal.note, "status": recusal.status.value,
        "declared_by": recusal.declared_by, "declared_as": recusal.declared_as.value,
        "declared_at": recusal.declared_at, "decided_by": recusal.decided_by,
        "decision_reason": recusal.decision_reason, "decided_at": recusal.decided_at,
        "sequence": recusal.sequence, "replacement": recusal.replacement,
    }  # fmt: skip


def _recusal(row: Any) -> Recusal:
    return Recusal(
        recusal_id=row["recusal_id"], draw_id=row["draw_id"], subject_id=row["subject_id"],
        inspector_id=row["inspector_id"], cause=Cause(row["cause"]), note=row["note"],
        declared_by=row["declared_by"], declared_as=DeclaredAs(row["declared_as"]),
        declared_at=row["declared_at"], status=RecusalStatus(row["status"]),
        decided_by=row["decided_by"], decision_reason=row["decision_reason"],
        decided_at=row["decided_at"], sequence=row["sequence"], replacement=row["replacement"],
    )  # fmt: skip


async def insert(session: AsyncSession, recusal: Recusal) -> None:
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(recusals).values(**_row(recusal)))
    except IntegrityError:
        raise OpenDeclarationExists(recusal.recusal_id) from None


async def update(session: AsyncSession, recusal: Recusal) -> None:
    statement = sa.update(recusals).where(recusals.c.recusal_id == recusal.recusal_id)
    await session.execute(statement.values(**_row(recusal)))


async def recusal(session: AsyncSession, recusal_id: UUID, *, lock: bool = False) -> Recusal | None:
    query = sa.select(recusals).where(recusals.c.recusal_id == recusal_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return _recusal(row._mapping) if row is not None else None


async def of_draw(session: AsyncSession, draw_id: UUID) -> list[Recusal]:
    """The draw's recusals: the accepted ones in their list order, then the others as declared."""
    c = recusals.c
    query = sa.select(recusals).where(c.draw_id == draw_id)
    query = query.order_by(c.sequence.asc().nulls_last(), c.declared_at, c.recusal_id)
    return [_recusal(r._mapping) for r in await session.execute(query)]
