"""The batches read model: planning's batch events applied as they arrive (consumer
`sampling-batches`), and the reads a draw starts from.

A draw is built from the stored publication alone, never by calling planning back (ADR 0003,
ADR 0017: the event carries everything a draw needs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from uuid import UUID

from shuangsui.contracts.events import EventPayload
from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.contracts.regions import scope_prefix
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Envelope
from shuangsui.sampling.adapters import batches as repo
from shuangsui.sampling.adapters.batches import BatchQuery
from shuangsui.sampling.domain.batches import BatchStatus, StoredBatch
from shuangsui.sampling.service import draw_ends

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
        # Its draws not yet completed fail with it, in the same transaction (R7).
        await draw_ends.fail_cancelled_batch(uow, cancelled.batch_id, cancelled.cancelled_at)
        await uow.commit()


async def batch(uow: UnitOfWork, batch_id: UUID) -> StoredBatch | None:
    async with uow:
        return await repo.batch(uow.session, batch_id)


# Who lists batches to draw: the departments that draw or take part (R14, R20), their province,
# and the auditors who witness draws (DOMAIN §5.2). A partner sees only the batches it is in.
READERS = (Role.department_admin, Role.partner_admin, Role.provincial_admin, Role.auditor)
_WHOLE_REGION = (Role.provincial_admin, Role.auditor)


@dataclass(frozen=True)
class BatchFilters:
    """What the caller asked for; the caller's own jurisdiction is added by `list_batches`."""

    region_code: str | None = None
    org_id: UUID | None = None
    department_type: str | None = None
    statuses: tuple[BatchStatus, ...] = (BatchStatus.published,)  # any of them
    open_on: date | None = None


def visible_orgs(by: Principal) -> frozenset[UUID] | None:
    """The orgs whose batches (led or joined) a department's admin sees; None: every batch of
    the caller's region. A department token without an org sees nothing rather than all."""
    if by.is_national or by.has_any_role(*_WHOLE_REGION):
        return None
    if by.org_id is None:
        raise p.Problem(p.FORBIDDEN, "the token names no org (org_id): its batches are unknown")
    try:
        return frozenset({UUID(by.org_id)})
    except ValueError:
        raise p.Problem(p.FORBIDDEN, "the token's org_id is not an org id") from None


def _narrowest(scope: str, asked: str | None) -> str | None:
    """The region prefix to list: the asked region inside the caller's, or None when the asked
    region lies outside it (it then matches nothing, as in every list of the platform)."""
    if asked is None:
        return scope
    prefix = scope_prefix(asked)
    return prefix if prefix.startswith(scope) else None


async def list_batches(
    uow: UnitOfWork, by: Principal, filters: BatchFilters, page: PageRequest
) -> tuple[list[StoredBatch], str | None]:
    """The batches of the caller's jurisdiction in the asked statuses, in window-end order: by
    default those a draw may still be committed for (published, window not ended)."""
    orgs = visible_orgs(by)
    if filters.org_id is not None:
        orgs = (
            frozenset({filters.org_id}) if orgs is None or filters.org_id in orgs else frozenset()
        )
    region = _narrowest(RegionScope.of(by).prefix, filters.region_code)
    end, code = page.position("window_end", str), page.position("batch_code", str)
    after = None
    if end is not None and code is not None:
        try:
            after = (date.fromisoformat(end), code)
        except ValueError:
            raise p.Problem(p.INVALID_CURSOR, "the cursor is not one this list produced") from None
    if region is None or orgs == frozenset():
        return [], None
    query = BatchQuery(
        region_prefix=region, org_ids=orgs, department_type=filters.department_type,
        statuses=filters.statuses, open_on=filters.open_on, after=after, limit=page.limit + 1,
    )  # fmt: skip
    async with uow:
        rows = await repo.search(uow.session, query)
    return page.page(
        rows,
        lambda b: {"window_end": _window_end(b).isoformat(), "batch_code": b.batch_code},
    )


def _window_end(batch: StoredBatch) -> date:
    assert batch.published is not None  # the list holds published batches only
    return batch.published.window_end
