"""Use cases of the subject directory: push (bulk or one), read, list, history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.problems import NOT_FOUND, Problem
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters.risk_classes import classes_of, count_population
from shuangsui.registry.adapters.subjects import (
    SubjectFilters,
    apply_changes,
    filter_clauses,
    find_subjects,
    read_history,
    read_subject,
    stored_versions,
)
from shuangsui.registry.domain.subjects import (
    Change,
    DuplicateGuard,
    PushMode,
    Subject,
    plan_changes,
    read_row,
)
from shuangsui.registry.service.push import PushReport, Row, read_chunk, run_push


async def push_subjects(
    uow: UnitOfWork, rows: AsyncIterator[Row], mode: PushMode, by: Principal
) -> PushReport:
    """Apply pushed subjects: validate every row, skip stale and unchanged ones, record events."""
    now = datetime.now(UTC)
    scope = RegionScope.of(by)
    duplicates = DuplicateGuard()
    return await run_push(
        uow,
        rows,
        mode,
        validate=lambda chunk, report: read_chunk(
            chunk, report, lambda raw, line: read_row(raw, line, now, scope.prefix), duplicates
        ),
        apply=lambda valid, report: _apply(uow, valid, by, now, report),
    )


async def _apply(
    uow: UnitOfWork,
    valid: list[tuple[int, Subject]],
    by: Principal,
    now: datetime,
    report: PushReport,
) -> None:
    stored = await stored_versions(uow.session, [subject.uscc for _, subject in valid])
    changes = plan_changes(valid, stored)
    for change in changes:
        report.count(change.kind, change.line, change.subject.uscc)
    applying = [change for change in changes if change.applies]
    ids = await apply_changes(uow.session, applying, by.sub, now)
    for change in applying:
        event = upserted_event(change, ids[change.subject.uscc])
        uow.record(Outgoing(event, subject=str(event.subject_id), actor=by.sub))


def upserted_event(change: Change, subject_id: Any) -> SubjectUpserted:
    s = change.subject
    return SubjectUpserted(
        subject_id=subject_id,
        uscc=s.uscc,
        name=s.name,
        subject_type=s.subject_type.value,
        status=s.status.value,
        region_code=s.region_code,
        unit_code=s.unit_code,
        industry_code=s.industry_code,
        registered_address=s.registered_address,
        business_address=s.business_address,
        registered_on=s.registered_on,
        tags={},
        applicable_item_ids=[],
        version=change.version,
        source=s.source,
        source_updated_at=s.source_updated_at,
    )


async def get_subject(uow: UnitOfWork, uscc: str, scope: RegionScope) -> dict[str, Any]:
    async with uow:
        found = await read_subject(uow.session, uscc)
        if found is None or not scope.allows(found["region_code"]):
            raise Problem(NOT_FOUND, f"no subject {uscc} in your region")
        found["risk_classes"] = await classes_of(uow.session, uscc)
    return found


async def list_subjects(
    uow: UnitOfWork, scope: RegionScope, filters: SubjectFilters, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    after = str(page.after["uscc"]) if page.after and "uscc" in page.after else None
    async with uow:
        rows = await find_subjects(uow.session, scope, filters, after, page.limit + 1)
    return page.page(rows, lambda row: {"uscc": row["uscc"]})


async def subject_history(uow: UnitOfWork, uscc: str, scope: RegionScope) -> list[dict[str, Any]]:
    await get_subject(uow, uscc, scope)  # 404 unless it exists within the caller's region
    async with uow:
        return await read_history(uow.session, uscc)


async def population_count(
    uow: UnitOfWork, scope: RegionScope, filters: SubjectFilters, domain: str
) -> dict[str, int]:
    """How many subjects a draw of this scope would start from, by risk class (R11, R12)."""
    async with uow:
        by_class = await count_population(uow.session, filter_clauses(scope, filters), domain)
    return {key: by_class.get(key, 0) for key in ("A", "B", "C", "D", "unclassified")}
