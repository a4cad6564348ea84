"""The public reads of a draw (R14): the draw, its commitment, bundle and result, and the list of
a province's draws. A draw found past its reveal deadline is failed before it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shuangsui.contracts.regions import scope_prefix
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters.draws import DrawQuery, StoredDraw
from shuangsui.sampling.domain.draws import (
    DrawStatus,
)
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_ends as ends


async def get_draw(uow: UnitOfWork, draw_id: UUID, by: Principal | None) -> StoredDraw:
    """The draw; one found past its reveal deadline is failed first (`missing_reveal`), so no
    read ever shows an overdue draw as still waiting."""
    async with uow:
        stored = await access.seen_by(uow, draw_id, by)  # answers never show the manifest
    if ends.overdue(stored, access.now()):
        return await _current(uow, stored)
    return stored


async def _current(uow: UnitOfWork, stored: StoredDraw) -> StoredDraw:
    """The overdue draw failed: by us, or by whoever got its lock first (then read it again)."""
    failed = await ends.fail_if_overdue(uow, stored.draw.draw_id)
    if failed is not None:
        return failed
    async with uow:
        again = await repo.draw(uow.session, stored.draw.draw_id)
    return again or stored


async def get_commitment(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """Exactly the committed document; none exists before the commit."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.commitment is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} is not committed yet")
    return stored.draw.commitment


@dataclass(frozen=True)
class DrawFilters:
    batch_id: UUID | None = None
    status: DrawStatus | None = None
    region_code: str | None = None


async def list_draws(
    uow: UnitOfWork, by: Principal | None, filters: DrawFilters, page: PageRequest
) -> tuple[list[StoredDraw], str | None]:
    """Every committed draw (public evidence: the same for everyone, logged in or not), and the
    caller's own department's prepared ones, in code order: a batch's draws together, in the
    order they were made."""
    region = scope_prefix(filters.region_code) if filters.region_code is not None else ""
    own = access.own_org(by) if by is not None and by.has_any_role(*access.WRITERS) else None
    query = DrawQuery(
        led_by=(own,) if own is not None else (), batch_id=filters.batch_id,
        statuses=(filters.status,) if filters.status is not None else None,
        region_prefix=region, after_code=page.position("draw_code", str), limit=page.limit + 1,
    )  # fmt: skip
    async with uow:
        rows = await repo.search(uow.session, query)
    at = access.now()
    rows = [await _current(uow, d) if ends.overdue(d, at) else d for d in rows]
    return page.page(rows, lambda d: {"draw_code": d.draw.draw_code})


async def get_bundle(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """The bundle (§10.1) of a computed draw: everything anyone needs to recompute it."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.bundle is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} has no computed bundle")
    return stored.draw.bundle


async def get_result(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """The result (§10.2) the verifier computed from the bundle."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.result is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} has no result")
    return stored.draw.result
