"""Inspector directory tables (migration 0003) and the queries the use cases need.

Bulk paths are set-based: one `= ANY(...)` read for a whole batch, one executemany upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PgUuid
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.domain.inspectors import (
    RECORD_FIELDS,
    ConflictSource,
    DeclaredConflict,
    Inspector,
    InspectorRecord,
    InspectorStatus,
)

metadata = sa.MetaData()


def _stamps() -> list[sa.Column[Any]]:
    """Set by the database (migration 0003): when the row was made and last changed."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        for name in ("created_at", "updated_at")
    ]


inspectors = sa.Table(
    "inspectors",
    metadata,
    sa.Column("inspector_id", PgUuid(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("station_code", sa.Text),
    sa.Column("department_type", sa.Text, nullable=False),
    sa.Column("position", sa.Text),
    sa.Column("cert_no", sa.Text, nullable=False),
    sa.Column("cert_valid_until", sa.Date, nullable=False),
    sa.Column("qualifications", ARRAY(sa.Text), nullable=False),
    sa.Column("specialties", ARRAY(sa.Text), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("justice_db_ref", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    *_stamps(),
)

conflicts = sa.Table(
    "inspector_conflicts",
    metadata,
    sa.Column("conflict_id", PgUuid(as_uuid=True), primary_key=True),
    sa.Column("inspector_id", PgUuid(as_uuid=True), nullable=False),
    sa.Column("subject_uscc", sa.String(18), nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("declared_by", sa.Text, nullable=False),
    sa.Column("withdrawn_by", sa.Text),
    *_stamps(),
)


@dataclass(frozen=True)
class InspectorFilter:
    """List filters; `region_prefix` comes from the verified token, never from the request."""

    region_prefix: str
    unit_code: str | None = None
    station_code: str | None = None
    status: str | None = None
    qualification: str | None = None
    specialty: str | None = None
    department_type: str | None = None


def _record(row: Any) -> InspectorRecord:
    values = {name: getattr(row, name) for name in RECORD_FIELDS}
    values["qualifications"] = tuple(row.qualifications)
    values["specialties"] = tuple(row.specialties)
    values["status"] = InspectorStatus(row.status)
    return InspectorRecord(**values)


def _conflict(row: Any) -> DeclaredConflict:
    return DeclaredConflict(
        conflict_id=row.conflict_id,
        subject_uscc=row.subject_uscc,
        since=row.since,
        source=ConflictSource(row.source),
        reason=row.reason,
        withdrawn=row.withdrawn,
    )


async def _with_conflicts(session: AsyncSession, rows: Sequence[Any]) -> list[Inspector]:
    ids = [r.inspector_id for r in rows]
    found: dict[UUID, list[DeclaredConflict]] = {i: [] for i in ids}
    if ids:
        query = (
            sa.select(conflicts)
            .where(conflicts.c.inspector_id == sa.any_(sa.literal(ids, ARRAY(PgUuid()))))
            .order_by(conflicts.c.created_at, conflicts.c.conflict_id)
        )
        for row in await session.execute(query):
            found[row.inspector_id].append(_conflict(row))
    return [
        Inspector(r.inspector_id, _record(r), r.version, tuple(found[r.inspector_id])) for r in rows
    ]


async def get(session: AsyncSession, inspector_id: UUID, *, lock: bool = False) -> Inspector | None:
    query = sa.select(inspectors).where(inspectors.c.inspector_id == inspector_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (await _with_conflicts(session, [row]))[0]


async def by_key(session: AsyncSession, column: str, values: Iterable[str]) -> dict[str, Inspector]:
    """Stored officers whose `cert_no` / `justice_db_ref` is one of `values`, locked until commit
    so that two imports touching one officer apply one after the other."""
    wanted = sorted(set(values))
    if not wanted:
        return {}
    col = inspectors.c[column]
    query = (
        sa.select(inspectors)
        .where(col == sa.any_(sa.literal(wanted, ARRAY(sa.Text))))
        .order_by(inspectors.c.inspector_id)
        .with_for_update()
    )
    rows = (await session.execute(query)).all()
    return {getattr(i.record, column): i for i in await _with_conflicts(session, rows)}


def _row(inspector: Inspector) -> dict[str, Any]:
    record = inspector.record
    values = {name: getattr(record, name) for name in RECORD_FIELDS}
    values["qualifications"] = list(record.qualifications)
    values["specialties"] = list(record.specialties)
    values["status"] = record.status.value
    return {"inspector_id": inspector.inspector_id, "version": inspector.version, **values}


async def save_all(session: AsyncSession, changed: Sequence[Inspector]) -> None:
    """Upsert many officers in one executemany statement (conflicts are stored separately)."""
    if not changed:
        return
    statement = insert(inspectors)
    updates = {name: statement.excluded[name] for name in (*RECORD_FIELDS, "version")}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[inspectors.c.inspector_id],
            set_={**updates, "updated_at": sa.func.now()},
        ),
        [_row(i) for i in changed],
    )


async def bump_version(session: AsyncSession, inspector: Inspector) -> None:
    await session.execute(
        sa.update(inspectors)
        .where(inspectors.c.inspector_id == inspector.inspector_id)
        .values(version=inspector.version, updated_at=sa.func.now())
    )


async def add_conflict(
    session: AsyncSession, inspector_id: UUID, conflict: DeclaredConflict, by: str
) -> None:
    await session.execute(
        sa.insert(conflicts).values(
            conflict_id=conflict.conflict_id,
            inspector_id=inspector_id,
            subject_uscc=conflict.subject_uscc,
            since=conflict.since,
            source=conflict.source.value,
            reason=conflict.reason,
            withdrawn=False,
            declared_by=by,
        )
    )


async def mark_withdrawn(session: AsyncSession, conflict_id: UUID, by: str) -> None:
    await session.execute(
        sa.update(conflicts)
        .where(conflicts.c.conflict_id == conflict_id)
        .values(withdrawn=True, withdrawn_by=by, updated_at=sa.func.now())
    )


async def search(
    session: AsyncSession, where: InspectorFilter, after: UUID | None, limit: int
) -> list[Inspector]:
    """Up to `limit` officers in id order after `after` (keyset pagination)."""
    clauses = inspector_clauses(where)
    if after is not None:
        clauses.append(inspectors.c.inspector_id > after)
    query = sa.select(inspectors).where(*clauses).order_by(inspectors.c.inspector_id).limit(limit)
    return await _with_conflicts(session, (await session.execute(query)).all())


def inspector_clauses(where: InspectorFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of an officer query (the list's, and the export's)."""
    c = inspectors.c
    clauses: list[sa.ColumnElement[bool]] = []
    if where.region_prefix:
        clauses.append(c.region_code.startswith(where.region_prefix, autoescape=True))
    for column, value in (
        (c.unit_code, where.unit_code),
        (c.station_code, where.station_code),
        (c.status, where.status),
        (c.department_type, where.department_type),
    ):
        if value is not None:
            clauses.append(column == value)
    if where.qualification is not None:
        clauses.append(c.qualifications.contains([where.qualification]))
    if where.specialty is not None:
        clauses.append(c.specialties.contains([where.specialty]))
    return clauses
