"""Professional institutions and experts (委托专业机构): table (migration 0003) and queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PgUuid
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionRecord,
    InstitutionStatus,
)

metadata = sa.MetaData()

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("institution_id", PgUuid(as_uuid=True), primary_key=True),
    sa.Column("uscc", sa.String(18)),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("qualifications", ARRAY(sa.Text), nullable=False),
    sa.Column("valid_until", sa.Date),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


def _institution(row: Any) -> Institution:
    record = InstitutionRecord(
        name=row.name,
        kind=InstitutionKind(row.kind),
        region_code=row.region_code,
        uscc=row.uscc,
        qualifications=tuple(row.qualifications),
        valid_until=row.valid_until,
        status=InstitutionStatus(row.status),
    )
    return Institution(row.institution_id, record, row.version)


async def get(session: AsyncSession, institution_id: UUID) -> Institution | None:
    query = sa.select(institutions).where(institutions.c.institution_id == institution_id)
    row = (await session.execute(query.with_for_update())).one_or_none()
    return None if row is None else _institution(row)


async def by_uscc(session: AsyncSession, uscc: str) -> Institution | None:
    query = sa.select(institutions).where(institutions.c.uscc == uscc)
    row = (await session.execute(query.with_for_update())).one_or_none()
    return None if row is None else _institution(row)


async def save(session: AsyncSession, institution: Institution) -> None:
    record = institution.record
    values = {
        "uscc": record.uscc,
        "name": record.name,
        "kind": record.kind.value,
        "region_code": record.region_code,
        "qualifications": list(record.qualifications),
        "valid_until": record.valid_until,
        "status": record.status.value,
        "version": institution.version,
    }
    statement = insert(institutions).values(institution_id=institution.institution_id, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[institutions.c.institution_id],
            set_={**values, "updated_at": sa.func.now()},
        )
    )


async def search(
    session: AsyncSession,
    region_prefix: str,
    kind: str | None,
    qualification: str | None,
    after: UUID | None,
    limit: int,
) -> list[Institution]:
    c = institutions.c
    clauses: list[sa.ColumnElement[bool]] = []
    if region_prefix:
        clauses.append(c.region_code.startswith(region_prefix, autoescape=True))
    if kind is not None:
        clauses.append(c.kind == kind)
    if qualification is not None:
        clauses.append(c.qualifications.contains([qualification]))
    if after is not None:
        clauses.append(c.institution_id > after)
    query = sa.select(institutions).where(*clauses).order_by(c.institution_id).limit(limit)
    return [_institution(r) for r in await session.execute(query)]
