"""HTTP: the batches sampling may draw (可抽取批次), read from its batches read model."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import RegionFilter
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.api.batches_models import SamplingBatchOut
from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.service import batches as service

router = APIRouter(prefix="/api/v1/sampling", tags=["batches · 抽查批次"])


@router.get(
    "/batches",
    operation_id="sampling_batches_list",
    response_model=Page[SamplingBatchOut],
    summary="可抽取批次 · List the batches to draw",
    description="Published batches as planning published them (`planning.batch.published.v1`), "
    "in window-end order. By default those a draw may still be committed for: `published` "
    "and not past their window end (`window_open_on`, default today in Asia/Shanghai; "
    "DOMAIN §5.2). `status=cancelled` lists those a plan adjustment cancelled (R7); `drawing` "
    "and `drawn` those sampling is drawing or drew, and `status` may be repeated. Provincial "
    "admins and auditors see their region's batches; a department's or partner's admin the "
    "batches its org leads or takes part in (R20). A region outside yours matches nothing.",
    responses=problem_responses(p.FORBIDDEN, p.INVALID_CURSOR),
)
async def list_batches(
    region_code: RegionFilter = None,
    org_id: UUID | None = Query(None, description="Led by or joined by this org (牵头或参与单位)"),
    department_type: str | None = Query(
        None, pattern=r"^[a-z][a-z_]{1,39}$", description="The lead's department (部门类型)"
    ),
    status: list[BatchStatus] = Query(
        [BatchStatus.published],
        description="Any of these statuses, repeated for several (状态): published, drawing, "
        "drawn, cancelled",
    ),
    window_open_on: date | None = Query(
        None, description="Only batches whose window has not ended on that day (执行期未结束)"
    ),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*service.READERS)),
) -> Page[SamplingBatchOut]:
    open_on = window_open_on
    if open_on is None and BatchStatus.published in status:
        open_on = shanghai_date(datetime.now(UTC))
    statuses = tuple(dict.fromkeys(status))
    filters = service.BatchFilters(region_code, org_id, department_type, statuses, open_on)
    rows, cursor = await service.list_batches(uow, by, filters, page)
    return Page(items=[SamplingBatchOut.of(b) for b in rows], next_cursor=cursor)
