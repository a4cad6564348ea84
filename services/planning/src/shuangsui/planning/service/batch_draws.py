"""A batch's draws as sampling announces them (consumer `planning-draws`). Sampling holds every
draw of a batch — one, one per county (B.10), a joint batch's subject draw and each department's
team draw (B.11) — and every draw event says where they leave the batch (`batch_status`):
`drawing`, `drawn`, or `published` again (DOMAIN §5.2). Planning follows it along the draw steps
of its batch's life (`batch_lifecycle.follow_draws`), learning of draws only from these events,
never by asking sampling. An event that finds the batch where it says (a copy), or moved on
(cancelled, in progress), changes nothing."""

from __future__ import annotations

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
from shuangsui.planning.domain.batch_lifecycle import BatchStatus, follow_draws, next_status
from shuangsui.planning.domain.batch_records import moved

log = structlog.get_logger()

DrawEvent = DrawCommitted | DrawCompleted | DrawFailed | DrawVoided


def _follower(model: type[DrawEvent]) -> Handler:
    async def follow(event: Envelope, uow: UnitOfWork) -> None:
        draw = event.payload(model)
        assert isinstance(draw, model)
        drawn_as = BatchStatus(draw.batch_status)
        async with uow:
            batch = await repo.get(uow.session, draw.batch_id, lock=True)
            if batch is None:
                log.warning("draw event for a batch planning does not hold",
                            batch_id=str(draw.batch_id))  # fmt: skip
                return
            action = follow_draws(batch.status, drawn_as)
            if action is None:
                log.info("draw event changes nothing", batch_id=str(draw.batch_id),
                         status=batch.status.value, drawn_as=drawn_as.value)  # fmt: skip
                return
            await repo.save(
                uow.session, moved(batch, next_status(batch.status, action)), event.actor
            )
            await uow.commit()

    return follow


HANDLERS: dict[str, Handler] = {
    model.event_type: _follower(model)
    for model in (DrawCommitted, DrawCompleted, DrawFailed, DrawVoided)
}
