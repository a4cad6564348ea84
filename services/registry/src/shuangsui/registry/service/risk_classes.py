"""Use case: the credit risk classification system pushes subjects' risk classes."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

from shuangsui.contracts.events.registry_subjects import RiskClassChanged
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters.population import append_deltas
from shuangsui.registry.adapters.risk_classes import apply_classes, stored_classes, subjects_by_uscc
from shuangsui.registry.domain.population import CountKey, count_changes, nonzero
from shuangsui.registry.domain.risk_classes import (
    Classification,
    plan_classifications,
    read_classification,
)
from shuangsui.registry.domain.rows import RowError
from shuangsui.registry.domain.subjects import DuplicateGuard, PushMode
from shuangsui.registry.service.push import PushReport, Row, read_chunk, run_push


async def push_risk_classes(
    uow: UnitOfWork, rows: AsyncIterator[Row], mode: PushMode, by: Principal
) -> PushReport:
    """Apply classifications of known subjects within the caller's region; history and events
    for each real change, stale ones reported (DOMAIN.md R2, seed §(十))."""
    now = datetime.now(UTC)
    duplicates = DuplicateGuard()

    async def apply(valid: list[tuple[int, Classification]], report: PushReport) -> None:
        known = await subjects_by_uscc(uow.session, [c.uscc for _, c in valid])
        scope = RegionScope.of(by)
        usable = []
        for line, item in valid:
            found = known.get(item.uscc)
            if found is None or not scope.allows(found[1].region_code):
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
            placement = known[item.uscc][1]
            before = {item.domain: change.previous.value} if change.previous else {}
            count_changes(
                replace(placement, classes=before),
                replace(placement, classes={item.domain: item.risk_class.value}),
                counts,
            )
        await append_deltas(uow.session, nonzero(counts))
        for change in applying:
            item = change.classification
            event = RiskClassChanged(
                subject_id=known[item.uscc][0],
                uscc=item.uscc,
                domain=item.domain,
                old_class=change.previous.value if change.previous else None,
                new_class=item.risk_class.value,
                source=item.source,
                as_of=item.as_of,
            )
            uow.record(Outgoing(event, subject=str(event.subject_id), actor=by.sub))

    return await run_push(
        uow,
        rows,
        mode,
        validate=lambda chunk, report: read_chunk(
            chunk, report, lambda raw, line: read_classification(raw, line, now), duplicates
        ),
        apply=apply,
    )
