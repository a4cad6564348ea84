"""Use cases of the item lists (抽查事项清单): draft, edit, import, publish, read.

Who may do what (DOMAIN.md §7): the national admin writes the national list, a provincial admin
writes the list of their own province. Published versions are public (seed §(七)); drafts are
seen only by those who may write them (and by the national admin, who reads everything).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind
from shuangsui.contracts.events.registry_items import (
    ItemListPublished,
    ItemUpserted,
    ItemUpsertedV2,
)
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import items as repo
from shuangsui.registry.domain import items as rules
from shuangsui.registry.domain.items import CheckItem, ItemContent, ItemList, ListLevel
from shuangsui.registry.domain.items_sheet import (
    absent_fields,
    keeping_absent,
    parse_sheet,
    sheet_error,
)
from shuangsui.registry.service.batch_imports import finish_batch, read_rows

ITEM_LIST_PUBLISHED = p.problem_type(
    "item-list-published", 409, "Published list version cannot change · 已发布清单版本不可修改",
    "Published versions of an item list are immutable; create a new version to adjust the list.",
)  # fmt: skip
ITEM_LIST_CONFLICT = p.problem_type(
    "item-list-conflict", 409, "Conflicts with the list · 与清单现状冲突",
    "The change conflicts with the list as it stands: a draft already exists, an item code is "
    "taken, or a national item was to be changed inside a provincial list.",
)  # fmt: skip

_CONFLICTS = {"draft_exists", "duplicate_code", "read_only", "no_national_list"}

ImportMode = Literal["atomic", "per_row"]


def rule_problem(error: rules.ItemRuleError) -> p.Problem:
    errors = [p.FieldError(error.field, error.reason)] if error.field else None
    if error.kind == "immutable":
        return p.Problem(ITEM_LIST_PUBLISHED, error.reason)
    if error.kind in _CONFLICTS:
        return p.Problem(ITEM_LIST_CONFLICT, error.reason, errors=errors)
    return p.Problem(p.VALIDATION, error.reason, errors=errors)


# ---- who may see and write what -----------------------------------------------------------


def may_write(by: Principal | None, family: str) -> bool:
    if by is None:
        return False
    if family == rules.NATIONAL_FAMILY:
        return Role.national_admin in by.roles
    return Role.provincial_admin in by.roles and by.province + "0000" == family


def may_read_draft(by: Principal | None, family: str) -> bool:
    return by is not None and (by.is_national or may_write(by, family))


def draft_families(by: Principal | None) -> set[str] | None:
    """The families whose drafts `by` sees; None = all of them."""
    if by is None:
        return set()
    if by.is_national:
        return None
    if Role.provincial_admin in by.roles:
        return {by.province + "0000"}
    return set()


async def visible_list(
    uow: UnitOfWork, list_id: UUID, by: Principal | None, lock: bool = False
) -> ItemList:
    lst = await repo.get_list(uow.session, list_id, lock=lock)
    # A draft the caller may not see looks exactly like a missing list.
    if lst is None or (lst.status is rules.ListStatus.draft and not may_read_draft(by, lst.family)):
        raise p.Problem(p.NOT_FOUND, "no such item list version")
    return lst


async def _writable(uow: UnitOfWork, list_id: UUID, by: Principal) -> ItemList:
    lst = await visible_list(uow, list_id, by, lock=True)
    if not may_write(by, lst.family):
        raise p.Problem(p.FORBIDDEN, f"only the admins of list {lst.family} may change it")
    try:
        lst.ensure_draft()
    except rules.ItemRuleError as exc:
        raise rule_problem(exc) from None
    return lst


# ---- commands -----------------------------------------------------------------------------


async def create_version(
    uow: UnitOfWork, level: ListLevel, province: str | None, effective_from: date, by: Principal
) -> tuple[ItemList, int]:
    """A new draft version: the first, or an adjustment of the latest published one."""
    family = rules.family_of(level, province)
    if not may_write(by, family):
        raise p.Problem(
            p.FORBIDDEN,
            "the national list is written by national admins, a provincial list by the "
            "provincial admins of that province",
        )
    async with uow:
        s = uow.session
        versions = await repo.family_versions(s, family)
        latest = _latest_published(versions)
        national = None
        if level is ListLevel.provincial:
            in_force = rules.in_force(
                await repo.family_versions(s, rules.NATIONAL_FAMILY), effective_from
            )
            national = (in_force, await repo.items_of(s, in_force.list_id)) if in_force else None
        try:
            lst, items = rules.new_version(
                list_id=uuid.uuid4(),
                level=level,
                province=province,
                effective_from=effective_from,
                latest=(latest, await repo.items_of(s, latest.list_id)) if latest else None,
                draft_exists=any(v.status is rules.ListStatus.draft for v in versions),
                national=national,
            )
        except rules.ItemRuleError as exc:
            raise rule_problem(exc) from None
        await repo.insert_list(s, lst, by.sub)
        await repo.insert_items(s, lst.list_id, items)
        await uow.commit()
    return lst, len(items)


def _latest_published(versions: Sequence[ItemList]) -> ItemList | None:
    published = [v for v in versions if v.status is rules.ListStatus.published]
    return published[-1] if published else None


async def add_item(
    uow: UnitOfWork, list_id: UUID, content: ItemContent, by: Principal
) -> CheckItem:
    async with uow:
        lst = await _writable(uow, list_id, by)
        existing = await repo.items_of(uow.session, list_id)
        try:
            item = rules.add_item(lst, existing, content, uuid.uuid4())
        except rules.ItemRuleError as exc:
            raise rule_problem(exc) from None
        await repo.insert_items(uow.session, list_id, [item])
        await repo.save_list(uow.session, rules.touched(lst))
        await uow.commit()
    return item


async def update_item(
    uow: UnitOfWork,
    list_id: UUID,
    item_id: UUID,
    content: ItemContent,
    if_match: str | None,
    by: Principal,
) -> CheckItem:
    async with uow:
        lst = await _writable(uow, list_id, by)
        existing = await repo.items_of(uow.session, list_id)
        item = next((i for i in existing if i.item_id == item_id), None)
        if item is None:
            raise p.Problem(p.NOT_FOUND, "no such item in this list version")
        check_if_match(if_match, item.version)
        try:
            updated = rules.update_item(lst, existing, item, content)
        except rules.ItemRuleError as exc:
            raise rule_problem(exc) from None
        await repo.update_items(uow.session, list_id, [updated])
        await repo.save_list(uow.session, rules.touched(lst))
        await uow.commit()
    return updated


async def import_items(
    uow: UnitOfWork, list_id: UUID, media_type: str, body: bytes, mode: ImportMode, by: Principal
) -> BulkReport:
    """Upsert the rows of a CSV/XLSX sheet into a draft by item code; atomic unless `per_row`."""
    sheet = read_rows(media_type, body, parse_sheet)
    report = BulkReport(mode, received=sheet.received)
    async with uow:
        lst = await _writable(uow, list_id, by)
        existing = await repo.items_of(uow.session, list_id)
        held = {i.content.code: i.content for i in existing}
        contents = keeping_absent(sheet.valid, held, absent_fields(sheet.header))
        changes, refused = rules.plan_import(lst, existing, contents, uuid.uuid4)
        code_at = {line: content.code for line, content in contents}
        errors = sheet.invalid + [sheet_error(n, f, why, code_at[n]) for n, f, why in refused]

        async def apply(planned: Sequence[rules.ImportChange]) -> None:
            created = [c.item for c in planned if c.kind is ChangeKind.created]
            updated = [c.item for c in planned if c.kind is ChangeKind.updated]
            await repo.insert_items(uow.session, list_id, created)
            await repo.update_items(uow.session, list_id, updated)
            if created or updated:
                await repo.save_list(uow.session, rules.touched(lst))

        return await finish_batch(uow, report, changes, errors, apply)


async def publish_list(
    uow: UnitOfWork, list_id: UUID, if_match: str | None, by: Principal
) -> ItemList:
    """Publish a draft; record the list event and one event per item (DOMAIN.md §3.1)."""
    async with uow:
        lst = await _writable(uow, list_id, by)
        check_if_match(if_match, lst.revision)
        items = await repo.items_of(uow.session, list_id)
        versions = await repo.family_versions(uow.session, lst.family)
        try:
            rules.check_publishable(lst, items, _latest_published(versions))
        except rules.ItemRuleError as exc:
            raise rule_problem(exc) from None
        published = rules.publish(lst, datetime.now(UTC))
        await repo.save_list(uow.session, published)
        assert published.published_at is not None
        uow.record(
            Outgoing(
                ItemListPublished.model_validate(
                    {
                        "list_id": published.list_id,
                        "level": published.level.value,
                        "province": published.province,
                        "version": published.version,
                        "effective_from": published.effective_from,
                        "item_ids": [i.item_id for i in items],
                        "adopted_list_id": published.adopted_list_id,
                        "based_on_list_id": published.based_on_list_id,
                        "published_at": published.published_at,
                    }
                ),
                subject=str(published.list_id),
                actor=by.sub,
            )
        )
        for item in items:
            for event in item_events(published, item):
                uow.record(Outgoing(event, subject=str(item.item_id), actor=by.sub))
        await uow.commit()
    return published


def item_events(lst: ItemList, item: CheckItem) -> tuple[ItemUpserted, ItemUpsertedV2]:
    """v1 for the consumers that read it, v2 with the joint fields beside it (docs/events.md)."""
    v1 = _item_upserted(lst, item)
    c = item.content
    v2 = ItemUpsertedV2.model_validate(
        {
            **dict(v1),
            "lead_department": c.lead_department,
            "partner_departments": list(c.partner_departments),
            "joint": c.is_joint,
            "inspection_level": c.inspection_level.value if c.inspection_level else None,
        }
    )
    return v1, v2


def _item_upserted(lst: ItemList, item: CheckItem) -> ItemUpserted:
    c = item.content
    return ItemUpserted.model_validate(
        {
            "item_id": item.item_id,
            "list_id": lst.list_id,
            "list_level": lst.level.value,
            "list_version": lst.version,
            "province": lst.province,
            "effective_from": lst.effective_from,
            "origin": item.origin.value,
            "code": c.code,
            "name": c.name,
            "business_line": c.business_line,
            "item_category": c.item_category.value,
            "responsible_department": c.responsible_department,
            "legal_basis": list(c.legal_basis),
            "allowed_methods": [m.value for m in c.allowed_methods],
            "content": c.content,
            "subject_criteria": {
                "subject_types": [t.value for t in c.subject_types],
                "subject_tags": list(c.subject_tags),
            },
            "required_qualification": c.required_qualification,
            "min_ratio": None if c.min_ratio is None else float(c.min_ratio),
            "power_list_code": c.power_list_code,
            "iplus_item_code": c.iplus_item_code,
            "implementation_codes": list(c.implementation_codes),
            "version": item.version,
            "status": c.status.value,
        }
    )
