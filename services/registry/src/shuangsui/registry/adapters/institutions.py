"""Professional institutions and experts (委托专业机构与专家): table (migrations 0003, 0012) and
queries."""

from __future__ import annotations

from dataclasses import dataclass
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
    NaturalKey,
)

metadata = sa.MetaData()

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("institution_id", PgUuid(as_uuid=True), primary_key=True),
    sa.Column("uscc", sa.String(18)),
    sa.Column("expert_code", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("qualifications", ARRAY(sa.Text), nullable=False),
    sa.Column("valid_until", sa.Date),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# The class half of a two-key advisory lock ("inst"); the other half is the natural key's hash.
# Two-key locks never collide with the one-key locks other directories take.
_KEY_LOCKS = 0x696E7374


@dataclass(frozen=True)
class InstitutionFilter:
    """List filters; `region_prefix` comes from the verified token, never from the request."""

    region_prefix: str
    kind: str | None = None
    qualification: str | None = None
    uscc: str | None = None
    expert_code: str | None = None


def _institution(row: Any) -> Institution:
    record = InstitutionRecord(
        name=row.name,
        kind=InstitutionKind(row.kind),
        region_code=row.region_code,
        uscc=row.uscc,
        expert_code=row.expert_code,
        qualifications=tuple(row.qualifications),
        valid_until=row.valid_until,
        status=InstitutionStatus(row.status),
    )
    return Institution(row.institution_id, record, row.version)


async def lock_key(session: AsyncSession, key: NaturalKey) -> None:
    """Serialise the writes of one natural key until commit. A row lock cannot cover a row that
    is about to be inserted: two first writes of one key would both insert, and one would fail
    on the unique index instead of finding the other's entry."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(_KEY_LOCKS, sa.func.hashtext(str(key))))
    )


async def find(session: AsyncSession, key: NaturalKey) -> Institution | None:
    """The entry with this natural key, locked until commit."""
    c = institutions.c
    if key.uscc is not None:
        where = [c.uscc == key.uscc]
    else:
        # The expression of the unique index institutions_expert_key.
        where = [sa.func.left(c.region_code, 2) == key.province, c.expert_code == key.expert_code]
    query = sa.select(institutions).where(*where).with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _institution(row)


async def get(session: AsyncSession, institution_id: UUID) -> Institution | None:
    query = sa.select(institutions).where(institutions.c.institution_id == institution_id)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _institution(row)


async def save(session: AsyncSession, institution: Institution) -> None:
    record = institution.record
    values = {
        "uscc": record.uscc,
        "expert_code": record.expert_code,
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
    session: AsyncSession, where: InstitutionFilter, after: UUID | None, limit: int
) -> list[Institution]:
    """Up to `limit` entries in id order after `after` (keyset pagination)."""
    c = institutions.c
    clauses: list[sa.ColumnElement[bool]] = []
    if where.region_prefix:
        clauses.append(c.region_code.startswith(where.region_prefix, autoescape=True))
    for column, value in ((c.kind, where.kind), (c.uscc, where.uscc),
                          (c.expert_code, where.expert_code)):  # fmt: skip
        if value is not None:
            clauses.append(column == value)
    if where.qualification is not None:
        clauses.append(c.qualifications.contains([where.qualification]))
    if after is not None:
        clauses.append(c.institution_id > after)
    query = sa.select(institutions).where(*clauses).order_by(c.institution_id).limit(limit)
    return [_institution(r) for r in await session.execute(query)]
