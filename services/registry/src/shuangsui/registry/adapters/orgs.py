"""Org directory tables (migration 0006) and the queries the use cases need.

The hierarchy is walked in the database (recursive queries) so that a change reads only the
orgs it can affect: the rows it names, their ancestors and their direct children.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUuid
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.adapters.inspectors import inspectors
from shuangsui.registry.adapters.subjects import subjects
from shuangsui.registry.domain.inspectors import (
    UNIT_FIELDS,
    InspectorRecord,
    KnownUnits,
    province_of,
)
from shuangsui.registry.domain.orgs import (
    Org,
    OrgChange,
    OrgLevel,
    OrgRecord,
    OrgStatus,
    UnitUsage,
)

metadata = sa.MetaData()

orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("org_id", PgUuid(as_uuid=True), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("parent_code", sa.Text),
    sa.Column("department_type", sa.Text, nullable=False),
    sa.Column("is_hq", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

org_history = sa.Table(
    "org_history",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("org_id", PgUuid(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("content", JSONB, nullable=False),
)

# Any constant works as long as nothing else in this database takes the same advisory lock.
_ORG_WRITES_LOCK = 0x6F726773  # "orgs"
_RECORD_COLUMNS = ("name", "level", "region_code", "parent_code", "department_type", "is_hq",
                   "status")  # fmt: skip


@dataclass(frozen=True)
class OrgFilter:
    """List filters; `region_prefix` comes from the verified token, never from the request."""

    region_prefix: str
    within: str | None = None  # the scope prefix of the requested region_code
    level: str | None = None
    parent_code: str | None = None
    department_type: str | None = None
    status: str | None = None


def _org(row: Any) -> Org:
    record = OrgRecord(
        code=row.code, name=row.name, level=OrgLevel(row.level), region_code=row.region_code,
        parent_code=row.parent_code, department_type=row.department_type, is_hq=row.is_hq,
        status=OrgStatus(row.status),
    )  # fmt: skip
    return Org(row.org_id, record, row.version)


def _codes(values: Iterable[str]) -> sa.BindParameter[list[str]]:
    return sa.literal(sorted(set(values)), ARRAY(sa.Text))


async def lock_for_writes(session: AsyncSession) -> None:
    """Serialise org writes until commit. The hierarchy rules (no cycle, a parent above its
    children) span many rows; row locks cannot cover rows that are about to be inserted, and
    org changes are rare enough that one writer at a time costs nothing."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_ORG_WRITES_LOCK)))


async def surroundings(session: AsyncSession, records: Sequence[OrgRecord]) -> dict[str, Org]:
    """The stored orgs a batch can affect: those it names (as rows or as parents), all their
    ancestors (to find cycles) and the direct children of its rows (to keep them in place)."""
    codes = {r.code for r in records}
    named = codes | {r.parent_code for r in records if r.parent_code is not None}
    if not named:
        return {}
    start = sa.select(orgs.c.code, orgs.c.parent_code).where(orgs.c.code == sa.any_(_codes(named)))
    up = start.cte("up", recursive=True)
    # UNION (not UNION ALL) stops the walk even if stored data ever held a cycle.
    up = up.union(
        sa.select(orgs.c.code, orgs.c.parent_code).join(up, orgs.c.code == up.c.parent_code)
    )
    query = sa.select(orgs).where(
        sa.or_(orgs.c.code.in_(sa.select(up.c.code)), orgs.c.parent_code == sa.any_(_codes(codes)))
    )
    return {row.code: _org(row) for row in await session.execute(query)}


def _content(record: OrgRecord) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, OrgLevel | OrgStatus) else v)
            for k, v in asdict(record).items()}  # fmt: skip


async def save_all(session: AsyncSession, changes: Sequence[OrgChange], actor: str) -> None:
    """Upsert the changed orgs and add one history row per new version."""
    applied = [c.org for c in changes if c.applies]
    if not applied:
        return
    statement = insert(orgs)
    updates = {name: statement.excluded[name] for name in (*_RECORD_COLUMNS, "version")}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[orgs.c.code], set_={**updates, "updated_at": sa.func.now()}
        ),
        [{"org_id": o.org_id, "version": o.version, **_content(o.record)} for o in applied],
    )
    await session.execute(
        sa.insert(org_history).values(changed_at=sa.func.now(), actor=actor),
        [
            {"code": o.record.code, "version": o.version, "org_id": o.org_id,
             "content": _content(o.record)}
            for o in applied
        ],
    )  # fmt: skip


async def get(session: AsyncSession, code: str) -> Org | None:
    row = (await session.execute(sa.select(orgs).where(orgs.c.code == code))).one_or_none()
    return None if row is None else _org(row)


