"""Use cases of the subject directory: push (bulk or one), read, list, history."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.contracts.regions import scope_prefix
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.problems import NOT_FOUND, Problem
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing, PreparedPayload
from shuangsui.registry.adapters.classification import item_ids_of, item_key_of, state_and_key
from shuangsui.registry.adapters.population import append_deltas, count_rows
from shuangsui.registry.adapters.risk_classes import classes_by_uscc, classes_of, count_population
from shuangsui.registry.adapters.subjects import (
    StoredSubject,
    SubjectFilters,
    apply_changes,
    filter_clauses,
    find_subjects,
    read_history,
    read_subject,
    record_history,
    stored_versions,
)
from shuangsui.registry.adapters.tag_corrections import corrections_in_force
from shuangsui.registry.domain.classification import Classifier, Verdict
from shuangsui.registry.domain.population import (
    RISK_CLASSES,
    CountKey,
    Placement,
    by_risk_class,
    count_arrivals,
    count_changes,
    nonzero,
)
from shuangsui.registry.domain.subjects import (
    Change,
    DuplicateGuard,
    PushMode,
    Subject,
    SubjectStatus,
    plan_changes,
    read_row,
)
from shuangsui.registry.domain.tags import TagInput, tags_by_dimension
from shuangsui.registry.service.classification import current_classifier
from shuangsui.registry.service.push import Row, read_chunk, run_push
from shuangsui.registry.service.tag_corrections import correction_in_force


async def push_subjects(
    uow: UnitOfWork, rows: AsyncIterator[Row], mode: PushMode, by: Principal
) -> BulkReport:
    """Apply pushed subjects: validate every row, skip stale and unchanged ones, classify the
    rest (tags, items), keep the population counts, record events."""
    now = datetime.now(UTC)
    scope = RegionScope.of(by)
    duplicates = DuplicateGuard()
    # The classifier is taken at the first chunk and held for the whole push.
    described: list[VerdictsAsJson] = []

    async def apply(valid: list[tuple[int, Subject]], report: BulkReport) -> None:
        if not described:
            described.append(VerdictsAsJson(await current_classifier(uow)))
        await _apply(uow, valid, described[0], by, now, report)

    return await run_push(
        uow,
        rows,
        mode,
        validate=lambda chunk, report: read_chunk(
            chunk, report, lambda raw, line: read_row(raw, line, now, scope.prefix), duplicates
        ),
        apply=apply,
    )


async def _apply(
    uow: UnitOfWork,
    valid: list[tuple[int, Subject]],
    described: VerdictsAsJson,
    by: Principal,
    now: datetime,
    report: BulkReport,
) -> None:
    classifier = described.classifier
    stored = await stored_versions(uow.session, [subject.uscc for _, subject in valid])
    if stored:
        # Locked now: a correction approved since the push began is committed and seen here.
        fresh = await corrections_in_force(uow.session, list(stored))
        classifier = classifier.refreshed(stored, fresh)
    changes = plan_changes(valid, {uscc: s.stored for uscc, s in stored.items()})
    for change in changes:
        report.count(change.kind, change.line, change.subject.uscc)
    applying = [change for change in changes if change.applies]
    verdicts = [classifier.classify(TagInput.of(change.subject)) for change in applying]
    if applying:
        ids = await apply_changes(uow.session, applying, verdicts, classifier.version, by.sub, now)
        # PostgreSQL writes the history while this process writes the events: the query is
        # sent first (one turn of the loop), and nothing else uses the connection meanwhile.
        history = asyncio.ensure_future(record_history(uow.session, now, by.sub))
        await asyncio.sleep(0)
        try:
            for change, verdict in zip(applying, verdicts, strict=True):
                subject_id = ids[change.subject.uscc]
                event = upserted_payload(change, subject_id, verdict, described)
                uow.record(Outgoing(event, subject=str(subject_id), actor=by.sub))
        finally:
            await history
    await _count(uow, applying, verdicts, stored)


async def _count(
    uow: UnitOfWork,
    applying: list[Change],
    verdicts: list[Verdict],
    stored: dict[str, StoredSubject],
) -> None:
    """Keep the population counts: each subject's old placement out, its new one in."""
    arrivals: Counter[tuple[str, tuple[str, ...], tuple[int, ...]]] = Counter()
    moves = []
    for change, verdict in zip(applying, verdicts, strict=True):
        s = change.subject
        active = s.status is SubjectStatus.active
        held = stored.get(s.uscc)
        if held is None:
            # New: no risk classes yet, so subjects placed alike count as one group.
            if active and verdict.item_keys:
                arrivals[s.region_code, verdict.tags, verdict.item_keys] += 1
            continue
        after = Placement(active, s.region_code, verdict.tags, verdict.item_keys)
        if held.placement != after:
            moves.append((s.uscc, held.placement, after))
    counts: Counter[CountKey] = Counter()
    count_arrivals(arrivals, counts)
    if moves:
        classes = await classes_by_uscc(uow.session, [uscc for uscc, _, _ in moves])
        for uscc, before, after in moves:
            held_classes = classes.get(uscc, {})
            count_changes(
                replace(before, classes=held_classes), replace(after, classes=held_classes), counts
            )
    if not counts:
        return
    await append_deltas(uow.session, nonzero(counts))


