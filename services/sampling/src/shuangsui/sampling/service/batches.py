"""The batches read model: planning's batch events applied as they arrive (consumer
`sampling-batches`), and the reads a draw starts from.

A draw is built from the stored publication alone, never by calling planning back (ADR 0003,
ADR 0017: the event carries everything a draw needs)."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from shuangsui.contracts.events import EventPayload
from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Envelope
from shuangsui.sampling.adapters import batches as repo
from shuangsui.sampling.adapters.batches import BatchQuery
from shuangsui.sampling.domain.batches import StoredBatch

P = TypeVar("P", bound=EventPayload)


def _payload(event: Envelope, model: type[P]) -> P:
    payload = event.payload(model)
    assert isinstance(payload, model)
    return payload


async def apply_batch_published(event: Envelope, uow: UnitOfWork) -> None:
    """Store the batch as published. A published batch never changes, so the first copy is the
    batch; a cancellation that came first keeps it cancelled."""
    published = _payload(event, BatchPublished)
    async with uow:
        await repo.save_published(uow.session, published)
        await uow.commit()


async def apply_batch_cancelled(event: Envelope, uow: UnitOfWork) -> None:
    """Mark the batch cancelled (R7), even before its publication arrives: the cancellation
    wins, so a late publication can never make it drawable."""
    cancelled = _payload(event, BatchCancelled)
    async with uow:
        await repo.save_cancelled(uow.session, cancelled)
        await uow.commit()


async def batch(uow: UnitOfWork, batch_id: UUID) -> StoredBatch | None:
    async with uow:
        return await repo.batch(uow.session, batch_id)


async def list_batches(uow: UnitOfWork, query: BatchQuery) -> list[StoredBatch]:
    async with uow:
        return await repo.search(uow.session, query)
