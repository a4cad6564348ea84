"""The inspector read model: the registry's inspector events applied as they arrive (consumer
`sampling-inspectors`), and the pools a batch's team phases draw from.

Pools are built from what is stored here, never from a call made while drawing (ADR 0003): the
handlers only write this service's own tables."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.events import EventPayload
from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.contracts.events.registry_orgs import OrgUpserted
from shuangsui.contracts.regions import scope_prefix
from shuangsui.drawspec.model import Conflict
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Envelope
from shuangsui.sampling.adapters import inspectors as repo
from shuangsui.sampling.domain import inspectors as rules
from shuangsui.sampling.domain.inspectors import InspectorPool, PoolInspector, TeamPhase

P = TypeVar("P", bound=EventPayload)

# The event's fields sampling keeps; `name` stays in the registry (inspectors are opaque ids).
INSPECTOR_FIELDS = (
    "inspector_id", "org_code", "region_code", "station_code", "department_type",
    "qualifications", "specialties", "cert_valid_until", "status", "version", "changed_at",
)  # fmt: skip
ORG_FIELDS = (
    "org_id", "code", "region_code", "level", "department_type", "status", "version", "changed_at",
)  # fmt: skip
CONFLICT_FIELDS = (
    "conflict_id", "inspector_id", "subject_uscc", "since", "source", "withdrawn",
    "inspector_version", "changed_at",
)  # fmt: skip


def _payload(event: Envelope, model: type[P]) -> P:
    payload = event.payload(model)
    assert isinstance(payload, model)
    return payload


async def apply_inspector_upserted(event: Envelope, uow: UnitOfWork) -> None:
    """Replace the officer only with a higher version: an older event arriving late (or a copy)
    changes nothing."""
    data = _payload(event, InspectorUpserted).model_dump()
    async with uow:
        await repo.save_inspector(uow.session, {name: data[name] for name in INSPECTOR_FIELDS})
        await uow.commit()


async def apply_org_upserted(event: Envelope, uow: UnitOfWork) -> None:
    """Replace the org only with a higher version (consumer `sampling-orgs`)."""
    data = _payload(event, OrgUpserted).model_dump()
    async with uow:
        await repo.save_org(uow.session, {name: data[name] for name in ORG_FIELDS})
        await uow.commit()


async def apply_conflict_declared(event: Envelope, uow: UnitOfWork) -> None:
    """Keep the declaration as its latest event left it. The registry bumps the officer's version
    with each declaration and withdrawal, so a withdrawal always outranks the declaration it
    withdraws, whichever arrives first."""
    data = _payload(event, InspectorConflictDeclared).model_dump()
    async with uow:
        await repo.save_conflict(uow.session, {name: data[name] for name in CONFLICT_FIELDS})
        await uow.commit()


async def save_exported_officer(session: AsyncSession, line: Mapping[str, Any]) -> None:
    """Load one officer line of the registry's export (docs/registry-export.md) in the
    bootstrap's own transaction, with the rules the events are applied by: `data` is an
    `registry.inspector.upserted.v1` payload, `conflicts` its declarations as
    `registry.inspector.conflict_declared.v1` carries each (withdrawn ones included), or null
    where the exporting token may not see them."""
    data = InspectorUpserted.model_validate(line["data"]).model_dump()
    await repo.save_inspector(session, {name: data[name] for name in INSPECTOR_FIELDS})
    for conflict in line.get("conflicts") or ():
        declared = InspectorConflictDeclared.model_validate(conflict).model_dump()
        await repo.save_conflict(session, {name: declared[name] for name in CONFLICT_FIELDS})


async def inspector(uow: UnitOfWork, inspector_id: UUID) -> PoolInspector | None:
    async with uow:
        return await repo.inspector(uow.session, inspector_id)


async def pools_of(uow: UnitOfWork, phase: TeamPhase) -> list[InspectorPool]:
    """The pools of one team phase (R16–R18): one, or one per county for a `bureau_wide` batch
    of a bureau above the counties (B.10)."""
    async with uow:
        if rules.draws_per_county(phase):
            prefix = scope_prefix(phase.org_region_code)
            found = await repo.candidates(uow.session, phase.department_type, region_prefix=prefix)
        elif phase.org_level == "station":
            # A station's officers name their bureau as their org and the station beside it.
            found = await repo.candidates(uow.session, phase.department_type,
                                          station_code=phase.org_code)  # fmt: skip
        else:
            found = await repo.candidates(uow.session, phase.department_type,
                                          org_code=phase.org_code)  # fmt: skip
    return rules.county_pools(phase, found)


async def conflicts_of(
    uow: UnitOfWork, pool: InspectorPool, subject_ids: Collection[str] | None = None
) -> tuple[Conflict, ...]:
    """The pool's live conflicts with the draw's subjects, as the draw commits them (§3.4)."""
    async with uow:
        declared = await repo.conflicts_of(uow.session, pool.inspector_ids)
    return rules.live_conflicts(pool, declared, subject_ids)
