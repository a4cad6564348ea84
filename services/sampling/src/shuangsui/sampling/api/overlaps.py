"""HTTP: overlaps (名单比对, R20, R22) — the subjects drawn by several batches whose execution
windows overlap, listed as merge candidates for the departments that inspect them."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import RegionFilter
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.api.overlaps_models import OverlapOut
from shuangsui.sampling.service import overlaps as service

router = APIRouter(prefix="/api/v1/sampling", tags=["overlaps · 名单比对"])


@router.get(
    "/overlaps",
    operation_id="sampling_overlaps_list",
    response_model=Page[OverlapOut],
    summary="名单比对 · List the overlaps to merge",
    description="Subjects selected by the completed draws of two or more batches whose "
    "execution windows overlap (both days included: windows sharing one day overlap), one "
    "group per subject and period — a chain of overlapping windows is one group. Each group "
    "names the batches (batch code, the draw's public code, departments, window, items), the "
    "days on which at least two are in execution (`overlap`), the union of the items and the "
    "earliest due date: what a merge (R22, confirmed by the executing department's admin in "
    "inspection) needs. A voided draw's subjects drop out; recusals change teams, not "
    "subjects. Who sees what: a provincial admin or auditor the groups of its region's "
    "subjects; a department's or partner's admin those of its region and those of its own "
    "batches (led or joined); never another province's. Filters: `region_code` (the "
    "subject's), `batch_id` (groups with that batch), `window_from` / `window_to` (groups "
    "whose overlap shares a day with them). In USCC order, then by period.",
    responses=problem_responses(p.VALIDATION, p.FORBIDDEN, p.INVALID_CURSOR),
)
async def list_overlaps(
    region_code: RegionFilter = None,
    batch_id: UUID | None = Query(None, description="Only groups with this batch (批次)"),
    window_from: date | None = Query(
        None, description="Only overlaps ending on or after this day (重叠期间起)"
    ),
    window_to: date | None = Query(
        None, description="Only overlaps starting on or before this day (重叠期间止)"
    ),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*service.READERS)),
) -> Page[OverlapOut]:
    filters = service.OverlapFilters(region_code, batch_id, window_from, window_to)
    rows, cursor = await service.list_overlaps(uow, by, filters, page)
    return Page(items=[OverlapOut.of(g) for g in rows], next_cursor=cursor)
