"""A batch's draw as sampling announces it (consumer `planning-draws`): committed → `drawing`,
completed for the whole batch → `drawn`, failed → `published` again, voided → `published` again
(DOMAIN §5.2). A joint batch is drawing from its subject draw's commitment until the draw that
completes it; its team draws move nothing on their own. Planning learns of draws only from these events, never by asking sampling.

Each event moves the batch only along the life of a batch (`batch_lifecycle`); one that does not
fit where the batch stands — delivered twice, or about a team draw of a batch already drawing —
changes nothing."""

from __future__ import annotations

from uuid import UUID

import structlog

from shuangsui.contracts.events.sampling_draws import (
    DrawCommitted,
    DrawCompleted,
    DrawFailed,
    DrawVoided,
)
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.consumer import Handler
from shuangsui.messaging.envelope import Envelope
from shuangsui.planning.adapters import batches as repo
from shuangsui.planning.domain.batch_lifecycle import BatchAction, BatchRuleError, next_status
from shuangsui.planning.domain.batch_records import moved

log = structlog.get_logger()


async def _move(uow: UnitOfWork, batch_id: UUID, action: BatchAction, event: Envelope) -> None:
    async with uow:
        batch = await repo.get(uow.session, batch_id, lock=True)
        if batch is None:
            log.warning("draw event for a batch planning does not hold", batch_id=str(batch_id))
            return
        try:
            status = next_status(batch.status, action)
        except BatchRuleError:
            log.info("draw event changes nothing", batch_id=str(batch_id),
                     status=batch.status.value, action=action.value)  # fmt: skip
            return
        await repo.save(uow.session, moved(batch, status), event.actor)
        await uow.commit()


async def apply_draw_committed(event: Envelope, uow: UnitOfWork) -> None:
    committed = event.payload(DrawCommitted)
    assert isinstance(committed, DrawCommitted)
    if committed.kind != "teams":  # a joint batch's team draws follow its subject draw
        await _move(uow, committed.batch_id, BatchAction.commit_draw, event)


async def apply_draw_completed(event: Envelope, uow: UnitOfWork) -> None:
    completed = event.payload(DrawCompleted)
    assert isinstance(completed, DrawCompleted)
    if completed.completes_batch:
        await _move(uow, completed.batch_id, BatchAction.complete_draw, event)


async def apply_draw_failed(event: Envelope, uow: UnitOfWork) -> None:
    failed = event.payload(DrawFailed)
    assert isinstance(failed, DrawFailed)
    if failed.kind != "teams":  # a failed team draw leaves the batch drawing: it is drawn again
        await _move(uow, failed.batch_id, BatchAction.fail_draw, event)


async def apply_draw_voided(event: Envelope, uow: UnitOfWork) -> None:
    voided = event.payload(DrawVoided)
    assert isinstance(voided, DrawVoided)
    if voided.kind != "teams":
        await _move(uow, voided.batch_id, BatchAction.void_draw, event)


HANDLERS: dict[str, Handler] = {
    DrawCommitted.event_type: apply_draw_committed,
    DrawCompleted.event_type: apply_draw_completed,
    DrawFailed.event_type: apply_draw_failed,
    DrawVoided.event_type: apply_draw_voided,
}
