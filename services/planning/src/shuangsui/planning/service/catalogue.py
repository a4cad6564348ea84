"""The catalogue read model: the registry's org and item-list events applied as they arrive
(consumer `planning-catalogue`), and the reads the rest of planning validates with.

Batches are validated against what is stored here, never against a call made while handling an
event (ADR 0003): the handlers only write this service's own tables."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.events import EventPayload
from shuangsui.contracts.events.registry_items import ItemListPublished, ItemUpsertedV2
from shuangsui.contracts.events.registry_orgs import OrgUpserted
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Envelope
from shuangsui.planning.adapters import catalogue as repo
from shuangsui.planning.adapters.catalogue import ItemQuery
from shuangsui.planning.domain import catalogue as rules
from shuangsui.planning.domain.catalogue import CatalogueOrg, ItemInForce, ListVersion, PlanLevel

P = TypeVar("P", bound=EventPayload)

ITEM_FIELDS = (
    "list_id", "item_id", "list_level", "list_version", "province", "effective_from", "origin",
    "code", "name", "business_line", "item_category", "allowed_methods", "required_qualification",
    "min_ratio", "lead_department", "partner_departments", "joint", "inspection_level", "status",
    "version",
)  # fmt: skip


def _payload(event: Envelope, model: type[P]) -> P:
    payload = event.payload(model)
    assert isinstance(payload, model)
    return payload


async def apply_org_upserted(event: Envelope, uow: UnitOfWork) -> None:
    """Replace the org only with a higher version: an older event arriving late changes nothing."""
    org = _payload(event, OrgUpserted)
    async with uow:
        await repo.save_org(uow.session, org.model_dump())
        await uow.commit()


async def apply_list_published(event: Envelope, uow: UnitOfWork) -> None:
    published = _payload(event, ItemListPublished)
    async with uow:
        await repo.save_list(uow.session, published.model_dump())
        await uow.commit()


async def apply_item_upserted(event: Envelope, uow: UnitOfWork) -> None:
    """Store the item under its list version. It may come before the list's own event: the item
    carries its list's level, province and date, and waits there until the list arrives."""
    item = _payload(event, ItemUpsertedV2)
    data = item.model_dump()
    row = {name: data[name] for name in ITEM_FIELDS}
    row["subject_criteria"] = data["subject_criteria"]
    async with uow:
        await repo.save_item(uow.session, row)
        await uow.commit()


async def list_in_force(
    uow: UnitOfWork, province: str | None, level: PlanLevel, on_date: date
) -> ListVersion | None:
    """The list version a plan of `level` in `province` works from on `on_date`."""
    async with uow:
        versions = await repo.list_versions(uow.session, rules.province_code(province))
    return rules.list_in_force(versions, province, level, on_date)


async def items_in_force(
    uow: UnitOfWork, province: str | None, level: PlanLevel, on_date: date,
    item_ids: Collection[UUID],
) -> dict[UUID, ItemInForce]:  # fmt: skip
    """The named items as the list in force on `on_date` holds them; an id the list does not hold
    (or holds withdrawn) is absent. `province`: `330000`, its 2 digits or any region code inside
    it (an org's `region_code`); `level`: the plan's tier."""
    async with uow:
        return await items_in_force_in(uow.session, province, level, on_date, item_ids)


async def items_in_force_in(
    session: AsyncSession, province: str | None, level: PlanLevel, on_date: date,
    item_ids: Collection[UUID],
) -> dict[UUID, ItemInForce]:  # fmt: skip
    """`items_in_force` inside a use case's own transaction."""
    versions = await repo.list_versions(session, rules.province_code(province))
    lst = rules.list_in_force(versions, province, level, on_date)
    if lst is None or not item_ids:
        return {}
    found = await repo.items_of(session, lst.list_id, ItemQuery(item_ids=set(item_ids)))
    return {item.item_id: item for item in found}


async def browse_items(
    uow: UnitOfWork, province: str | None, level: PlanLevel, on_date: date, query: ItemQuery
) -> tuple[ListVersion | None, list[ItemInForce]]:
    """A page of the active items of the list in force, in code order (batch forms)."""
    async with uow:
        versions = await repo.list_versions(uow.session, rules.province_code(province))
        lst = rules.list_in_force(versions, province, level, on_date)
        if lst is None:
            return None, []
        return lst, await repo.items_of(uow.session, lst.list_id, query)


async def org(uow: UnitOfWork, org_id: UUID) -> CatalogueOrg | None:
    async with uow:
        return await repo.org(uow.session, org_id)


async def superior_of(uow: UnitOfWork, org_id: UUID) -> CatalogueOrg | None:
    """The org `org_id` files its plans with (备案): its parent, for a station its bureau. None
    for a root, or for an org (or a parent) whose event has not arrived."""
    async with uow:
        own = await repo.org(uow.session, org_id)
        if own is None or own.parent_org_id is None:
            return None
        parent = await repo.org(uow.session, own.parent_org_id)
    return rules.superior_of(own, {parent.org_id: parent} if parent is not None else {})
