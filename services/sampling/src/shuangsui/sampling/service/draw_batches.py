"""The batch row as its draws leave it (DOMAIN §5.2): `drawing` once a draw of it is committed,
`drawn` with `drawn_at` when `batch_drawn` holds, `published` again when every draw that went
past its commit failed or was voided. Called in the transaction of every draw step that changes
a draw's status, under the batch's row lock that step already holds."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shuangsui.kernel.db import UnitOfWork
from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain.batches import BatchStatus, status_after_draws


async def follow_draws(uow: UnitOfWork, batch_id: UUID, at: datetime) -> BatchStatus:
    """Store the batch's status after its draws' latest change (the draw's row written first)
    and answer it: every draw event carries it (`batch_status`). A drawn batch keeps the
    `drawn_at` it was first drawn at."""
    batch = await batches_repo.batch(uow.session, batch_id)
    assert batch is not None
    assert batch.published is not None, "a draw's batch is published"
    published = batch.published
    departments = [org for org, _ in mapping.departments(published)]
    draws = await repo.summaries(uow.session, batch_id)
    status = status_after_draws(mapping.is_joint(published), departments, draws)
    drawn_at = None
    if status is BatchStatus.drawn:
        drawn_at = batch.drawn_at if batch.status is BatchStatus.drawn else at
    await batches_repo.save_draw_status(uow.session, batch_id, status, drawn_at)
    return status
