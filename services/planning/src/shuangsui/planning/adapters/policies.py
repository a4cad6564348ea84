"""Risk-ratio policies (风险分类抽查比例与频次) as stored: one row per natural key, the classes
as JSON of B.4 fraction strings (exact, never a float)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.planning.domain.policies import (
    ClassRule,
    Holder,
    Policy,
    PolicyKey,
    PolicyRecord,
)
from shuangsui.planning.domain.population import parse_ratio

metadata = sa.MetaData()


risk_ratio_policies = sa.Table(
    "risk_ratio_policies",
    metadata,
    sa.Column("policy_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("policy_key", sa.Text, nullable=False, unique=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("province", sa.String(2), nullable=True),
    sa.Column("org_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("effective_year", sa.Integer, nullable=False),
    sa.Column("item_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("classes", JSONB, nullable=False),
    sa.Column("unclassified_treatment", sa.String(1), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("risk_ratio_policies_lookup", "effective_year", "province", "org_id"),
)
_t = risk_ratio_policies


def _classes_json(classes: dict[str, ClassRule] | Any) -> dict[str, dict[str, Any]]:
    return {
        c: {
            "min_ratio": str(rule.min_ratio),
            "max_ratio": str(rule.max_ratio),
            "frequency_per_year": rule.frequency_per_year,
        }
        for c, rule in classes.items()
    }


def _record(row: sa.Row[Any]) -> PolicyRecord:
    key = PolicyKey(
        Holder(row.holder), row.effective_year, province=row.province, org_id=row.org_id,
        item_id=row.item_id,
    )  # fmt: skip
    classes = {
        c: ClassRule(
            parse_ratio(v["min_ratio"]), parse_ratio(v["max_ratio"]), v["frequency_per_year"]
        )
        for c, v in row.classes.items()
    }
    return PolicyRecord(
        row.policy_id, Policy(key, classes, row.unclassified_treatment), row.region_code,
        row.version, row.updated_by, row.updated_at,
    )  # fmt: skip


def _values(record: PolicyRecord) -> dict[str, Any]:
    policy, key = record.policy, record.policy.key
    return {
        "policy_id": record.policy_id,
        "policy_key": key.text,
        "holder": key.holder.value,
        "province": key.province,
        "org_id": key.org_id,
        "region_code": record.region_code,
        "effective_year": key.effective_year,
        "item_id": key.item_id,
        "classes": _classes_json(policy.classes),
        "unclassified_treatment": policy.unclassified_treatment,
        "version": record.version,
        "updated_by": record.updated_by,
        "updated_at": record.updated_at,
    }


async def get(
    session: AsyncSession, key: PolicyKey, *, for_update: bool = False
) -> PolicyRecord | None:
    query = sa.select(_t).where(_t.c.policy_key == key.text)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def insert_new(session: AsyncSession, record: PolicyRecord) -> bool:
    """False when another writer created the same key meanwhile (nothing written)."""
    statement = (
        insert(_t).values(**_values(record)).on_conflict_do_nothing(index_elements=["policy_key"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def replace(session: AsyncSession, record: PolicyRecord) -> None:
    values = _values(record)
    del values["policy_id"], values["policy_key"]
    await session.execute(sa.update(_t).where(_t.c.policy_id == record.policy_id).values(values))


async def delete(session: AsyncSession, policy_id: UUID) -> None:
    await session.execute(sa.delete(_t).where(_t.c.policy_id == policy_id))


@dataclass(frozen=True)
class PolicyFilter:
    """What a caller may see (`province`, `region_prefix`, `own_org`; national: all) and what
    it asked for."""

    province: str | None
    region_prefix: str
    own_org: UUID | None
    year: int | None = None
    holder: Holder | None = None
    org_id: UUID | None = None
    item_id: UUID | None = None


def _visible(where: PolicyFilter) -> sa.ColumnElement[bool]:
    """National defaults are everyone's; a province's policies are seen by that province; a
    department's by the region above it and by the department itself."""
    if where.province is None:
        return sa.true()
    org_seen = _t.c.region_code.startswith(where.region_prefix, autoescape=True)
    if where.own_org is not None:
        org_seen = sa.or_(org_seen, _t.c.org_id == where.own_org)
    return sa.or_(
        _t.c.holder == Holder.national.value,
        sa.and_(_t.c.holder == Holder.province.value, _t.c.province == where.province),
        sa.and_(_t.c.holder == Holder.org.value, _t.c.province == where.province, org_seen),
    )


async def search(
    session: AsyncSession, where: PolicyFilter, after: str | None, limit: int
) -> list[PolicyRecord]:
    query = sa.select(_t).where(_visible(where))
    if where.year is not None:
        query = query.where(_t.c.effective_year == where.year)
    if where.holder is not None:
        query = query.where(_t.c.holder == where.holder.value)
    if where.org_id is not None:
        query = query.where(_t.c.org_id == where.org_id)
    if where.item_id is not None:
        query = query.where(_t.c.item_id == where.item_id)
    if after is not None:
        query = query.where(_t.c.policy_key > after)
    rows = await session.execute(query.order_by(_t.c.policy_key).limit(limit))
    return [_record(row) for row in rows]


async def candidates(
    session: AsyncSession, *, province: str, org_id: UUID | None, year: int, item_id: UUID | None
) -> list[PolicyRecord]:
    """Every policy that could apply to a batch of `org_id` for `item_id` in `year` (the
    domain picks the most specific)."""
    item = _t.c.item_id.is_(None) if item_id is None else sa.or_(
        _t.c.item_id.is_(None), _t.c.item_id == item_id
    )  # fmt: skip
    holders = [
        _t.c.holder == Holder.national.value,
        sa.and_(_t.c.holder == Holder.province.value, _t.c.province == province),
    ]
    if org_id is not None:
        holders.append(sa.and_(_t.c.holder == Holder.org.value, _t.c.org_id == org_id))
    query = sa.select(_t).where(_t.c.effective_year == year, item, sa.or_(*holders))
    return [_record(row) for row in await session.execute(query)]
