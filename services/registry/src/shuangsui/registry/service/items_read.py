"""Reading item lists: versions, their items, the items in force, exports.

Published versions are public (seed §(七) 抽查事项清单向社会公开), so every read takes an optional
principal; drafts are filtered out for callers who may not see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.regions import InvalidRegionCode, province_region
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.registry.adapters import items as repo
from shuangsui.registry.domain import items as rules
from shuangsui.registry.domain.items import (
    CheckItem,
    ItemCategory,
    ItemList,
    ListLevel,
    Method,
    SubjectType,
)
from shuangsui.registry.service.items import draft_families, visible_list


@dataclass(frozen=True)
class ItemFilters:
    category: ItemCategory | None = None
    method: Method | None = None
    subject_type: SubjectType | None = None
    joint: bool | None = None  # True: joint cross-department items only; False: none of them
    lead_department: str | None = None  # 发起部门, as the item writes it


async def get_list(uow: UnitOfWork, list_id: UUID, by: Principal | None) -> ItemList:
    async with uow:
        return await visible_list(uow, list_id, by)


async def list_versions(
    uow: UnitOfWork,
    by: Principal | None,
    level: ListLevel | None,
    province: str | None,
    page: PageRequest,
) -> tuple[list[ItemList], str | None]:
    family, version = page.position("family", str), page.position("version", int)
    after = (family, version) if family is not None and version is not None else None
    async with uow:
        rows = await repo.page_lists(
            uow.session,
            draft_families=draft_families(by),
            level=level,
            province=province,
            after=after,
            limit=page.limit,
        )
    return page.page(rows, lambda v: {"family": v.family, "version": v.version})


async def items_of_version(
    uow: UnitOfWork, list_id: UUID, by: Principal | None, filters: ItemFilters, page: PageRequest
) -> tuple[ItemList, list[CheckItem], str | None]:
    async with uow:
        lst = await visible_list(uow, list_id, by)
        rows = await _page(uow, lst, filters, page, only_active=False)
    items, cursor = page.page(rows, _position)
    return lst, items, cursor


async def items_in_force(
    uow: UnitOfWork, region: str | None, on: date, filters: ItemFilters, page: PageRequest
) -> tuple[ItemList | None, list[CheckItem], str | None]:
    """The active items of the list in force for `region` on `on`.

    A province applies its own list once it has one in force; until then the national list
    applies there as everywhere (R1: every province applies the whole national list).
    """
    families = [rules.NATIONAL_FAMILY]
    if region is not None:
        try:
            families.insert(0, province_region(region))
        except InvalidRegionCode as exc:
            raise p.Problem(
                p.VALIDATION, exc.detail, errors=[p.FieldError("region", exc.detail)]
            ) from None
    async with uow:
        lst = await version_in_force(uow.session, families, on)
        if lst is not None:
            rows = await _page(uow, lst, filters, page, only_active=True)
            items, cursor = page.page(rows, _position)
            return lst, items, cursor
    return None, [], None


async def version_in_force(
    session: AsyncSession, families: Sequence[str], on: date
) -> ItemList | None:
    """The version in force on `on` of the first family that has one: a province applies its
    own list once it has one in force, the national list until then (R1)."""
    for family in families:
        lst = rules.in_force(await repo.family_versions(session, family), on)
        if lst is not None:
            return lst
    return None


async def export_version(
    uow: UnitOfWork, list_id: UUID, by: Principal | None
) -> tuple[ItemList, list[CheckItem]]:
    async with uow:
        lst = await visible_list(uow, list_id, by)
        return lst, await repo.items_of(uow.session, list_id)


async def _page(
    uow: UnitOfWork, lst: ItemList, filters: ItemFilters, page: PageRequest, only_active: bool
) -> list[CheckItem]:
    return await repo.page_items(
        uow.session,
        lst.list_id,
        only_active=only_active,
        category=filters.category,
        method=filters.method,
        subject_type=filters.subject_type,
        joint=filters.joint,
        lead_department=filters.lead_department,
        after_code=page.position("code", str),
        limit=page.limit,
    )


def _position(item: CheckItem) -> dict[str, Any]:
    return {"code": item.code}
