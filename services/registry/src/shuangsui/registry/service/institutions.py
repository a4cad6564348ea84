"""Professional institutions and experts (委托专业机构与专家): upsert by natural key, read, list.

A write names its entry by natural key (an institution's USCC, an expert's province and code), so
sending it again finds the entry it made instead of adding a second one. Changing an existing
entry needs `If-Match`, as every versioned resource of the platform; sending the state the entry
already holds changes nothing and is answered as done whatever `If-Match` says (RFC 9110
§13.1.1 allows it when the requested change has already been made): a retry whose first answer
was lost is harmless, with or without `Idempotency-Key`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind
from shuangsui.contracts.events.registry_institutions import ExpertUpserted, InstitutionUpserted
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import institutions as repo
from shuangsui.registry.domain.institutions import (
    Institution,
    InstitutionChange,
    InstitutionRecord,
    jurisdiction_refusal,
    natural_key,
    plan_upsert,
    record_problems,
)


def _upserted(entry: Institution, by: Principal, now: datetime) -> Outgoing:
    r = entry.record
    common = {
        "name": r.name, "region_code": r.region_code, "qualifications": list(r.qualifications),
        "valid_until": r.valid_until, "status": r.status.value, "version": entry.version,
        "changed_at": now,
    }  # fmt: skip
    payload: ExpertUpserted | InstitutionUpserted
    if r.is_expert:
        payload = ExpertUpserted(
            expert_id=entry.institution_id, expert_code=r.expert_code, **common
        )
    else:
        payload = InstitutionUpserted(
            institution_id=entry.institution_id, uscc=r.uscc, kind=r.kind.value, **common
        )
    return Outgoing(payload, subject=str(entry.institution_id), actor=by.sub)


async def upsert_entry(
    uow: UnitOfWork, record: InstitutionRecord, if_match: str | None, by: Principal
) -> InstitutionChange:
    """Create the entry with the record's natural key, or replace it under If-Match."""
    problems = record_problems(record)
    if problems:
        raise p.Problem(p.VALIDATION, errors=[p.FieldError(f, r) for f, r in problems])
    key = natural_key(record)
    async with uow:
        await repo.lock_key(uow.session, key)
        stored = await repo.find(uow.session, key)
        refused = jurisdiction_refusal(record, stored, RegionScope.of(by).prefix)
        if refused is not None:
            raise p.Problem(p.FORBIDDEN, refused[1], errors=[p.FieldError(*refused)])
        if stored is None and if_match is not None:
            raise p.Problem(
                p.PRECONDITION_FAILED, f"no entry {key} yet: send no If-Match to create it"
            )
        change = plan_upsert(record, stored)
        if stored is not None and change.kind is ChangeKind.updated:
            check_if_match(if_match, stored.version)
        if change.applies:
            await repo.save(uow.session, change.institution)
            uow.record(_upserted(change.institution, by, datetime.now(UTC)))
            await uow.commit()
    return change


async def get_entry(uow: UnitOfWork, institution_id: UUID, scope: RegionScope) -> Institution:
    async with uow:
        found = await repo.get(uow.session, institution_id)
    if found is None:
        raise p.Problem(p.NOT_FOUND, "no such institution or expert")
    scope.ensure_visible(found.record.region_code, "institution or expert")
    return found


async def list_entries(
    uow: UnitOfWork, where: repo.InstitutionFilter, after: UUID | None, limit: int
) -> list[Institution]:
    async with uow:
        return await repo.search(uow.session, where, after, limit)
