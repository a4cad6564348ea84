"""Planning's catalogue read model: what the registry's events say about orgs, item list versions
and their items. Fed only by the `planning-catalogue` consumer, never by a call to the registry.

Every write is idempotent and independent of arrival order: a list version and its items are
written as they come (an item before its list, a copy twice), and the end state is the same."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.planning.domain.catalogue import (
    ACTIVE,
    CatalogueOrg,
    ItemInForce,
    ListVersion,
    ratio_of_share,
)

metadata = sa.MetaData()

# One row per org, replaced when an event carries a higher version (registry.org.upserted.v1).
catalogue_orgs = sa.Table(
    "catalogue_orgs",
    metadata,
    sa.Column("org_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("parent_org_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("parent_code", sa.Text, nullable=True),
    sa.Column("department_type", sa.Text, nullable=False),
    sa.Column("is_hq", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("catalogue_orgs_parent", "parent_org_id"),
    sa.Index("catalogue_orgs_region", "region_code"),
)

# One row per published list version (registry.item_list.published.v1); versions never change.
catalogue_lists = sa.Table(
    "catalogue_lists",
    metadata,
    sa.Column("list_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("province", sa.String(6), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("item_ids", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    sa.Column("adopted_list_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("based_on_list_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("catalogue_lists_family", "level", "province", "effective_from"),
)

# One row per item of a list version (registry.item.upserted.v2): a national item is here once
# for the national version and again for every provincial version adopting it.
catalogue_items = sa.Table(
    "catalogue_items",
    metadata,
    sa.Column("list_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("item_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("list_level", sa.Text, nullable=False),
    sa.Column("list_version", sa.Integer, nullable=False),
    sa.Column("province", sa.String(6), nullable=True),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("business_line", sa.Text, nullable=False),
    sa.Column("item_category", sa.Text, nullable=False),
    sa.Column("allowed_methods", ARRAY(sa.Text), nullable=False),
    sa.Column("subject_criteria", JSONB, nullable=False),
    sa.Column("required_qualification", sa.Text, nullable=True),
    sa.Column("min_ratio", sa.Float, nullable=True),
    sa.Column("lead_department", sa.Text, nullable=True),
    sa.Column("partner_departments", ARRAY(sa.Text), nullable=False),
    sa.Column("joint", sa.Boolean, nullable=False),
    sa.Column("inspection_level", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("catalogue_items_code", "list_id", "code"),
)


async def save_org(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Store the org unless a version at least as high is held; whether it was stored."""
    statement = insert(catalogue_orgs).values(**row)
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[catalogue_orgs.c.org_id],
            set_={c: statement.excluded[c] for c in row if c != "org_id"},
            where=catalogue_orgs.c.version < statement.excluded.version,
        ).returning(catalogue_orgs.c.org_id)
    )
    return result.first() is not None


async def save_list(session: AsyncSession, row: dict[str, Any]) -> None:
    """A published version never changes: a second copy of its event adds nothing."""
    await session.execute(insert(catalogue_lists).values(**row).on_conflict_do_nothing())


async def save_item(session: AsyncSession, row: dict[str, Any]) -> None:
    """Store the item of a list version unless a content version at least as high is held."""
    statement = insert(catalogue_items).values(**row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[catalogue_items.c.list_id, catalogue_items.c.item_id],
            set_={c: statement.excluded[c] for c in row if c not in ("list_id", "item_id")},
            where=catalogue_items.c.version < statement.excluded.version,
        )
    )


async def list_versions(session: AsyncSession, province: str | None) -> list[ListVersion]:
    """Every version of the national list, and of `province`'s list when one is named."""
    family = catalogue_lists.c.level == "national"
    if province is not None:
        family = family | (catalogue_lists.c.province == province)
    rows = await session.execute(
        sa.select(
            catalogue_lists.c.list_id, catalogue_lists.c.level, catalogue_lists.c.province,
            catalogue_lists.c.version, catalogue_lists.c.effective_from,
        ).where(family)
    )  # fmt: skip
    return [ListVersion(**r._mapping) for r in rows]


@dataclass(frozen=True)
class ItemQuery:
    """Which active items of a list version to read, in code order after `after_code`."""

    item_ids: Collection[UUID] | None = None
    item_category: str | None = None
    business_line: str | None = None
    search: str | None = None  # a part of the code or the name, in any case
    after_code: str | None = None
    limit: int | None = None


async def items_of(session: AsyncSession, list_id: UUID, query: ItemQuery) -> list[ItemInForce]:
    c = catalogue_items.c
    statement = sa.select(catalogue_items).where(c.list_id == list_id, c.status == ACTIVE)
    if query.item_ids is not None:
        statement = statement.where(c.item_id.in_(list(query.item_ids)))
    if query.item_category is not None:
        statement = statement.where(c.item_category == query.item_category)
    if query.business_line is not None:
        statement = statement.where(c.business_line == query.business_line)
    if query.search:
        statement = statement.where(
            c.code.icontains(query.search, autoescape=True)
            | c.name.icontains(query.search, autoescape=True)
        )
    if query.after_code is not None:
        statement = statement.where(c.code > query.after_code)
    statement = statement.order_by(c.code, c.item_id)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return [_item(r._mapping) for r in await session.execute(statement)]


def _item(row: Any) -> ItemInForce:
    criteria = row["subject_criteria"]
    return ItemInForce(
        item_id=row["item_id"],
        list_id=row["list_id"],
        list_level=row["list_level"],
        list_version=row["list_version"],
        origin=row["origin"],
        code=row["code"],
        name=row["name"],
        business_line=row["business_line"],
        item_category=row["item_category"],
        allowed_methods=tuple(row["allowed_methods"]),
        subject_types=tuple(criteria.get("subject_types", ())),
        subject_tags=tuple(criteria.get("subject_tags", ())),
        required_qualification=row["required_qualification"],
        min_ratio=ratio_of_share(row["min_ratio"]) if row["min_ratio"] is not None else None,
        lead_department=row["lead_department"],
        partner_departments=tuple(row["partner_departments"]),
        joint=row["joint"],
        inspection_level=row["inspection_level"],
        version=row["version"],
    )


async def org(session: AsyncSession, org_id: UUID) -> CatalogueOrg | None:
    row = (
        await session.execute(sa.select(catalogue_orgs).where(catalogue_orgs.c.org_id == org_id))
    ).one_or_none()
    return _org(row._mapping) if row is not None else None


def _org(row: Any) -> CatalogueOrg:
    return CatalogueOrg(**{k: v for k, v in row.items() if k != "changed_at"})


async def orgs(session: AsyncSession, org_ids: Collection[UUID]) -> dict[UUID, CatalogueOrg]:
    if not org_ids:
        return {}
    query = sa.select(catalogue_orgs).where(catalogue_orgs.c.org_id.in_(list(org_ids)))
    return {r.org_id: _org(r._mapping) for r in await session.execute(query)}


async def station_codes_of(session: AsyncSession, org_id: UUID) -> list[str]:
    """The public codes of the active stations (所) directly beneath an org."""
    c = catalogue_orgs.c
    query = sa.select(c.code).where(
        c.parent_org_id == org_id, c.level == "station", c.status == ACTIVE
    )
    return list((await session.execute(query)).scalars())
