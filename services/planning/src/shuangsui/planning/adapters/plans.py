"""Annual plans in PostgreSQL (migration 0006): one row per version, the code sequences, the
provinces' deadlines; and the reads of the catalogue's orgs the plans need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.planning.adapters.catalogue import catalogue_orgs
from shuangsui.planning.domain.plans import (
    PlanContent,
    PlanLevel,
    PlanStatus,
    PlanVersion,
)

metadata = sa.MetaData()
_uuid = PgUUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)

WORKING_STATUSES = ("draft", "submitted", "filed")


def plan_version_columns() -> list[sa.Column[Any]]:
    """Also used by migration 0006; freeze a copy there before changing these."""
    return [
        sa.Column("plan_id", _uuid, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("plan_code", sa.String(14), nullable=False),
        sa.Column("org_id", _uuid, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("supersedes_version", sa.Integer),
        sa.Column("adjustment_reason", sa.Text),
        sa.Column("submitted_at", _ts),
        sa.Column("deadline", sa.Date),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("filed_to_org_id", _uuid),
        sa.Column("filed_at", _ts),
        sa.Column("published_at", _ts),
        sa.Column("published_late", sa.Boolean, nullable=False),
        sa.Column("necips_ref", sa.Text),
        sa.Column("closed_at", _ts),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    ]


def plan_version_indexes(table: sa.Table) -> list[sa.Index]:
    """One version on its way and one published version per (org, year): the database holds
    the rule even when two requests race past the use case's check."""
    return [
        sa.Index(
            "plan_versions_one_working",
            table.c.org_id,
            table.c.year,
            unique=True,
            postgresql_where=table.c.status.in_(WORKING_STATUSES),
        ),
        sa.Index(
            "plan_versions_one_published",
            table.c.org_id,
            table.c.year,
            unique=True,
            postgresql_where=table.c.status == "published",
        ),
        sa.Index("plan_versions_code", table.c.plan_code, table.c.version),
        sa.Index("plan_versions_org_year", table.c.org_id, table.c.year),
    ]


plan_versions = sa.Table("plan_versions", metadata, *plan_version_columns())
plan_version_indexes(plan_versions)

# The last sequence number given out per (region, year). The row lock of the increment
# serialises creates in one region and year, and a refused create rolls its number back.
plan_code_sequences = sa.Table(
    "plan_code_sequences",
    metadata,
    sa.Column("region_code", sa.String(6), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last_sequence", sa.Integer, nullable=False),
)

plan_deadlines = sa.Table(
    "plan_deadlines",
    metadata,
    sa.Column("province", sa.String(6), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", _ts, nullable=False, server_default=sa.func.now()),
)


# ---- orgs of the catalogue -----------------------------------------------------------------


async def planning_orgs(s: AsyncSession, region_prefix: str) -> list[Any]:
    """Active market-supervision orgs at county level and above (R5), by code."""
    query = (
        sa.select(catalogue_orgs.c.org_id, catalogue_orgs.c.code, catalogue_orgs.c.name,
                  catalogue_orgs.c.level, catalogue_orgs.c.region_code)
        .where(
            catalogue_orgs.c.level.in_([level.value for level in PlanLevel]),
            catalogue_orgs.c.department_type == "market_supervision",
            catalogue_orgs.c.status == "active",
            catalogue_orgs.c.region_code.startswith(region_prefix, autoescape=True),
        )
        .order_by(catalogue_orgs.c.code)
    )  # fmt: skip
    return list((await s.execute(query)).all())


# ---- plan versions -------------------------------------------------------------------------


def _plan_of(row: Any) -> PlanVersion:
    return PlanVersion(
        plan_id=row.plan_id,
        plan_code=row.plan_code,
        org_id=row.org_id,
        level=PlanLevel(row.level),
        region_code=row.region_code,
        year=row.year,
        version=row.version,
        status=PlanStatus(row.status),
        content=PlanContent(row.title, row.description, row.period_start, row.period_end),
        revision=row.revision,
        supersedes_version=row.supersedes_version,
        adjustment_reason=row.adjustment_reason,
        submitted_at=row.submitted_at,
        deadline=row.deadline,
        late=row.late,
        filed_to_org_id=row.filed_to_org_id,
        filed_at=row.filed_at,
        published_at=row.published_at,
        published_late=row.published_late,
        necips_ref=row.necips_ref,
        closed_at=row.closed_at,
    )


def _values(plan: PlanVersion, by: str) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "version": plan.version,
        "plan_code": plan.plan_code,
        "org_id": plan.org_id,
        "level": plan.level.value,
        "region_code": plan.region_code,
        "year": plan.year,
        "status": plan.status.value,
        "revision": plan.revision,
        "title": plan.content.title,
        "description": plan.content.description,
        "period_start": plan.content.period_start,
        "period_end": plan.content.period_end,
        "supersedes_version": plan.supersedes_version,
        "adjustment_reason": plan.adjustment_reason,
        "submitted_at": plan.submitted_at,
        "deadline": plan.deadline,
        "late": plan.late,
        "filed_to_org_id": plan.filed_to_org_id,
        "filed_at": plan.filed_at,
        "published_at": plan.published_at,
        "published_late": plan.published_late,
        "necips_ref": plan.necips_ref,
        "closed_at": plan.closed_at,
        "updated_by": by,
    }


async def next_sequence(s: AsyncSession, region_code: str, year: int) -> int:
    stmt = pg_insert(plan_code_sequences).values(
        region_code=region_code, year=year, last_sequence=1
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["region_code", "year"],
        set_={"last_sequence": plan_code_sequences.c.last_sequence + 1},
    )
    return int(
        (await s.execute(upsert.returning(plan_code_sequences.c.last_sequence))).scalar_one()
    )


async def insert_version(s: AsyncSession, plan: PlanVersion, by: str) -> None:
    await s.execute(sa.insert(plan_versions).values(**_values(plan, by), created_by=by))


async def save_version(s: AsyncSession, plan: PlanVersion, by: str) -> None:
    values = {**_values(plan, by), "updated_at": sa.func.now()}
    await s.execute(
        sa.update(plan_versions)
        .where(plan_versions.c.plan_id == plan.plan_id, plan_versions.c.version == plan.version)
        .values(**values)
    )


async def versions_of(s: AsyncSession, plan_id: UUID, *, lock: bool = False) -> list[PlanVersion]:
    """Every version of a plan, oldest first. Locked, the plan's changes serialise (one
    version on its way, the ETag read and written in one transaction)."""
    query = (
        sa.select(plan_versions)
        .where(plan_versions.c.plan_id == plan_id)
        .order_by(plan_versions.c.version)
    )
    if lock:
        query = query.with_for_update()
    return [_plan_of(row) for row in (await s.execute(query)).all()]


async def existing_for(s: AsyncSession, org_id: UUID, year: int) -> list[PlanVersion]:
    """The versions of (org, year) that were not discarded: while there is one, the org has its
    plan for the year (on its way, in force, or closed)."""
    query = sa.select(plan_versions).where(
        plan_versions.c.org_id == org_id,
        plan_versions.c.year == year,
        plan_versions.c.status != PlanStatus.discarded.value,
    )
    return [_plan_of(row) for row in (await s.execute(query)).all()]


async def list_versions(
    s: AsyncSession,
    visible: sa.ColumnElement[bool],
    filters: Sequence[sa.ColumnElement[bool]],
    after: tuple[str, int] | None,
    limit: int,
) -> list[PlanVersion]:
    query = sa.select(plan_versions).where(visible, *filters)
    if after is not None:
        query = query.where(sa.tuple_(plan_versions.c.plan_code, plan_versions.c.version)
                            > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))  # fmt: skip
    query = query.order_by(plan_versions.c.plan_code, plan_versions.c.version).limit(limit)
    return [_plan_of(row) for row in (await s.execute(query)).all()]


