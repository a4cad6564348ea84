"""Sampling's `drawn_subjects` table (migration 0009): one row per subject a completed subject
draw selected, with its batch's window, departments and items as the draw took them — what the
overlap list (名单比对, R22) compares. Written only in the transaction that completes the draw
(`service/draw_reveals.settle`), and once: a row is keyed by (draw, subject), a second write
of it changes nothing. A draw voided later keeps its rows; the reads take completed draws only.
Recusal replacements change teams, never subjects, so they leave the rows alone."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.sampling.adapters.draws import draws
from shuangsui.sampling.adapters.subjects import subjects
from shuangsui.sampling.domain.draws import DrawStatus
from shuangsui.sampling.domain.overlaps import Department, DrawnSubject, Item, Window

metadata = draws.metadata

drawn_subjects = sa.Table(
    "drawn_subjects",
    metadata,
    sa.Column("draw_id", PgUUID(as_uuid=True), sa.ForeignKey("draws.draw_id"), primary_key=True),
    sa.Column("subject_id", sa.Text, primary_key=True),  # the USCC (B.1)
    sa.Column("draw_code", sa.Text, nullable=False),
    sa.Column("subject_name", sa.Text, nullable=True),
    # The subject's region as the read model held it at completion (else the lead's).
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("batch_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("batch_code", sa.Text, nullable=False),
    sa.Column("org_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("org_region_code", sa.String(6), nullable=False),
    # The lead and a joint batch's partners (R20): who may see the row as its own.
    sa.Column("org_ids", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    # [{org_id, org_code, department_type}], the lead first.
    sa.Column("departments", JSONB, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    # [{item_id, code, name}] in the batch's order.
    sa.Column("items", JSONB, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("drawn_subjects_subject", "subject_id"),
    sa.Index("drawn_subjects_batch", "batch_id"),
)


async def subjects_known(session: AsyncSession, usccs: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(name, region) of the subjects the read model holds, by USCC."""
    if not usccs:
        return {}
    c = subjects.c
    query = sa.select(c.uscc, c.name, c.region_code).where(
        c.uscc == sa.any_(sa.literal(list(usccs), ARRAY(sa.Text)))
    )
    return {r.uscc: (r.name, r.region_code) for r in await session.execute(query)}


def _department_json(d: Department) -> dict[str, Any]:
    return {"org_id": str(d.org_id), "org_code": d.org_code, "department_type": d.department_type}


def _item_json(i: Item) -> dict[str, Any]:
    return {"item_id": str(i.item_id), "code": i.code, "name": i.name}


async def record(
    session: AsyncSession, draw_id: UUID, org_region_code: str, drawn: Sequence[DrawnSubject],
    at: datetime,
) -> int:  # fmt: skip
    """The draw's selected subjects, each once: how many rows are new."""
    if not drawn:
        return 0
    rows = [
        {
            "draw_id": draw_id, "subject_id": d.uscc, "draw_code": d.draw_code,
            "subject_name": d.name, "region_code": d.region_code, "batch_id": d.batch_id,
            "batch_code": d.batch_code, "org_id": d.departments[0].org_id,
            "org_region_code": org_region_code, "org_ids": [o.org_id for o in d.departments],
            "departments": [_department_json(o) for o in d.departments],
            "window_start": d.window.start, "window_end": d.window.end,
            "items": [_item_json(i) for i in d.items], "recorded_at": at,
        }
        for d in drawn
    ]  # fmt: skip
    statement = (
        insert(drawn_subjects).on_conflict_do_nothing().returning(drawn_subjects.c.subject_id)
    )
    result = await session.execute(statement, rows)
    return len(result.all())


@dataclass(frozen=True)
class CandidateQuery:
    """Subjects drawn by at least two batches of completed draws, in USCC order from `start`
    (included unless `after`): within `province`, and visible — in `region_prefix` (None: not a
    way in) or of a batch of `org_ids` — narrowed by `region_code_prefix` and `batch_id`."""

    province: str
    region_prefix: str | None
    org_ids: Collection[UUID] = ()
    region_code_prefix: str = ""
    batch_id: UUID | None = None
    start: str | None = None
    after: bool = False
    limit: int = 200


def _completed() -> sa.ColumnElement[bool]:
    return sa.and_(
        draws.c.draw_id == drawn_subjects.c.draw_id, draws.c.status == DrawStatus.completed.value
    )


async def candidates(session: AsyncSession, query: CandidateQuery) -> list[str]:
    c = drawn_subjects.c
    ways_in: list[sa.ColumnElement[bool]] = []
    if query.region_prefix is not None:
        ways_in.append(c.region_code.startswith(query.region_prefix, autoescape=True))
    if query.org_ids:
        ids = sa.literal(list(query.org_ids), ARRAY(PgUUID(as_uuid=True)))
        ways_in.append(c.org_ids.overlap(ids))
    if not ways_in:
        return []
    having = [
        sa.func.count(sa.distinct(c.batch_id)) >= 2,
        sa.func.bool_or(sa.or_(*ways_in)),
        sa.func.bool_or(c.region_code.startswith(query.region_code_prefix, autoescape=True)),
    ]
    if query.batch_id is not None:
        having.append(sa.func.bool_or(c.batch_id == query.batch_id))
    statement = sa.select(c.subject_id).join(draws, _completed())
    statement = statement.where(c.region_code.startswith(query.province, autoescape=True))
    if query.start is not None:
        statement = statement.where(
            c.subject_id > query.start if query.after else c.subject_id >= query.start
        )
    statement = statement.group_by(c.subject_id).having(sa.and_(*having))
    statement = statement.order_by(c.subject_id).limit(query.limit)
    return list((await session.execute(statement)).scalars())


async def drawn_of(
    session: AsyncSession, usccs: Sequence[str], province: str
) -> list[DrawnSubject]:
    """Every row of these subjects' completed draws within the province."""
    if not usccs:
        return []
    c = drawn_subjects.c
    statement = (
        sa.select(drawn_subjects)
        .join(draws, _completed())
        .where(
            c.subject_id == sa.any_(sa.literal(list(usccs), ARRAY(sa.Text))),
            c.region_code.startswith(province, autoescape=True),
        )
        .order_by(c.subject_id, c.window_start, c.batch_code, c.draw_code)
    )
    return [_drawn(r._mapping) for r in await session.execute(statement)]


def _drawn(row: Any) -> DrawnSubject:
    return DrawnSubject(
        uscc=row["subject_id"],
        name=row["subject_name"],
        region_code=row["region_code"],
        batch_id=row["batch_id"],
        batch_code=row["batch_code"],
        draw_code=row["draw_code"],
        departments=tuple(
            Department(UUID(d["org_id"]), d["org_code"], d["department_type"])
            for d in row["departments"]
        ),
        window=Window(row["window_start"], row["window_end"]),
        items=tuple(Item(UUID(i["item_id"]), i["code"], i["name"]) for i in row["items"]),
    )
