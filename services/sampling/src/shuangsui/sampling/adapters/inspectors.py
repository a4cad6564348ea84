"""Sampling's directory read model: the officers and their declared conflicts, as the registry's
inspector events said (consumer `sampling-inspectors`), and the orgs (consumer `sampling-orgs`).

Every write is idempotent and independent of arrival order: a row is replaced only by a higher
version of itself, so a copy, or an older event arriving late, changes nothing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.sampling.domain.inspectors import DeclaredConflict, PoolInspector

metadata = sa.MetaData()

# One row per officer (registry.inspector.upserted.v1), replaced by a higher `version`. The
# event's name is not kept: sampling shows inspectors as opaque ids only.
inspectors = sa.Table(
    "inspectors",
    metadata,
    sa.Column("inspector_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("org_code", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("station_code", sa.Text, nullable=True),
    sa.Column("department_type", sa.Text, nullable=False),
    sa.Column("qualifications", ARRAY(sa.Text), nullable=False),
    sa.Column("specialties", ARRAY(sa.Text), nullable=False),
    sa.Column("cert_valid_until", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("inspectors_org", "org_code", "department_type"),
    sa.Index("inspectors_region", "region_code", "department_type"),
)

# One row per declaration (registry.inspector.conflict_declared.v1), replaced by a higher
# `inspector_version`: a withdrawal is a later version of its declaration. It may arrive before
# the officer's own row, and waits here for it.
inspector_conflicts = sa.Table(
    "inspector_conflicts",
    metadata,
    sa.Column("conflict_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("inspector_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("subject_uscc", sa.Text, nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("inspector_version", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("inspector_conflicts_inspector", "inspector_id"),
    sa.Index("inspector_conflicts_subject", "subject_uscc"),
)

# One row per org (registry.org.upserted.v1), replaced by a higher `version`: the departments a
# commit-reveal party may be named after (R20), whether or not they have officers here.
orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("org_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("department_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("orgs_code", "code"),
)


def _newer(table: sa.Table, key: str, version: str, row: dict[str, Any]) -> Any:
    """The upsert that replaces `table`'s row only with a higher `version` of it."""
    statement = insert(table).values(**row)
    return statement.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={c: statement.excluded[c] for c in row if c != key},
        where=table.c[version] < statement.excluded[version],
    ).returning(table.c[key])


async def save_inspector(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Store the officer unless a version at least as high is held; whether it was stored."""
    result = await session.execute(_newer(inspectors, "inspector_id", "version", row))
    return result.first() is not None


async def save_conflict(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Store the declaration unless one at least as recent is held; whether it was stored."""
    result = await session.execute(
        _newer(inspector_conflicts, "conflict_id", "inspector_version", row)
    )
    return result.first() is not None


async def save_org(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Store the department unless a version at least as high is held; whether it was stored."""
    result = await session.execute(_newer(orgs, "org_id", "version", row))
    return result.first() is not None


async def is_department(session: AsyncSession, code: str) -> bool:
    """Whether the registry's directory names an org by this unit code (R20: its party in a
    commit-reveal draw is its own)."""
    query = sa.select(sa.literal(True)).where(orgs.c.code == code).limit(1)
    return (await session.execute(query)).scalar_one_or_none() is not None


async def inspector(session: AsyncSession, inspector_id: UUID) -> PoolInspector | None:
    query = sa.select(inspectors).where(inspectors.c.inspector_id == inspector_id)
    row = (await session.execute(query)).one_or_none()
    return _inspector(row._mapping) if row is not None else None


async def candidates(
    session: AsyncSession, department_type: str, *, org_code: str | None = None,
    station_code: str | None = None, region_prefix: str | None = None,
) -> list[PoolInspector]:  # fmt: skip
    """The department's active officers of one bureau (`org_code`), one station
    (`station_code`) or every bureau in a region (`region_prefix`, the digits a region's codes
    start with): what a phase's pool is chosen from. The pool rules themselves are the
    domain's."""
    c = inspectors.c
    query = sa.select(inspectors).where(c.department_type == department_type, c.status == "active")
    if org_code is not None:
        query = query.where(c.org_code == org_code)
    if station_code is not None:
        query = query.where(c.station_code == station_code)
    if region_prefix is not None:
        query = query.where(c.region_code.startswith(region_prefix, autoescape=True))
    return [_inspector(r._mapping) for r in await session.execute(query)]


def _inspector(row: Any) -> PoolInspector:
    return PoolInspector(
        inspector_id=row["inspector_id"],
        org_code=row["org_code"],
        region_code=row["region_code"],
        station_code=row["station_code"],
        department_type=row["department_type"],
        qualifications=tuple(row["qualifications"]),
        specialties=tuple(row["specialties"]),
        cert_valid_until=row["cert_valid_until"],
        status=row["status"],
        version=row["version"],
    )


async def conflicts_of(
    session: AsyncSession, inspector_ids: Collection[UUID]
) -> list[DeclaredConflict]:
    """Every declaration naming one of the officers, withdrawn ones included (the domain keeps
    the live ones)."""
    if not inspector_ids:
        return []
    c = inspector_conflicts.c
    query = sa.select(inspector_conflicts).where(c.inspector_id == sa.any_(
        sa.literal(list(inspector_ids), ARRAY(PgUUID(as_uuid=True)))
    ))  # fmt: skip
    return [
        DeclaredConflict(
            conflict_id=r.conflict_id,
            inspector_id=r.inspector_id,
            subject_uscc=r.subject_uscc,
            since=r.since,
            source=r.source,
            withdrawn=r.withdrawn,
            inspector_version=r.inspector_version,
        )
        for r in await session.execute(query)
    ]