async def first_versions(
    s: AsyncSession, org_ids: Sequence[UUID], year: int
) -> dict[UUID, list[PlanVersion]]:
    query = sa.select(plan_versions).where(
        plan_versions.c.org_id.in_(org_ids),
        plan_versions.c.year == year,
        plan_versions.c.version == 1,
    )
    found: dict[UUID, list[PlanVersion]] = {}
    for row in (await s.execute(query)).all():
        found.setdefault(row.org_id, []).append(_plan_of(row))
    return found


# ---- deadlines -----------------------------------------------------------------------------


async def deadline(s: AsyncSession, province: str, year: int) -> dt.date | None:
    return (
        await s.execute(
            sa.select(plan_deadlines.c.deadline).where(
                plan_deadlines.c.province == province, plan_deadlines.c.year == year
            )
        )
    ).scalar_one_or_none()


async def set_deadline(s: AsyncSession, province: str, year: int, day: dt.date, by: str) -> None:
    stmt = pg_insert(plan_deadlines).values(province=province, year=year, deadline=day, set_by=by)
    await s.execute(
        stmt.on_conflict_do_update(
            index_elements=["province", "year"],
            set_={"deadline": day, "set_by": by, "set_at": sa.func.now()},
        )
    )


# ---- who sees which versions ---------------------------------------------------------------


def visibility(
    *,
    everything: bool,
    public: Sequence[str],
    shown_to_superior: Sequence[str],
    own_org: UUID | None,
    parent_org: UUID | None,
    province_prefix: str | None,
) -> sa.ColumnElement[bool]:
    """The versions a caller may read (the rule is `domain.plans.visible`): the public ones,
    all of its own org's, and, from submission on, those of the orgs it files for."""
    if everything:
        return sa.true()
    status = plan_versions.c.status
    seen: list[sa.ColumnElement[bool]] = [status.in_(public)]
    if own_org is not None:
        seen.append(plan_versions.c.org_id == own_org)
    if parent_org is not None:
        children = sa.select(catalogue_orgs.c.org_id).where(
            catalogue_orgs.c.parent_org_id == parent_org
        )
        seen.append(sa.and_(status.in_(shown_to_superior), plan_versions.c.org_id.in_(children)))
    if province_prefix is not None:
        seen.append(
            sa.and_(
                status.in_(shown_to_superior),
                plan_versions.c.region_code.startswith(province_prefix, autoescape=True),
            )
        )
    return sa.or_(*seen)
