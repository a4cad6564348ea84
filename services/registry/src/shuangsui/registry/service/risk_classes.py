"""Use cases: the credit risk classification system pushes subjects' risk classes; offices read
a subject's classes with their history."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from shuangsui.contracts.batches import RowError
from shuangsui.contracts.events.registry_subjects import RiskClassChanged, RiskClassChangedV2
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.problems import NOT_FOUND, Problem
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing, PreparedPayload
from shuangsui.registry.adapters.population import append_deltas
from shuangsui.registry.adapters.risk_classes import (
    KnownSubject,
    apply_classes,
    classes_of,
    read_class_history,
    stored_classes,
    subjects_by_uscc,
)
from shuangsui.registry.adapters.subjects import read_subject
from shuangsui.registry.domain.population import CountKey, count_changes, nonzero
from shuangsui.registry.domain.risk_classes import (
    ClassChange,
    Classification,
    plan_classifications,
    read_classification,
)
from shuangsui.registry.domain.subjects import DuplicateGuard, PushMode
from shuangsui.registry.service.push import Row, read_chunk, run_push


async def push_risk_classes(
    uow: UnitOfWork, rows: AsyncIterator[Row], mode: PushMode, by: Principal
) -> BulkReport:
    """Apply classifications of known subjects within the caller's region; history and events
    for each real change, stale ones reported (DOMAIN.md R2, seed §(十))."""
    now = datetime.now(UTC)
    duplicates = DuplicateGuard()

    async def apply(valid: list[tuple[int, Classification]], report: BulkReport) -> None:
        known = await subjects_by_uscc(uow.session, [c.uscc for _, c in valid])
        scope = RegionScope.of(by)
        usable = []
        for line, item in valid:
            found = known.get(item.uscc)
            if found is None or not scope.allows(found.placement.region_code):
                report.reject([RowError(line, "uscc", "no such subject in your region", item.uscc)])
            else:
                usable.append((line, item))
        if report.rejected and mode is PushMode.atomic:
            return
        changes = plan_classifications(
            usable, await stored_classes(uow.session, [c.uscc for _, c in usable])
        )
        for change in changes:
            report.count(change.kind, change.line, change.classification.uscc)
        applying = [c for c in changes if c.applies]
        await apply_classes(uow.session, applying, by.sub, now)
        counts: Counter[CountKey] = Counter()
        for change in applying:
            item = change.classification
            placement = known[item.uscc].placement
            before = {item.domain: change.previous.value} if change.previous else {}
            count_changes(
                replace(placement, classes=before),
                replace(placement, classes={item.domain: item.risk_class.value}),
                counts,
            )
        await append_deltas(uow.session, nonzero(counts))
        for change in applying:
            subject = known[change.classification.uscc]
            for event in risk_class_events(change, subject):
                uow.record(Outgoing(event, subject=str(subject.subject_id), actor=by.sub))

    return await run_push(
        uow,
        rows,
        mode,
        validate=lambda chunk, report: read_chunk(
            chunk, report, lambda raw, line: read_classification(raw, line, now), duplicates
        ),
        apply=apply,
    )


def risk_class_events(
    change: ClassChange, subject: KnownSubject
) -> tuple[PreparedPayload, PreparedPayload]:
    """v1 for the consumers that read it and v2 with the subject's region and station beside it
    (docs/events.md), written straight to JSON: a bulk push records two per change, and every
    part was validated when the row was read or comes from the directory (tests hold them to
    RiskClassChanged and RiskClassChangedV2)."""
    item = change.classification
    v1 = {
        "subject_id": subject.subject_id,
        "uscc": item.uscc,
        "domain": item.domain,
        "old_class": change.previous.value if change.previous else None,
        "new_class": item.risk_class.value,
        "source": item.source,
        "as_of": item.as_of,
    }
    v2 = {**v1, "region_code": subject.placement.region_code, "unit_code": subject.unit_code}
    return (
        PreparedPayload(RiskClassChanged.event_type, _json(v1)),
        PreparedPayload(RiskClassChangedV2.event_type, _json(v2)),
    )


def _json(data: dict[str, Any]) -> bytes:
    # asyncpg hands back its own UUID type, which orjson writes through `default=str`.
    return orjson.dumps(data, option=orjson.OPT_UTC_Z, default=str)


@dataclass(frozen=True)
class ClassesWithHistory:
    in_force: dict[str, dict[str, Any]]  # by domain: risk_class, source, as_of
    changes: list[dict[str, Any]]  # this page of the history, newest first
    next_cursor: str | None


async def risk_classes_with_history(
    uow: UnitOfWork, uscc: str, scope: RegionScope, domain: str | None, page: PageRequest
) -> ClassesWithHistory:
    """A subject's classes in force and how they came to be (issue 4: source and time of every
    class, history kept); another region's subject is as missing as an unknown one."""
    before = page.after.get("id") if page.after else None
    async with uow:
        subject = await read_subject(uow.session, uscc)
        if subject is None or not scope.allows(subject["region_code"]):
            raise Problem(NOT_FOUND, f"no subject {uscc} in your region")
        in_force = await classes_of(uow.session, uscc)
        rows = await read_class_history(
            uow.session, uscc, domain, before if isinstance(before, int) else None, page.limit + 1
        )
    changes, cursor = page.page(rows, lambda row: {"id": row["id"]})
    if domain is not None:
        in_force = {d: held for d, held in in_force.items() if d == domain}
    return ClassesWithHistory(in_force, changes, cursor)
