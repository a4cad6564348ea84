"""Item lists, check items and work guides in PostgreSQL (tables of migration 0004)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.domain.guides import GuideStatus, GuideStep, WorkGuide
from shuangsui.registry.domain.items import (
    CheckItem,
    InspectionLevel,
    ItemCategory,
    ItemContent,
    ItemList,
    ItemOrigin,
    ItemStatus,
    ListLevel,
    ListStatus,
    Method,
    SubjectType,
)

metadata = sa.MetaData()
_uuid = PgUUID(as_uuid=True)

item_lists = sa.Table(
    "item_lists",
    metadata,
    sa.Column("list_id", _uuid, primary_key=True),
    sa.Column("family", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("province", sa.String(6)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("adopted_list_id", _uuid),
    sa.Column("based_on_list_id", _uuid),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

check_items = sa.Table(
    "check_items",
    metadata,
    sa.Column("list_id", _uuid, primary_key=True),
    sa.Column("item_id", _uuid, primary_key=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("business_line", sa.Text, nullable=False),
    sa.Column("item_category", sa.Text, nullable=False),
    sa.Column("responsible_department", sa.Text, nullable=False),
    sa.Column("legal_basis", JSONB, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("subject_types", JSONB, nullable=False),
    sa.Column("allowed_methods", JSONB, nullable=False),
    sa.Column("iplus_item_code", sa.String(14), nullable=False),
    sa.Column("implementation_codes", JSONB, nullable=False),
    sa.Column("power_list_code", sa.Text),
    sa.Column("min_ratio", sa.Numeric(6, 5)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("subject_tags", JSONB, nullable=False, server_default="[]"),  # migration 0007
    sa.Column("required_qualification", sa.Text),  # migration 0011
    sa.Column("lead_department", sa.Text),  # migration 0013
    sa.Column("partner_departments", JSONB, nullable=False, server_default="[]"),  # 0013
    sa.Column("inspection_level", sa.Text),  # migration 0013
)

work_guides = sa.Table(
    "work_guides",
    metadata,
    sa.Column("guide_id", _uuid, primary_key=True),
    sa.Column("item_id", _uuid, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("steps", JSONB, nullable=False),
    sa.Column("evidence_requirements", JSONB, nullable=False),
    sa.Column("record_form_schema", JSONB, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


# ---- item lists ---------------------------------------------------------------------------


def _list_of(row: Any) -> ItemList:
    return ItemList(
        list_id=row.list_id,
        level=ListLevel(row.level),
        province=row.province,
        version=row.version,
        status=ListStatus(row.status),
        effective_from=row.effective_from,
        revision=row.revision,
        published_at=row.published_at,
        adopted_list_id=row.adopted_list_id,
        based_on_list_id=row.based_on_list_id,
    )


async def get_list(s: AsyncSession, list_id: UUID, *, lock: bool = False) -> ItemList | None:
    query = sa.select(item_lists).where(item_lists.c.list_id == list_id)
    # Draft edits serialise on the list row, so the revision (ETag) and code checks hold.
    row = (await s.execute(query.with_for_update() if lock else query)).one_or_none()
    return _list_of(row) if row else None


async def family_versions(s: AsyncSession, family: str) -> list[ItemList]:
    query = sa.select(item_lists).where(item_lists.c.family == family)
    return [_list_of(r) for r in await s.execute(query.order_by(item_lists.c.version))]


async def insert_list(s: AsyncSession, lst: ItemList, by: str) -> None:
    await s.execute(sa.insert(item_lists).values(**_list_values(lst), created_by=by))


async def save_list(s: AsyncSession, lst: ItemList) -> None:
    values = _list_values(lst)
    await s.execute(
        sa.update(item_lists).where(item_lists.c.list_id == lst.list_id).values(**values)
    )


def _list_values(lst: ItemList) -> dict[str, Any]:
    return {
        "list_id": lst.list_id,
        "family": lst.family,
        "level": lst.level.value,
        "province": lst.province,
        "version": lst.version,
        "status": lst.status.value,
        "effective_from": lst.effective_from,
        "revision": lst.revision,
        "published_at": lst.published_at,
        "adopted_list_id": lst.adopted_list_id,
        "based_on_list_id": lst.based_on_list_id,
    }


async def page_lists(
    s: AsyncSession,
    *,
    draft_families: Collection[str] | None,
    level: ListLevel | None,
    province: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[ItemList]:
    """Published versions, plus drafts of `draft_families` (None = every family)."""
    c = item_lists.c
    visible = c.status == ListStatus.published.value
    if draft_families is None:
        visible = sa.true()
    elif draft_families:
        visible = sa.or_(visible, c.family.in_(list(draft_families)))
    query = sa.select(item_lists).where(visible)
    if level is not None:
        query = query.where(c.level == level.value)
    if province is not None:
        query = query.where(c.province == province)
    if after is not None:
        query = query.where(sa.tuple_(c.family, c.version) > sa.tuple_(*after))
    query = query.order_by(c.family, c.version).limit(limit + 1)
    return [_list_of(r) for r in await s.execute(query)]


# ---- check items --------------------------------------------------------------------------


def _item_of(row: Any) -> CheckItem:
    ratio = row.min_ratio
    return CheckItem(
        item_id=row.item_id,
        origin=ItemOrigin(row.origin),
        version=row.version,
        content=ItemContent(
            code=row.code,
            name=row.name,
            business_line=row.business_line,
            item_category=ItemCategory(row.item_category),
            responsible_department=row.responsible_department,
            legal_basis=tuple(row.legal_basis),
            content=row.content,
            subject_types=tuple(SubjectType(t) for t in row.subject_types),
            allowed_methods=tuple(Method(m) for m in row.allowed_methods),
            iplus_item_code=row.iplus_item_code,
            implementation_codes=tuple(row.implementation_codes),
            power_list_code=row.power_list_code,
            min_ratio=None if ratio is None else Decimal(ratio).normalize(),
            status=ItemStatus(row.status),
            subject_tags=tuple(row.subject_tags),
            required_qualification=row.required_qualification,
            lead_department=row.lead_department,
            partner_departments=tuple(row.partner_departments),
            inspection_level=None
            if row.inspection_level is None
            else InspectionLevel(row.inspection_level),
        ),
    )


def _item_values(list_id: UUID, item: CheckItem) -> dict[str, Any]:
    c = item.content
    return {
        "list_id": list_id,
        "item_id": item.item_id,
        "code": c.code,
        "origin": item.origin.value,
        "version": item.version,
        "name": c.name,
        "business_line": c.business_line,
        "item_category": c.item_category.value,
        "responsible_department": c.responsible_department,
        "legal_basis": list(c.legal_basis),
        "content": c.content,
        "subject_types": [t.value for t in c.subject_types],
        "allowed_methods": [m.value for m in c.allowed_methods],
        "iplus_item_code": c.iplus_item_code,
        "implementation_codes": list(c.implementation_codes),
        "power_list_code": c.power_list_code,
        "min_ratio": c.min_ratio,
        "status": c.status.value,
        "subject_tags": list(c.subject_tags),
        "required_qualification": c.required_qualification,
        "lead_department": c.lead_department,
        "partner_departments": list(c.partner_departments),
        "inspection_level": None if c.inspection_level is None else c.inspection_level.value,
    }


async def items_of(s: AsyncSession, list_id: UUID) -> list[CheckItem]:
    query = sa.select(check_items).where(check_items.c.list_id == list_id)
    return [_item_of(r) for r in await s.execute(query.order_by(check_items.c.code))]


async def get_item(s: AsyncSession, list_id: UUID, item_id: UUID) -> CheckItem | None:
    c = check_items.c
    query = sa.select(check_items).where(c.list_id == list_id, c.item_id == item_id)
    row = (await s.execute(query)).one_or_none()
    return _item_of(row) if row else None


async def insert_items(s: AsyncSession, list_id: UUID, items: Sequence[CheckItem]) -> None:
    if items:
        await s.execute(sa.insert(check_items), [_item_values(list_id, i) for i in items])


async def update_items(s: AsyncSession, list_id: UUID, items: Sequence[CheckItem]) -> None:
    c = check_items.c
    for item in items:
        values = _item_values(list_id, item)
        await s.execute(
            sa.update(check_items)
            .where(c.list_id == list_id, c.item_id == item.item_id)
            .values(**values)
        )


async def page_items(
    s: AsyncSession,
    list_id: UUID,
    *,
    only_active: bool,
    category: ItemCategory | None,
    method: Method | None,
    subject_type: SubjectType | None,
    joint: bool | None,
    lead_department: str | None,
    after_code: str | None,
    limit: int,
) -> list[CheckItem]:
    c = check_items.c
    query = sa.select(check_items).where(c.list_id == list_id)
    if only_active:
        query = query.where(c.status == ItemStatus.active.value)
    if category is not None:
        query = query.where(c.item_category == category.value)
    if method is not None:
        query = query.where(c.allowed_methods.contains([method.value]))
    if subject_type is not None:
        query = query.where(c.subject_types.contains([subject_type.value]))
    if joint is not None:
        partnered = sa.func.jsonb_array_length(c.partner_departments) > 0
        query = query.where(partnered if joint else sa.not_(partnered))
    if lead_department is not None:
        query = query.where(c.lead_department == lead_department)
    if after_code is not None:
        query = query.where(c.code > after_code)
    return [_item_of(r) for r in await s.execute(query.order_by(c.code).limit(limit + 1))]


async def item_owner(s: AsyncSession, item_id: UUID) -> str | None:
    """The family whose list introduced the item: who may write its work guide."""
    i, lst = check_items.c, item_lists.c
    own = sa.or_(
        sa.and_(i.origin == "national", lst.level == "national"),
        sa.and_(i.origin == "provincial", lst.level == "provincial"),
    )
    query = (
        sa.select(lst.family)
        .select_from(check_items.join(item_lists, i.list_id == lst.list_id))
        .where(i.item_id == item_id, own)
        .limit(1)
    )
    return (await s.execute(query)).scalar_one_or_none()


# ---- work guides --------------------------------------------------------------------------


def _guide_of(row: Any) -> WorkGuide:
    return WorkGuide(
        guide_id=row.guide_id,
        item_id=row.item_id,
        version=row.version,
        status=GuideStatus(row.status),
        steps=tuple(GuideStep(s["title"], tuple(s["checkpoints"])) for s in row.steps),
        evidence_requirements=tuple(row.evidence_requirements),
        record_form_schema=row.record_form_schema,
        published_at=row.published_at,
    )


async def guides_of(s: AsyncSession, item_id: UUID, *, lock: bool = False) -> list[WorkGuide]:
    query = sa.select(work_guides).where(work_guides.c.item_id == item_id)
    query = query.order_by(work_guides.c.version)
    return [_guide_of(r) for r in await s.execute(query.with_for_update() if lock else query)]


async def insert_guide(s: AsyncSession, guide: WorkGuide, by: str) -> None:
    await s.execute(
        sa.insert(work_guides).values(
            guide_id=guide.guide_id,
            item_id=guide.item_id,
            version=guide.version,
            status=guide.status.value,
            steps=[{"title": st.title, "checkpoints": list(st.checkpoints)} for st in guide.steps],
            evidence_requirements=list(guide.evidence_requirements),
            record_form_schema=dict(guide.record_form_schema),
            created_by=by,
        )
    )


async def save_guide_status(s: AsyncSession, guide: WorkGuide) -> None:
    await s.execute(
        sa.update(work_guides)
        .where(work_guides.c.guide_id == guide.guide_id)
        .values(status=guide.status.value, published_at=guide.published_at)
    )


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
