"""Overlaps (名单比对, R20, R22): the subjects of completed draws kept beside their batches as the
draws complete, and the list of subjects drawn by several batches whose windows overlap — the
merge candidates a department confirms or not (the merge is inspection's, R22)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.contracts.regions import scope_prefix
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.scope import RegionScope
from shuangsui.sampling.adapters import overlaps as repo
from shuangsui.sampling.adapters.overlaps import CandidateQuery
from shuangsui.sampling.domain.draws import Draw, DrawKind
from shuangsui.sampling.domain.overlaps import (
    Department,
    DrawnSubject,
    Item,
    Overlap,
    OverlapFilter,
    Window,
    overlaps,
)
from shuangsui.sampling.service.batches import READERS, visible_orgs

__all__ = ["READERS", "OverlapFilters", "list_overlaps", "record_completed"]

# Subjects read per round trip while a page is filled.
_CHUNK = 200


def _selected(draw: Draw) -> list[str]:
    assert draw.result is not None
    strata = draw.result["strata"]
    assert isinstance(strata, list)
    picked: list[str] = []
    for stratum in strata:
        assert isinstance(stratum, dict)
        selected = stratum["selected"]
        assert isinstance(selected, list)
        picked += [str(s) for s in selected]
    return list(dict.fromkeys(picked))


def _departments(batch: BatchPublished) -> tuple[Department, ...]:
    lead = Department(batch.org_id, batch.org_code, batch.department_type)
    partners = (Department(p.org_id, p.org_code, p.department_type) for p in batch.participants)
    return (lead, *partners)


async def record_completed(
    uow: UnitOfWork, batch: BatchPublished, draw: Draw, org_region_code: str, at: datetime
) -> None:
    """In the completing transaction: the subjects a subject draw selected, with its batch's
    window, departments and items (a team draw selects no subject, B.11). Written once."""
    if draw.kind is DrawKind.teams:
        return
    picked = _selected(draw)
    known = await repo.subjects_known(uow.session, picked)
    departments = _departments(batch)
    window = Window(batch.window_start, batch.window_end)
    items = tuple(Item(i.item_id, i.code, i.name) for i in batch.items)
    drawn = [
        DrawnSubject(
            uscc=uscc, name=known.get(uscc, (None, ""))[0],
            region_code=known.get(uscc, ("", org_region_code))[1], batch_id=batch.batch_id,
            batch_code=batch.batch_code, draw_code=draw.draw_code, departments=departments,
            window=window, items=items,
        )
        for uscc in picked
    ]  # fmt: skip
    await repo.record(uow.session, draw.draw_id, org_region_code, drawn, at)


@dataclass(frozen=True)
class OverlapFilters:
    """What the caller asked for; the caller's jurisdiction is added by `list_overlaps`."""

    region_code: str | None = None
    batch_id: UUID | None = None
    window_from: date | None = None
    window_to: date | None = None


def _scope(by: Principal) -> tuple[str | None, frozenset[UUID]]:
    """Who sees a group: a provincial admin or auditor the subjects of its region; a
    department's (or partner's) admin those of its region and the groups of its own batches."""
    region = RegionScope.of(by).prefix
    orgs = visible_orgs(by)
    return region, orgs or frozenset()


def _after(page: PageRequest) -> tuple[str, str] | None:
    uscc, start = page.position("uscc", str), page.position("window_start", str)
    if page.after is None:
        return None
    assert uscc is not None
    assert start is not None
    try:
        date.fromisoformat(start)
    except ValueError:
        raise p.Problem(p.INVALID_CURSOR, "the cursor is not one this list produced") from None
    return uscc, start


def _position(group: Overlap) -> dict[str, str]:
    return {"uscc": group.uscc, "window_start": group.window.start.isoformat()}


async def list_overlaps(
    uow: UnitOfWork, by: Principal, filters: OverlapFilters, page: PageRequest
) -> tuple[list[Overlap], str | None]:
    """The overlap groups the caller may see, by USCC then period: completed draws only (a
    voided draw's subjects drop out), never beyond the caller's province."""
    if filters.window_from and filters.window_to and filters.window_from > filters.window_to:
        raise p.Problem(
            p.VALIDATION, "window_from is after window_to",
            errors=[p.FieldError("window_to", "on or after window_from")],
        )  # fmt: skip
    region, orgs = _scope(by)
    shows = OverlapFilter(
        org_ids=orgs, region_prefix=region,
        region_code_prefix=scope_prefix(filters.region_code) if filters.region_code else "",
        batch_id=filters.batch_id, window_from=filters.window_from, window_to=filters.window_to,
    )  # fmt: skip
    after = _after(page)
    query = CandidateQuery(
        province="" if by.is_national else by.province, region_prefix=region, org_ids=orgs,
        region_code_prefix=shows.region_code_prefix, batch_id=filters.batch_id,
        start=after[0] if after else None, limit=_CHUNK,
    )  # fmt: skip
    found: list[Overlap] = []
    async with uow:
        while len(found) <= page.limit:
            usccs = await repo.candidates(uow.session, query)
            drawn = await repo.drawn_of(uow.session, usccs, query.province)
            found += [
                g for g in overlaps(drawn)
                if shows.shows(g) and (after is None or (g.uscc, _position(g)["window_start"]) > after)
            ]  # fmt: skip
            if len(usccs) < query.limit:
                break
            query = replace(query, start=usccs[-1], after=True)
    return page.page(found, _position)
