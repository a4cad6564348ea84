"""The subjects read model (consumer `sampling-subjects`): the registry's subject events applied
as they arrive, a fresh database loaded once from the registry's export, and how far behind the
registry the model is (a draw is prepared only from a model within `READ_MODEL_MAX_LAG_SECONDS`).

The export and the events meet at the export's snapshot (ADR 0012): the export is loaded in one
transaction with its header, and the consumer is then created at the snapshot's time, skipping
the events the snapshot covers and applying every other one — no gap, no double.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog

from shuangsui.contracts.events import EventPayload
from shuangsui.contracts.events.registry_subjects import (
    RiskClassChangedV2,
    SubjectUpserted,
    TagsChanged,
)
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.consumer import BatchHandler, Handler
from shuangsui.messaging.envelope import Envelope
from shuangsui.messaging.snapshots import NotASnapshot, SnapshotPoint
from shuangsui.sampling.adapters import subjects as repo
from shuangsui.sampling.domain import subjects as rules
from shuangsui.sampling.domain.subjects import (
    SUBJECTS,
    Consumption,
    ExportBroken,
    ExportReading,
    Lag,
)

log = structlog.get_logger("sampling.subjects")

P = TypeVar("P", bound=EventPayload)
# Called with the subjects loaded so far, after each batch (awaited if it returns an awaitable).
Progress = Callable[[int], Any]
PROGRESS_LOG_SECONDS = 5.0


def _payload(event: Envelope, model: type[P]) -> P:
    payload = event.payload(model)
    assert isinstance(payload, model)
    return payload


def _upserted_rows(
    subject: SubjectUpserted, scoped_at: datetime | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    data = subject.model_dump()
    scope = rules.scope_row(
        subject.uscc, subject.tags, subject.applicable_item_ids, subject.classification, scoped_at
    )
    return rules.subject_row(data), scope


async def apply_upserted_subjects(events: list[Envelope], uow: UnitOfWork) -> None:
    """The content by version, the tags and items by classification: each only when newer.
    Several events at once (`BATCH_HANDLERS`) as one after another: the rows go in their order."""
    rows = [_upserted_rows(_payload(e, SubjectUpserted), e.time) for e in events]
    async with uow:
        await repo.save_subjects(uow.session, [subject_row for subject_row, _ in rows])
        await repo.save_scopes(uow.session, [scope for _, scope in rows])
        await uow.commit()


async def apply_changed_risk_classes(events: list[Envelope], uow: UnitOfWork) -> None:
    """v2 only (it holds all of v1; both would apply each change twice). Kept even before the
    subject's own event arrives: the class belongs to the USCC."""
    rows = []
    for event in events:
        change = _payload(event, RiskClassChangedV2)
        rows.append({"uscc": change.uscc, "domain": change.domain, "risk_class": change.new_class,
                     "as_of": change.as_of, "changed_at": event.time})  # fmt: skip
    async with uow:
        await repo.save_classes(uow.session, rows)
        await uow.commit()


async def apply_changed_tags(events: list[Envelope], uow: UnitOfWork) -> None:
    """A re-classification's batch: each listed subject's tags and items, unless a later
    classification (or a later event of the same one) is held."""
    rows = []
    for event in events:
        changed = _payload(event, TagsChanged)
        rows += [
            rules.scope_row(c.uscc, c.tags, c.applicable_item_ids, changed.classification,
                            event.time)
            for c in changed.changes
        ]  # fmt: skip
    async with uow:
        await repo.save_scopes(uow.session, rows)
        await uow.commit()


async def apply_subject_upserted(event: Envelope, uow: UnitOfWork) -> None:
    await apply_upserted_subjects([event], uow)


async def apply_risk_class_changed(event: Envelope, uow: UnitOfWork) -> None:
    await apply_changed_risk_classes([event], uow)


async def apply_tags_changed(event: Envelope, uow: UnitOfWork) -> None:
    await apply_changed_tags([event], uow)


HANDLERS: dict[str, Handler] = {
    SubjectUpserted.event_type: apply_subject_upserted,
    RiskClassChangedV2.event_type: apply_risk_class_changed,
    TagsChanged.event_type: apply_tags_changed,
}
# A fetched batch in one transaction (`Subscription.batched`), a run of events of one type
# in one call: the same rows in the same order as the handlers above, one statement per table.
BATCH_HANDLERS: dict[str, BatchHandler] = {
    SubjectUpserted.event_type: apply_upserted_subjects,
    RiskClassChangedV2.event_type: apply_changed_risk_classes,
    TagsChanged.event_type: apply_changed_tags,
}


# ---- bootstrap ----------------------------------------------------------------------------------


class AlreadyLoaded(Exception):
    """The read model holds subjects already: loading an export over it would mix two points."""


