"""Use cases of the subject directory: push (bulk or one), read, list, history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.problems import NOT_FOUND, Problem, problem_type
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters.subjects import (
    SubjectFilters,
    apply_changes,
    find_subjects,
    read_history,
    read_subject,
    stored_versions,
)
from shuangsui.registry.domain.subjects import (
    Change,
    ChangeKind,
    DuplicateGuard,
    PushMode,
    RowError,
    Subject,
    plan_changes,
    read_row,
)

CHUNK = 5000
MAX_LISTED_ERRORS = 1000

CONCURRENT_CHANGE = problem_type(
    "concurrent-change", 409, "Changed by another push meanwhile · 并发修改",
    "Another push changed the same subjects at the same moment; nothing of this batch was "
    "applied. Send it again.",
)  # fmt: skip

Row = tuple[int, dict[str, Any] | RowError]


@dataclass
class PushReport:
    """The answer to a push: counts, and one entry per refused or stale row."""

    mode: PushMode
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    applied: bool = True
    errors: list[RowError] = field(default_factory=list)
    stale_rows: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        room = MAX_LISTED_ERRORS - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])

    def count(self, changes: list[Change]) -> None:
        for change in changes:
            setattr(self, change.kind.value, getattr(self, change.kind.value) + 1)
            if change.kind is ChangeKind.stale and len(self.stale_rows) < MAX_LISTED_ERRORS:
                self.stale_rows.append(
                    {
                        "line": change.line,
                        "uscc": change.subject.uscc,
                        "reason": "older than stored",
                    }
                )

    @property
    def errors_truncated(self) -> bool:
        return self.rejected > 0 and len(self.errors) >= MAX_LISTED_ERRORS

    def nothing_applied(self) -> None:
        self.applied = False
        self.created = self.updated = self.unchanged = self.stale = 0
        self.stale_rows = []


async def push_subjects(
    uow: UnitOfWork, rows: AsyncIterator[Row], mode: PushMode, by: Principal
) -> PushReport:
    """Apply a pushed batch: validate every row, skip stale and unchanged ones, record events.

    Atomic mode applies all rows or none; per-row mode applies every valid row. Rows are
    handled in chunks, so a million-row push never sits in memory."""
    now = datetime.now(UTC)
    scope = RegionScope.of(by)
    report = PushReport(mode)
    duplicates = DuplicateGuard()
    try:
        async with uow:
            async for chunk in _chunks(rows):
                valid = _validate(chunk, now, scope, duplicates, report)
                if mode is PushMode.atomic and report.rejected:
                    continue  # keep validating to report every error; write nothing more
                await _apply(uow, valid, by, now, report)
            if mode is PushMode.atomic and report.rejected:
                report.nothing_applied()
                return report  # leaving the block without commit rolls everything back
            await uow.commit()
    except IntegrityError as exc:
        raise Problem(CONCURRENT_CHANGE, str(exc.orig)[:200]) from None
    return report


def _validate(
    chunk: list[Row],
    now: datetime,
    scope: RegionScope,
    duplicates: DuplicateGuard,
    report: PushReport,
) -> list[tuple[int, Subject]]:
    valid = []
    for line, raw in chunk:
        report.received += 1
        if isinstance(raw, RowError):
            report.reject([raw])
            continue
        result = read_row(raw, line, now, scope.prefix)
        if isinstance(result, list):
            report.reject(result)
            continue
        duplicate = duplicates.check(line, result)
        if duplicate is not None:
            report.reject([duplicate])
            continue
        valid.append((line, result))
    return valid


async def _apply(
    uow: UnitOfWork,
    valid: list[tuple[int, Subject]],
    by: Principal,
    now: datetime,
    report: PushReport,
) -> None:
    stored = await stored_versions(uow.session, [subject.uscc for _, subject in valid])
    changes = plan_changes(valid, stored)
    report.count(changes)
    applying = [change for change in changes if change.applies]
    ids = await apply_changes(uow.session, applying, by.sub, now)
    for change in applying:
        event = upserted_event(change, ids[change.subject.uscc])
        uow.record(Outgoing(event, subject=str(event.subject_id), actor=by.sub))
    await uow.flush_events()


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


async def _chunks(rows: AsyncIterator[Row]) -> AsyncIterator[list[Row]]:
    chunk: list[Row] = []
    async for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def rows_of(items: Iterator[Row]) -> AsyncIterator[Row]:
    for item in items:
        yield item


async def get_subject(uow: UnitOfWork, uscc: str, scope: RegionScope) -> dict[str, Any]:
    async with uow:
        found = await read_subject(uow.session, uscc)
    if found is None or not scope.allows(found["region_code"]):
        raise Problem(NOT_FOUND, f"no subject {uscc} in your region")
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
