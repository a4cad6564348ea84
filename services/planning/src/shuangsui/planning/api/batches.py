"""HTTP: batches (抽查批次) of annual plans, their preview, publication and cancellation, and
the partners' answers to joint invitations (联合检查)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, optional_principal, require
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.service_client import ServiceClient, client_of
from shuangsui.messaging.platform import unit_of_work
from shuangsui.planning.api.batches_models import BatchIn, BatchOut, CancelIn, InvitationAnswerIn
from shuangsui.planning.api.batches_preview import BatchPreviewOut
from shuangsui.planning.api.plans_models import PublishIn
from shuangsui.planning.domain.batch_lifecycle import BatchStatus
from shuangsui.planning.domain.batch_overlap import Overlap
from shuangsui.planning.domain.batch_records import Batch
from shuangsui.planning.domain.plans import FIRST_YEAR, LAST_YEAR
from shuangsui.planning.service import batches as service
from shuangsui.planning.service import plans as plan_service
from shuangsui.planning.service.batches_preview import BATCH_PREVIEW_TOO_BROAD
from shuangsui.planning.service.policies import POLICY_BREACHED

router = APIRouter(prefix="/api/v1/planning", tags=["batches · 抽查批次"])

owners = require(Role.department_admin)
previewers = require(
    Role.department_admin, Role.provincial_admin, Role.national_admin, Role.partner_admin
)
BATCH_ID = Path(description="The batch (批次标识)")
PLAN_ID = Path(description="The annual plan (年度计划标识)")
ORG_ID = Path(description="The invited partner org, the caller's own (受邀单位标识)")
VERSION = Path(ge=1, le=9999, description="Plan version · 计划版本号")
WRITE_PROBLEMS = problem_responses(
    service.BATCH_REFUSED, service.BATCH_TRANSITION, POLICY_BREACHED, p.FORBIDDEN, 404,
    p.PRECONDITION_FAILED, p.PRECONDITION_REQUIRED,
)  # fmt: skip

PREVIEW_PROBLEMS = problem_responses(
    service.BATCH_REFUSED, BATCH_PREVIEW_TOO_BROAD, POLICY_BREACHED, p.FORBIDDEN, 404,
    p.SERVICE_CALL_FAILED, p.SERVICE_UNAVAILABLE,
)  # fmt: skip


def _answer(
    batch: Batch,
    overlaps: list[Overlap] | None = None,
    status: int = 200,
    *,
    answerers: bool = True,
) -> JSONResponse:
    """`answerers` is true for the writes: only the lead and the partners write."""
    return JSONResponse(
        BatchOut.of(batch, overlaps, answerers=answerers).model_dump(mode="json"),
        status_code=status,
        headers={"ETag": etag_of(batch.revision)},
    )


@router.post(
    "/plans/{plan_id}/versions/{version}/batches",
    operation_id="planning_batches_create",
    status_code=201,
    response_model=BatchOut,
    summary="新增抽查批次 · Add a batch to a draft plan version",
    description="A batch of the caller's own draft plan version, checked at once against every "
    "rule (R8–R18, R20, DRAW_SPEC Appendix B) using planning's catalogue of items in force and "
    "orgs, and against the risk-ratio policies (R11). A broken rule is 422 `batch-refused` "
    "with every breach, each with its stable code and field; a policy broken is 422 "
    "`risk-ratio-policy-breached` naming the rule and the class; nothing is stored. A "
    "cross-department batch invites its partners (`invitations`). `overlaps` warns of your "
    "batches that could visit the same subjects in an overlapping window (R10).",
    responses=WRITE_PROBLEMS,
)
async def create_batch(
    plan_id: Annotated[UUID, PLAN_ID],
    body: BatchIn,
    version: int = VERSION,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    written = await service.create_batch(uow, plan_id, version, body.draft(), by)
    return _answer(written.batch, written.overlaps, 201)


@router.get(
    "/batches",
    operation_id="planning_batches_list",
    response_model=Page[BatchOut],
    summary="抽查批次列表 · List batches",
    description="Batches in window order. Published batches (and their later states) are "
    "public; drafts are seen by their department, its superiors and the partners invited to "
    "them. A partner department sees the batches it was invited to with `invited_org_id`.",
)
async def list_batches(
    plan_id: UUID | None = Query(None, description="Only this annual plan's batches · 年度计划"),
    year: int | None = Query(None, ge=FIRST_YEAR, le=LAST_YEAR, description="Plan year · 计划年度"),
    org_id: UUID | None = Query(None, description="The lead org · 牵头单位"),
    status: BatchStatus | None = Query(None, description="The batch's state · 批次状态"),
    invited_org_id: UUID | None = Query(
        None, description="Batches this org is invited to (a partner's own) · 受邀参与单位"
    ),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Page[BatchOut]:
    filters = service.BatchFilters(plan_id, year, org_id, status, invited_org_id)
    rows, cursor = await service.list_batches(uow, by, filters, page)
    items = [BatchOut.of(b, answerers=service.shows_answerers(b, by)) for b in rows]
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/batches/{batch_id}",
    operation_id="planning_batches_get",
    response_model=BatchOut,
    summary="查看抽查批次 · Get a batch",
    description="The batch with its `ETag` (send it as `If-Match` with the next change) and "
    "the overlap warning (R10).",
    responses=problem_responses(404),
)
async def get_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> JSONResponse:
    seen = await service.view_batch(uow, batch_id, by)
    return _answer(seen.batch, seen.overlaps, answerers=seen.shows_answerers)


@router.put(
    "/batches/{batch_id}",
    operation_id="planning_batches_update",
    response_model=BatchOut,
    summary="修改批次草稿 · Replace a draft batch",
    description="The whole draft, checked as on creation. Only a draft batch of a draft plan "
    "version changes; a published batch is cancelled through an adjustment (R7). Partners' "
    "answers stand where their items did not change. Requires `If-Match`.",
    responses=WRITE_PROBLEMS,
)
async def update_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    body: BatchIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    written = await service.update_batch(uow, batch_id, body.draft(), if_match, by)
    return _answer(written.batch, written.overlaps)


@router.delete(
    "/batches/{batch_id}",
    operation_id="planning_batches_delete",
    status_code=204,
    summary="删除批次草稿 · Delete a draft batch",
    description="A draft batch of a draft version was never public and goes without a trace. "
    "Requires `If-Match`.",
    responses=WRITE_PROBLEMS,
)
async def delete_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> Response:
    await service.delete_batch(uow, batch_id, if_match, by)
    return Response(status_code=204)


@router.post(
    "/batches/{batch_id}:preview",
    operation_id="planning_batches_preview",
    response_model=BatchPreviewOut,
    summary="抽查批次预览 · Preview what the draw will take",
    description="Before committing (R12): the population of each stratum the batch draws (its "
    "risk classes; the unclassified in the class its policy names) and the expected sample, "
    "ceil(ratio × population) or the count, capped at the population. Planning asks the "
    "registry (`registry_population_count`) once per item, region, subject type and industry, "
    "concurrently; with one item the figures are exact, with several the union is given as a "
    "range (`exact: false`). `method` says whether the registry answered from its kept counts "
    "(`index`) or a scan, `classifications` which classification the counts reflect. The batch "
    "is checked again first.",
    responses=PREVIEW_PROBLEMS,
)
async def preview_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    uow: UnitOfWork = Depends(unit_of_work),
    registry: ServiceClient = Depends(client_of("registry")),
    by: Principal = Depends(previewers),
) -> BatchPreviewOut:
    return BatchPreviewOut.of(await service.preview(uow, registry, batch_id, by))


@router.post(
    "/batches/{batch_id}:publish",
    operation_id="planning_batches_publish",
    response_model=BatchOut,
    summary="发布抽查批次 · Publish a batch with its plan version",
    description="A batch is published by its plan version (§5.2): this publishes the filed "
    "version that holds the batch, and with it every batch the version adds — each gets its "
    "public `batch_code` and `planning.batch.published.v1`, carrying everything a draw needs. "
    "The batch is checked again against the items and policies in force now. Requires "
    "`If-Match` with the batch's ETag.",
    responses=WRITE_PROBLEMS,
)
async def publish_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    body: PublishIn = Body(default_factory=PublishIn),
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    await plan_service.publish_batch(uow, batch_id, body.necips_ref, if_match, by)
    seen = await service.view_batch(uow, batch_id, by)
    return _answer(seen.batch, seen.overlaps)


@router.post(
    "/batches/{batch_id}:cancel",
    operation_id="planning_batches_cancel",
    response_model=BatchOut,
    summary="撤销抽查批次 · Cancel a published batch in an adjustment",
    description="R7: a published, drawn or in-progress batch is never edited, only cancelled "
    "with a reason, by an adjustment of its plan. Adjust the plan first; the cancellation is "
    "recorded in the draft adjustment (`cancelled_in_version`) and takes effect — "
    "`planning.batch.cancelled.v1`, open tasks cancelled — when that version is published. "
    "Discarding the adjustment withdraws it. Requires `If-Match`.",
    responses=WRITE_PROBLEMS,
)
async def cancel_batch(
    batch_id: Annotated[UUID, BATCH_ID],
    body: CancelIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    return _answer(await service.cancel_batch(uow, batch_id, body.reason, if_match, by))


@router.post(
    "/batches/{batch_id}/invitations/{org_id}:respond",
    operation_id="planning_joint_invitations_respond",
    response_model=BatchOut,
    summary="答复联合检查邀请 · Answer a joint-inspection invitation",
    description="R20: the partner department's admin (`partner_admin` of `org_id`) confirms "
    "exactly the batch's items its department checks, or declines with a reason. The lead "
    "submits its plan only when every partner confirmed; the batch then has one draw for all. "
    "An edit of the batch that changes a partner's items asks that partner again. Requires "
    "`If-Match` with the batch's ETag.",
    responses=WRITE_PROBLEMS,
)
async def respond_to_invitation(
    batch_id: Annotated[UUID, BATCH_ID],
    org_id: Annotated[UUID, ORG_ID],
    body: InvitationAnswerIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.partner_admin)),
) -> JSONResponse:
    batch = await service.respond_to_invitation(
        uow, batch_id, org_id, accept=body.accept, item_ids=body.item_ids, reason=body.reason,
        if_match=if_match, by=by,
    )  # fmt: skip
    return _answer(batch)
