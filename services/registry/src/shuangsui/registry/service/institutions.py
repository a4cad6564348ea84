"""Professional institutions and experts (委托专业机构): list and upsert."""

from __future__ import annotations

import uuid
from uuid import UUID

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters import institutions as repo
from shuangsui.registry.domain.institutions import Institution, InstitutionRecord, record_problems


async def upsert_institution(
    uow: UnitOfWork, institution_id: UUID | None, record: InstitutionRecord, by: Principal
) -> tuple[Institution, bool]:
    """Create or replace one entry, matched by id, else by USCC. True when it was created."""
    problems = record_problems(record)
    if problems:
        raise p.Problem(p.VALIDATION, errors=[p.FieldError(f, r) for f, r in problems])
    scope = RegionScope.of(by)
    if not scope.allows(record.region_code):
        raise p.Problem(
            p.VALIDATION,
            errors=[p.FieldError("region_code", "outside the jurisdiction of your organisation")],
        )
    async with uow:
        if institution_id is not None:
            current = await repo.get(uow.session, institution_id)
            if current is None or not scope.allows(current.record.region_code):
                raise p.Problem(p.NOT_FOUND, "no such institution")
        else:
            current = await repo.by_uscc(uow.session, record.uscc) if record.uscc else None
            if current is not None and not scope.allows(current.record.region_code):
                raise p.Problem(
                    p.VALIDATION,
                    errors=[p.FieldError("uscc", "registered by another jurisdiction")],
                )
        if current is not None and current.record == record:
            return current, False
        saved = (
            Institution(uuid.uuid4(), record)
            if current is None
            else Institution(current.institution_id, record, current.version + 1)
        )
        await repo.save(uow.session, saved)
        await uow.commit()
    return saved, current is None


async def list_institutions(
    uow: UnitOfWork,
    scope: RegionScope,
    kind: str | None,
    qualification: str | None,
    after: UUID | None,
    limit: int,
) -> list[Institution]:
    async with uow:
        return await repo.search(uow.session, scope.prefix, kind, qualification, after, limit)