class VerdictsAsJson:
    """Each distinct verdict's tags and item ids as JSON, written once per push: a million
    subjects share a few hundred verdicts."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self._written: dict[Verdict, tuple[orjson.Fragment, orjson.Fragment]] = {}

    def of(self, verdict: Verdict) -> tuple[orjson.Fragment, orjson.Fragment]:
        written = self._written.get(verdict)
        if written is None:
            tags = orjson.dumps(tags_by_dimension(verdict.tags))
            items = orjson.dumps(self.classifier.item_ids(verdict.item_keys), default=str)
            written = self._written[verdict] = (orjson.Fragment(tags), orjson.Fragment(items))
        return written


def upserted_payload(
    change: Change, subject_id: UUID, verdict: Verdict, verdicts: VerdictsAsJson
) -> PreparedPayload:
    """`registry.subject.upserted.v1` written straight to JSON: a bulk push records one per row,
    and every part was validated when the row was read (a test holds it to SubjectUpserted)."""
    s = change.subject
    tags, item_ids = verdicts.of(verdict)
    data = {
        "subject_id": subject_id,
        "uscc": s.uscc,
        "name": s.name,
        "subject_type": s.subject_type.value,
        "status": s.status.value,
        "region_code": s.region_code,
        "unit_code": s.unit_code,
        "industry_code": s.industry_code,
        "registered_address": s.registered_address,
        "business_address": s.business_address,
        "registered_on": s.registered_on,
        "tags": tags,
        "applicable_item_ids": item_ids,
        "classification": verdicts.classifier.version,
        "version": change.version,
        "source": s.source,
        "source_updated_at": s.source_updated_at,
    }
    return PreparedPayload(
        SubjectUpserted.event_type, orjson.dumps(data, option=_UTC_Z, default=str)
    )


# asyncpg hands back its own UUID type, which orjson writes through `default=str`.
_UTC_Z = orjson.OPT_UTC_Z


async def get_subject(uow: UnitOfWork, uscc: str, scope: RegionScope) -> dict[str, Any]:
    async with uow:
        found = await read_subject(uow.session, uscc)
        if found is None or not scope.allows(found["region_code"]):
            raise Problem(NOT_FOUND, f"no subject {uscc} in your region")
        found["risk_classes"] = await classes_of(uow.session, uscc)
        found["tag_correction"] = await correction_in_force(uow.session, uscc)
        await _name_items(uow, [found])
    return found


async def list_subjects(
    uow: UnitOfWork,
    scope: RegionScope,
    filters: SubjectFilters,
    page: PageRequest,
    item_id: UUID | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Subjects by USCC with the risk classes they hold; with an item, those within its scope,
    and with a risk class, one stratum of them (how sampling streams a population)."""
    after = str(page.after["uscc"]) if page.after and "uscc" in page.after else None
    async with uow:
        if item_id is not None:
            filters = replace(filters, item_key=await _item_key(uow, item_id))
        rows = await find_subjects(uow.session, scope, filters, after, page.limit + 1)
        await _name_items(uow, rows)
    return page.page(rows, lambda row: {"uscc": row["uscc"]})


async def _name_items(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Rows carry item numbers; readers get item ids, and tags grouped by dimension."""
    ids = await item_ids_of(uow.session, (key for row in rows for key in row["item_keys"]))
    for row in rows:
        row["applicable_item_ids"] = [ids[key] for key in row.pop("item_keys") if key in ids]
        row["tags"] = tags_by_dimension(row["tags"])


async def subject_history(uow: UnitOfWork, uscc: str, scope: RegionScope) -> list[dict[str, Any]]:
    await get_subject(uow, uscc, scope)  # 404 unless it exists within the caller's region
    async with uow:
        return await read_history(uow.session, uscc)


@dataclass(frozen=True)
class PopulationCount:
    by_risk_class: dict[str, int]
    method: str  # "index": from the kept counts; "scan": counted over the directory
    classification: int
    reclassifying: bool  # a pass is under way: tags and items may still move


async def population_count(
    uow: UnitOfWork,
    scope: RegionScope,
    filters: SubjectFilters,
    domain: str,
    item_id: UUID | None = None,
) -> PopulationCount:
    """How many subjects a draw of this scope would start from, by risk class (R11, R12, R15).

    With an item and only region and tag filters on subjects in business, the kept counts
    answer; any other filter counts over the directory."""
    async with uow:
        version, status, item_key = await state_and_key(uow.session, item_id)
        if item_id is not None:
            if item_key is None:
                raise _not_in_force(item_id)
            filters = replace(filters, item_key=item_key)
        if filters.item_key is not None and _index_answers(filters):
            rows = await count_rows(
                uow.session, scope, filters.item_key,
                scope_prefix(filters.region_code) if filters.region_code else None,
                filters.tags, domain,
            )  # fmt: skip
            by_class, method = by_risk_class(rows, domain), "index"
        else:
            found = await count_population(uow.session, filter_clauses(scope, filters), domain)
            by_class = {key: found.get(key, 0) for key in (*RISK_CLASSES, "unclassified")}
            method = "scan"
    return PopulationCount(
        by_class,
        method,
        classification=version,
        reclassifying=status in ("pending", "running"),
    )


async def _item_key(uow: UnitOfWork, item_id: UUID) -> int:
    key = await item_key_of(uow.session, item_id)
    if key is None:
        raise _not_in_force(item_id)
    return key


def _not_in_force(item_id: UUID) -> Problem:
    return Problem(
        NOT_FOUND,
        f"item {item_id} is not among the items in force here; the index follows a newly "
        "published list within a minute",
    )


def _index_answers(filters: SubjectFilters) -> bool:
    return (
        filters.status == SubjectStatus.active.value
        and not filters.subject_type
        and not filters.industry_code
        and not filters.unit_code
    )
