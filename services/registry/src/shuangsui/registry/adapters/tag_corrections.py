"""Tag corrections (table of migration 0010): proposals, decisions, the one in force per subject.

Two partial unique indexes keep the rules the use cases rely on even under concurrent requests:
at most one proposal awaits review per subject, and at most one approved correction is in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.adapters.subjects import subjects
from shuangsui.registry.domain.tag_corrections import Correction, CorrectionStatus, TagCorrection

metadata = sa.MetaData()

tag_corrections = sa.Table(
    "tag_corrections",
    metadata,
    sa.Column("correction_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("add_tags", ARRAY(sa.Text), nullable=False),
    sa.Column("remove_tags", ARRAY(sa.Text), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("proposed_by", sa.Text, nullable=False),
    sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decision_note", sa.Text, nullable=False),
    sa.Column("in_force", sa.Boolean, nullable=False),
    sa.Column("replaced_by", sa.Uuid),
)
_c = tag_corrections.c


@dataclass(frozen=True)
class Place:
    """Where the corrected subject is now: what decides who may see and decide a correction."""

    name: str
    region_code: str
    unit_code: str | None


@dataclass(frozen=True)
class Found:
    correction: TagCorrection
    place: Place
    seq: int


_JOINED = sa.select(
    tag_corrections, subjects.c.name, subjects.c.region_code, subjects.c.unit_code
).join(subjects, subjects.c.uscc == _c.uscc)


def _found(row: Any) -> Found:
    m = row._mapping
    return Found(
        TagCorrection(
            correction_id=m["correction_id"],
            uscc=m["uscc"],
            status=CorrectionStatus(m["status"]),
            add=tuple(m["add_tags"]),
            remove=tuple(m["remove_tags"]),
            reason=m["reason"],
            proposed_by=m["proposed_by"],
            proposed_at=m["proposed_at"],
            decided_by=m["decided_by"],
            decided_at=m["decided_at"],
            decision_note=m["decision_note"],
            in_force=m["in_force"],
            replaced_by=m["replaced_by"],
        ),
        Place(m["name"], m["region_code"], m["unit_code"]),
        m["seq"],
    )


async def place_of(session: AsyncSession, uscc: str) -> Place | None:
    row = (
        await session.execute(
            sa.select(subjects.c.name, subjects.c.region_code, subjects.c.unit_code).where(
                subjects.c.uscc == uscc
            )
        )
    ).one_or_none()
    return Place(row.name, row.region_code, row.unit_code) if row is not None else None


async def add_proposal(session: AsyncSession, proposal: TagCorrection) -> bool:
    """Record a proposal; False when one for the subject already awaits review."""
    inserted = await session.scalar(
        insert(tag_corrections)
        .values(
            correction_id=proposal.correction_id,
            uscc=proposal.uscc,
            status=proposal.status.value,
            add_tags=list(proposal.add),
            remove_tags=list(proposal.remove),
            reason=proposal.reason,
            proposed_by=proposal.proposed_by,
            proposed_at=proposal.proposed_at,
            decision_note="",
            in_force=False,
        )
        .on_conflict_do_nothing(
            index_elements=[_c.uscc], index_where=_c.status == CorrectionStatus.proposed.value
        )
        .returning(_c.correction_id)
    )
    return inserted is not None


async def read(session: AsyncSession, correction_id: UUID, *, lock: bool = False) -> Found | None:
    """One correction with its subject's place; `lock` holds the correction until commit, so
    two decisions on it take turns and the second sees the first."""
    query = _JOINED.where(_c.correction_id == correction_id)
    if lock:
        query = query.with_for_update(of=tag_corrections)
    row = (await session.execute(query)).one_or_none()
    return _found(row) if row is not None else None


async def in_force_for(session: AsyncSession, uscc: str) -> TagCorrection | None:
    row = (
        await session.execute(_JOINED.where(_c.uscc == uscc, _c.in_force.is_(True)))
    ).one_or_none()
    return _found(row).correction if row is not None else None


async def corrections_in_force(
    session: AsyncSession, usccs: Sequence[str] | None = None
) -> dict[str, Correction]:
    """Every subject's correction in force (or those of `usccs`): few (a station corrects what
    the rules miss), and a classifier carries them all so that one lookup per subject applies
    them."""
    query = sa.select(_c.uscc, _c.add_tags, _c.remove_tags).where(_c.in_force.is_(True))
    if usccs is not None:
        query = query.where(_c.uscc == sa.any_(sa.bindparam("usccs", list(usccs), ARRAY(sa.Text))))
    rows = await session.execute(query)
    return {r.uscc: Correction(frozenset(r.add_tags), frozenset(r.remove_tags)) for r in rows}


async def save_decision(session: AsyncSession, decided: TagCorrection) -> None:
    await session.execute(
        sa.update(tag_corrections)
        .where(_c.correction_id == decided.correction_id)
        .values(
            status=decided.status.value,
            decided_by=decided.decided_by,
            decided_at=decided.decided_at,
            decision_note=decided.decision_note,
            in_force=decided.in_force,
        )
    )


async def retire(session: AsyncSession, uscc: str, replaced_by: UUID) -> None:
    """The subject's correction in force, if any, gives way to `replaced_by`."""
    await session.execute(
        sa.update(tag_corrections)
        .where(_c.uscc == uscc, _c.in_force.is_(True))
        .values(in_force=False, replaced_by=replaced_by)
    )


@dataclass(frozen=True)
class CorrectionFilter:
    region_prefix: str  # the caller's region scope
    unit_code: str | None = None  # station staff: their station's subjects only
    status: CorrectionStatus | None = None
    uscc: str | None = None


async def page(
    session: AsyncSession, where: CorrectionFilter, before_seq: int | None, limit: int
) -> list[Found]:
    """Newest first, within the caller's region (and station), by the subject's place now."""
    clauses: list[Any] = []
    if where.region_prefix:
        clauses.append(subjects.c.region_code.startswith(where.region_prefix, autoescape=True))
    if where.unit_code is not None:
        clauses.append(subjects.c.unit_code == where.unit_code)
    if where.status is not None:
        clauses.append(_c.status == where.status.value)
    if where.uscc is not None:
        clauses.append(_c.uscc == where.uscc)
    if before_seq is not None:
        clauses.append(_c.seq < before_seq)
    rows = await session.execute(_JOINED.where(*clauses).order_by(_c.seq.desc()).limit(limit))
    return [_found(row) for row in rows]