async def load_export(
    uow: UnitOfWork,
    lines: AsyncIterator[dict[str, Any]],
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> SnapshotPoint:
    """Load a fresh read model from the registry's export, in one transaction with its header:
    either the whole export is held, with the point the events continue from, or nothing is.

    The lines stream: `batch_size` subjects are held at a time, each read by the payload model
    and into rows by the code events are applied with, then copied into the empty tables. An
    export without its trailer is refused (`ExportBroken`), and so is one over a model that
    holds anything (`AlreadyLoaded`)."""
    reading = ExportReading()
    batch: list[dict[str, Any]] = []
    pace = _Pace(progress)
    async with uow:
        await repo.lock_loading(uow.session)
        if await repo.holds_any_subject(uow.session) or await repo.snapshot_of(
            uow.session, SUBJECTS
        ):
            raise AlreadyLoaded("the subjects read model is not empty")
        point: SnapshotPoint | None = None
        async for line in lines:
            subject = reading.read(line)
            if subject is not None:
                batch.append(subject)
            elif point is None and reading.header is not None:
                point = _point_of(reading.header)  # before a line is loaded
            if len(batch) >= batch_size:
                await _write_batch(uow, batch)
                batch = []
                await pace.report(reading.subjects)
        await _write_batch(uow, batch)
        header = reading.finish()
        await repo.save_loaded(uow.session, SUBJECTS, header, reading.subjects, datetime.now(UTC))
        await uow.commit()
    await pace.report(reading.subjects, final=True)
    log.info("subjects loaded from the export", subjects=reading.subjects,
             snapshot=header["snapshot"], taken_at=header["taken_at"])  # fmt: skip
    return _point_of(header)


def _point_of(header: dict[str, Any]) -> SnapshotPoint:
    try:
        return SnapshotPoint.from_header(header)
    except (NotASnapshot, KeyError) as exc:
        raise ExportBroken(f"the export's header names no snapshot point: {exc}") from None


async def _write_batch(uow: UnitOfWork, lines: list[dict[str, Any]]) -> None:
    subject_rows, scopes, classes = [], [], []
    for line in lines:
        subject = SubjectUpserted.model_validate(line["data"])
        content, scope = _upserted_rows(subject, None)
        subject_rows.append(content)
        scopes.append(scope)
        classes.extend(rules.risk_rows(subject.uscc, line.get("risk_classes") or {}))
    await repo.copy_into_empty(uow.session, subject_rows, scopes, classes)


@dataclass
class _Pace:
    """Reports each batch to `progress`, and to the log every `PROGRESS_LOG_SECONDS`."""

    progress: Progress | None
    started: float = field(default_factory=time.monotonic)
    logged: float = field(default_factory=time.monotonic)

    async def report(self, loaded: int, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self.logged >= PROGRESS_LOG_SECONDS:
            rate = round(loaded / max(now - self.started, 1e-6))
            log.info("loading subjects", loaded=loaded, per_second=rate)
            self.logged = now
        if self.progress is not None:
            reported = self.progress(loaded)
            if inspect.isawaitable(reported):
                await reported


async def load_from_registry(
    uow: UnitOfWork,
    registry: repo.RegistryExports,
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> SnapshotPoint:
    """The whole province's directory (unfiltered: draws may be directed by any field), with
    the officers left to the inspectors read model."""
    async with registry.lines() as lines:
        return await load_export(uow, lines, batch_size=batch_size, progress=progress)


async def snapshot_point(uow: UnitOfWork) -> SnapshotPoint | None:
    """Where the `sampling-subjects` consumer continues from; None before the model is loaded."""
    async with uow:
        header = await repo.snapshot_of(uow.session, SUBJECTS)
    return SnapshotPoint.from_header(header) if header is not None else None


# ---- lag ----------------------------------------------------------------------------------------


async def record_consumption(uow: UnitOfWork, seen: Consumption) -> None:
    """What the worker saw of the consumer: the model is current to some instant."""
    async with uow:
        held = await repo.state(uow.session, SUBJECTS)
        previous = held.current_to if held is not None else None
        loaded_to = held.snapshot_taken_at if held is not None else None
        await repo.save_checked(
            uow.session, SUBJECTS, rules.current_to(seen, previous, loaded_to), seen.unapplied,
            seen.checked_at,
        )  # fmt: skip
        await uow.commit()


async def subjects_lag(uow: UnitOfWork, max_seconds: float, now: datetime | None = None) -> Lag:
    """How far behind the registry the subjects read model is: every registry event published
    more than `seconds` ago is applied. `within_bound` says whether a draw may use it."""
    async with uow:
        held = await repo.state(uow.session, SUBJECTS)
    return rules.lag_of(held, SUBJECTS, now or datetime.now(UTC), max_seconds)