async def search(
    session: AsyncSession, where: OrgFilter, after: str | None, limit: int
) -> list[Org]:
    """Up to `limit` orgs in code order after `after` (keyset pagination)."""
    c = orgs.c
    clauses: list[sa.ColumnElement[bool]] = []
    for prefix in (where.region_prefix, where.within):
        if prefix:
            clauses.append(c.region_code.startswith(prefix, autoescape=True))
    for column, value in (
        (c.level, where.level),
        (c.parent_code, where.parent_code),
        (c.department_type, where.department_type),
        (c.status, where.status),
    ):
        if value is not None:
            clauses.append(column == value)
    if after is not None:
        clauses.append(c.code > after)
    query = sa.select(orgs).where(*clauses).order_by(c.code).limit(limit)
    return [_org(row) for row in await session.execute(query)]


async def subtree(
    session: AsyncSession, code: str, region_prefix: str, include_closed: bool
) -> list[Org]:
    """The org `code` and every org below it, parents before children. A closed org is left out
    with everything under it unless `include_closed` (the root is always included)."""
    start = sa.select(orgs.c.code, sa.literal(0).label("depth")).where(orgs.c.code == code)
    down = start.cte("down", recursive=True)
    step = sa.select(orgs.c.code, (down.c.depth + 1).label("depth")).join(
        down, orgs.c.parent_code == down.c.code
    )
    if not include_closed:
        step = step.where(orgs.c.status == OrgStatus.active.value)
    down = down.union(step)
    query = (
        sa.select(orgs)
        .join(down, orgs.c.code == down.c.code)
        .where(orgs.c.region_code.startswith(region_prefix, autoescape=True))
        .order_by(down.c.depth, orgs.c.code)
    )
    return [_org(row) for row in await session.execute(query)]


def _province(region_code: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    # Written as a constant, not a bound parameter: a GROUP BY must repeat the selected
    # expression exactly, and two parameters are two different expressions to PostgreSQL.
    return sa.func.left(region_code, sa.literal_column("2"))


async def known_units(session: AsyncSession, records: Iterable[InspectorRecord]) -> KnownUnits:
    """What the directory says about the units a batch names: two reads for the whole batch,
    one for which of its provinces have any org at all, one for which named codes are orgs."""
    records = list(records)
    provinces = {province_of(r.region_code) for r in records}
    if not provinces:
        return KnownUnits()
    named = {code for r in records for name in UNIT_FIELDS if (code := getattr(r, name))}
    province = _province(orgs.c.region_code)
    loaded = await session.scalars(
        sa.select(province).where(province == sa.any_(_codes(provinces))).distinct()
    )
    codes: dict[str, set[str]] = {p: set() for p in loaded}
    if named and codes:
        found = await session.execute(
            sa.select(orgs.c.code, province.label("province")).where(
                orgs.c.code == sa.any_(_codes(named))
            )
        )
        for row in found:
            if row.province in codes:
                codes[row.province].add(row.code)
    return KnownUnits({p: frozenset(c) for p, c in codes.items()})


def _within(region_code: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    return region_code.startswith(prefix, autoescape=True) if prefix else sa.true()


async def unknown_units(
    session: AsyncSession, region_prefix: str, after: str | None, limit: int
) -> list[UnitUsage]:
    """Up to `limit` unit codes after `after`, in code order, that subjects or officers within
    `region_prefix` name and the org directory of their own province lacks, with how many name
    each. Counted per (code, province) first, so the directory is probed once per code, not
    once per subject."""
    s, i = subjects.c, inspectors.c
    by_subjects = (
        sa.select(
            s.unit_code.label("code"), _province(s.region_code).label("province"),
            sa.func.count().label("subjects"), sa.literal(0).label("inspectors"),
        )
        .where(s.unit_code.is_not(None), _within(s.region_code, region_prefix))
        .group_by(s.unit_code, _province(s.region_code))
    )  # fmt: skip
    # UNION, not UNION ALL: an officer whose unit and station are one code counts once.
    naming = sa.union(
        sa.select(
            i.inspector_id, i.unit_code.label("code"), _province(i.region_code).label("province")
        ).where(_within(i.region_code, region_prefix)),
        sa.select(i.inspector_id, i.station_code, _province(i.region_code)).where(
            i.station_code.is_not(None), _within(i.region_code, region_prefix)
        ),
    ).subquery("naming")
    by_inspectors = sa.select(
        naming.c.code, naming.c.province, sa.literal(0).label("subjects"),
        sa.func.count().label("inspectors"),
    ).group_by(naming.c.code, naming.c.province)  # fmt: skip
    used = sa.union_all(by_subjects, by_inspectors).subquery("used")
    known = sa.exists().where(
        orgs.c.code == used.c.code, _province(orgs.c.region_code) == used.c.province
    )
    clauses: list[sa.ColumnElement[bool]] = [~known]
    if after is not None:
        clauses.append(used.c.code > after)
    query = (
        sa.select(
            used.c.code,
            sa.func.sum(used.c.subjects).label("subjects"),
            sa.func.sum(used.c.inspectors).label("inspectors"),
        )
        .where(*clauses)
        .group_by(used.c.code)
        .order_by(used.c.code)
        .limit(limit)
    )
    return [
        UnitUsage(row.code, int(row.subjects), int(row.inspectors))
        for row in await session.execute(query)
    ]
