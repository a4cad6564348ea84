"""Org directory use cases (组织机构): upsert one, import a sheet, read, list, walk a tree, and
find the unit codes that subjects and officers name but the directory lacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shuangsui.contracts.batches import ChangeKind
from shuangsui.contracts.events.registry_orgs import OrgUpserted
from shuangsui.contracts.regions import InvalidRegionCode, scope_prefix
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import orgs as repo
from shuangsui.registry.domain.orgs import (
    Org,
    OrgChange,
    OrgRecord,
    UnitUsage,
    parse_sheet,
    plan_orgs,
)
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service.batch_imports import finish_batch, read_rows


def _upserted(change: OrgChange, by: Principal, now: datetime) -> Outgoing:
    org, r = change.org, change.org.record
    payload = OrgUpserted(
        org_id=org.org_id, code=r.code, name=r.name, level=r.level.value,
        region_code=r.region_code, parent_org_id=change.parent_org_id, parent_code=r.parent_code,
        department_type=r.department_type, is_hq=r.is_hq, status=r.status.value,
        version=org.version, changed_at=now,
    )  # fmt: skip
    return Outgoing(payload, subject=str(org.org_id), actor=by.sub)


async def _apply(uow: UnitOfWork, changes: Sequence[OrgChange], by: Principal) -> None:
    await repo.save_all(uow.session, changes, by.sub)
    now = datetime.now(UTC)
    for change in changes:
        if change.applies:
            uow.record(_upserted(change, by, now))


async def upsert_org(
    uow: UnitOfWork, record: OrgRecord, if_match: str | None, by: Principal
) -> tuple[Org, bool]:
    """Create the org, or replace it under If-Match; (the org, whether it was created).

    Sending the stored state again changes nothing and needs no If-Match, so a retried create
    whose answer was lost is harmless."""
    scope = RegionScope.of(by)
    async with uow:
        await repo.lock_for_writes(uow.session)
        stored = await repo.surroundings(uow.session, [record])
        current = stored.get(record.code)
        if current is None and if_match is not None:
            raise p.Problem(
                p.PRECONDITION_FAILED, f"no org {record.code} yet: send no If-Match to create it"
            )
        if current is not None:
            if not scope.allows(current.record.region_code):
                raise p.Problem(p.FORBIDDEN, f"org {record.code} belongs to another region")
            if if_match is not None or current.record != record:
                check_if_match(if_match, current.version)
        changes, errors = plan_orgs([(1, record)], stored, scope.prefix)
        if errors:
            field_errors = [p.FieldError(e.field, e.reason) for e in errors]
            raise p.Problem(p.VALIDATION, "the org is not valid", errors=field_errors)
        change = changes[0]
        if change.applies:
            await _apply(uow, changes, by)
            await uow.commit()
    return change.org, change.kind is ChangeKind.created


async def import_orgs(
    uow: UnitOfWork, media_type: str, body: bytes, mode: PushMode, by: Principal
) -> BulkReport:
    """Import a CSV/XLSX sheet keyed by unit code; atomic unless `per_row`.

    The sheet is planned whole, not in a push's chunks: a parent may stand anywhere in it."""
    sheet = read_rows(media_type, body, parse_sheet)
    report = BulkReport(mode, received=sheet.received)
    async with uow:
        await repo.lock_for_writes(uow.session)
        stored = await repo.surroundings(uow.session, [r for _, r in sheet.valid])
        changes, refused = plan_orgs(sheet.valid, stored, RegionScope.of(by).prefix)
        errors = sheet.invalid + refused
        return await finish_batch(uow, report, changes, errors, lambda c: _apply(uow, c, by))


async def get_org(uow: UnitOfWork, code: str, scope: RegionScope) -> Org:
    async with uow:
        found = await repo.get(uow.session, code)
    if found is None:
        raise p.Problem(p.NOT_FOUND, "no such org")
    scope.ensure_visible(found.record.region_code, "org")
    return found


def within_prefix(region_code: str | None) -> str | None:
    """The prefix of a requested region filter; 422 for a code that names no division."""
    if region_code is None:
        return None
    try:
        return scope_prefix(region_code)
    except InvalidRegionCode as exc:
        raise p.Problem(p.VALIDATION, errors=[p.FieldError("region_code", exc.detail)]) from None


async def list_orgs(
    uow: UnitOfWork, where: repo.OrgFilter, after: str | None, limit: int
) -> list[Org]:
    async with uow:
        return await repo.search(uow.session, where, after, limit)


async def org_tree(
    uow: UnitOfWork, code: str, scope: RegionScope, include_closed: bool
) -> list[Org]:
    """The org and all orgs below it, parents first (404 when not visible to the caller)."""
    async with uow:
        found = await repo.subtree(uow.session, code, scope.prefix, include_closed)
    if not found or found[0].record.code != code:
        raise p.Problem(p.NOT_FOUND, "no such org")
    return found


async def unknown_units(
    uow: UnitOfWork, scope: RegionScope, after: str | None, limit: int
) -> list[UnitUsage]:
    async with uow:
        return await repo.unknown_units(uow.session, scope.prefix, after, limit)
