"""HTTP: annual plans (年度抽查计划) — versions, their steps, differences; plan deadlines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import (
    Principal,
    PrincipalDependency,
    Role,
    optional_principal,
    require,
)
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.planning.api.plans_models import (
    AdjustIn,
    DeadlineIn,
    DeadlineOut,
    DeadlineReportOut,
    PlanChangesIn,
    PlanDiffOut,
    PlanIn,
    PlanOut,
    PublishIn,
)
from shuangsui.planning.domain.plans import FIRST_YEAR, LAST_YEAR, PlanStatus, PlanVersion
from shuangsui.planning.service import plans as service
from shuangsui.planning.service import plans_deadlines as deadline_service
from shuangsui.planning.service import plans_read as reads

router = APIRouter(prefix="/api/v1/planning", tags=["annual plans · 年度抽查计划"])
deadlines = APIRouter(prefix="/api/v1/planning", tags=["plan deadlines · 计划报送期限"])

owners = require(Role.department_admin)
superiors = require(Role.department_admin, Role.provincial_admin)
VERSION = Path(ge=1, le=9999, description="Version number · 版本号")
YEAR = Path(ge=FIRST_YEAR, le=LAST_YEAR, description="Plan year · 计划年度")
STEP_PROBLEMS = problem_responses(
    service.PLAN_TRANSITION, p.FORBIDDEN, 404, p.PRECONDITION_FAILED, p.PRECONDITION_REQUIRED
)


def _answer(plan: PlanVersion, status: int = 200) -> JSONResponse:
    return JSONResponse(
        PlanOut.of(plan).model_dump(mode="json"),
        status_code=status,
        headers={"ETag": etag_of(plan.revision)},
    )


@router.post(
    "/plans",
    operation_id="planning_plans_create",
    status_code=201,
    response_model=PlanOut,
    summary="编制年度抽查计划 · Create an annual plan",
    description="Version 1 of the caller's org's plan for `year`, as a draft; the org is the "
    "token's `org_id`, its level (national, provincial, city, county) comes from planning's "
    "catalogue of orgs. The plan gets its public code (region + year + sequence). One plan per "
    "org and year: 409 `plan-conflict` while another is not discarded.",
    responses=problem_responses(
        service.PLAN_CONFLICT, service.PLAN_CODE_EXHAUSTED, service.PLAN_ORG, p.FORBIDDEN
    ),
)
async def create_plan(
    body: PlanIn, uow: UnitOfWork = Depends(unit_of_work), by: Principal = Depends(owners)
) -> JSONResponse:
    return _answer(await service.create_plan(uow, body.year, body.changes(), by), 201)


@router.get(
    "/plans",
    operation_id="planning_plans_list",
    response_model=Page[PlanOut],
    summary="年度抽查计划列表 · List plan versions",
    description="Plan versions in code and version order. Published versions (and the ones "
    "they superseded) are public; a department sees all of its own; its superior sees them "
    "from submission on.",
)
async def list_plans(
    year: int | None = Query(None, ge=FIRST_YEAR, le=LAST_YEAR, description="计划年度"),
    org_id: UUID | None = Query(None, description="编制部门"),
    status: PlanStatus | None = Query(None, description="状态"),
    plan_code: str | None = Query(None, pattern=r"^[0-9]{14}$", description="计划编号"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Page[PlanOut]:
    filters = reads.PlanFilters(year, org_id, status, plan_code)
    rows, cursor = await reads.list_plans(uow, by, filters, page)
    return Page(items=[PlanOut.of(v) for v in rows], next_cursor=cursor)


@router.get(
    "/plans/{plan_id}",
    operation_id="planning_plans_get",
    response_model=PlanOut,
    summary="查看年度抽查计划 · Get a plan version",
    description="The latest version you may see, or `version`. Answers with an `ETag` (the "
    "version's revision) to send as `If-Match` with the next step.",
    responses=problem_responses(404),
)
async def get_plan(
    plan_id: UUID,
    version: int | None = Query(None, ge=1, le=9999, description="版本号"),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> JSONResponse:
    return _answer(await reads.get_plan(uow, plan_id, version, by))


@router.patch(
    "/plans/{plan_id}/versions/{version}",
    operation_id="planning_plans_update",
    response_model=PlanOut,
    summary="修改计划草稿 · Edit a draft version",
    description="Title, description and period of a draft; the fields sent replace theirs. "
    "Only a draft changes: a published plan is adjusted (R7). Requires `If-Match`.",
    responses=problem_responses(
        service.PLAN_TRANSITION, p.FORBIDDEN, 404, p.PRECONDITION_FAILED, p.PRECONDITION_REQUIRED
    ),
)
async def update_plan(
    plan_id: UUID,
    body: PlanChangesIn,
    version: int = VERSION,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    return _answer(await service.update_plan(uow, plan_id, version, body.changes(), if_match, by))


StepUseCase = Callable[[UnitOfWork, UUID, int, str | None, Principal], Awaitable[PlanVersion]]


def _step(action: str, summary: str, description: str, roles: PrincipalDependency,
          use_case: StepUseCase) -> None:  # fmt: skip
    """A step on one version that takes nothing but its `If-Match`."""

    async def take(
        plan_id: UUID,
        version: int = VERSION,
        if_match: str | None = IF_MATCH,
        uow: UnitOfWork = Depends(unit_of_work),
        by: Principal = Depends(roles),
    ) -> JSONResponse:
        return _answer(await use_case(uow, plan_id, version, if_match, by))

    router.add_api_route(
        f"/plans/{{plan_id}}/versions/{{version}}:{action}", take, methods=["POST"],
        operation_id=f"planning_plans_{action}", response_model=PlanOut, summary=summary,
        description=f"{description} Requires `If-Match`.", responses=STEP_PROBLEMS,
    )  # fmt: skip


_step(
    "submit", "报送计划 · Submit a draft to the superior",
    "The department submits its draft for filing. A submission after the province's deadline "
    "(Asia/Shanghai date; 31 March by default) is accepted and flagged `late` (R5, ADR 0015).",
    owners, service.submit_plan,
)  # fmt: skip
_step(
    "file", "计划备案 · File a submitted plan",
    "The superior (the department admin of the parent org, or the provincial admin) "
    "acknowledges the filing (备案): it is informed, it does not approve (Q1). Records "
    "`planning.plan.filed.v1`.",
    superiors, service.file_plan,
)  # fmt: skip


@router.post(
    "/plans/{plan_id}/versions/{version}:publish",
    operation_id="planning_plans_publish",
    response_model=PlanOut,
    summary="公示计划 · Publish a filed plan",
    description="Makes the filed version public (R6; flagged `published_late` after the "
    "deadline). Publishing an adjustment supersedes the version before it. Records "
    "`planning.plan.published.v1` and, for an adjustment, `planning.plan.adjusted.v1`. "
    "Requires `If-Match`.",
    responses=STEP_PROBLEMS,
)
async def publish_plan(
    plan_id: UUID,
    body: PublishIn = Body(default_factory=PublishIn),
    version: int = VERSION,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    plan = await service.publish_plan(uow, plan_id, version, body.necips_ref, if_match, by)
    return _answer(plan)


@router.post(
    "/plans/{plan_id}/versions/{version}:adjust",
    operation_id="planning_plans_adjust",
    status_code=201,
    response_model=PlanOut,
    summary="调整计划 · Adjust a published plan",
    description="Starts the next version as a draft from the published one, with the reason "
    "(R7) and any content changes; it is submitted, filed and published again. The published "
    "version stays in force until then. Requires `If-Match` with the published version's ETag.",
    responses=problem_responses(
        service.PLAN_TRANSITION,
        service.PLAN_CONFLICT,
        p.FORBIDDEN,
        404,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
    ),
)
async def adjust_plan(
    plan_id: UUID,
    body: AdjustIn,
    version: int = VERSION,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(owners),
) -> JSONResponse:
    plan = await service.adjust_plan(
        uow, plan_id, version, body.adjustment_reason, body.changes(), if_match, by
    )
    return _answer(plan, 201)


@router.get(
    "/plans/{plan_id}/versions/{version}/diff",
    operation_id="planning_plans_diff",
    response_model=PlanDiffOut,
    summary="计划调整对比 · What a version changed",
    description="The difference between this version and the one it adjusts: each plan field "
    "changed (before and after), the batches added, cancelled and changed, and the reason.",
    responses=problem_responses(404, 422),
)
async def diff_plan(
    plan_id: UUID,
    version: int = VERSION,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> PlanDiffOut:
    return PlanDiffOut.of(await reads.diff_plan(uow, plan_id, version, by))


_step(
    "discard", "作废计划草稿 · Discard a draft",
    "A draft that was never submitted is discarded; an adjustment's draft leaves the published "
    "version in force.",
    owners, service.discard_plan,
)  # fmt: skip
_step(
    "close", "终结年度计划 · Close a plan after its year",
    "The provincial admin closes a published plan once its year has ended (Asia/Shanghai) and "
    "none of its batches is open. Records `planning.plan.closed.v1`.",
    require(Role.provincial_admin), service.close_plan,
)  # fmt: skip


# ---- deadlines ----------------------------------------------------------------------------


@deadlines.get(
    "/deadlines/{year}",
    operation_id="planning_deadlines_get",
    response_model=DeadlineOut,
    summary="计划报送期限 · The plan deadline of a year",
    description="Your province's deadline for plans of `year`: the one it set, or 31 March.",
)
async def get_deadline(
    year: int = YEAR,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.department_admin, Role.provincial_admin, Role.auditor)),
) -> DeadlineOut:
    return DeadlineOut.of(await deadline_service.get_deadline(uow, year, by))


@deadlines.put(
    "/deadlines/{year}",
    operation_id="planning_deadlines_set",
    response_model=DeadlineOut,
    summary="设置计划报送期限 · Set the province's plan deadline",
    description="Province config (provincial admins): the last day, within `year`, on which "
    "a plan submitted is on time. Later submissions are flagged `late`; plans submitted before "
    "the change keep their flag.",
    responses=problem_responses(p.FORBIDDEN, 422),
)
async def set_deadline(
    body: DeadlineIn,
    year: int = YEAR,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.provincial_admin)),
) -> DeadlineOut:
    return DeadlineOut.of(await deadline_service.set_deadline(uow, year, body.deadline, by))


@deadlines.get(
    "/deadlines/{year}/report",
    operation_id="planning_plans_deadline_report",
    response_model=DeadlineReportOut,
    summary="计划报送情况 · Who submitted on time",
    description="Every market-supervision org at county level and above in your region (R5): "
    "its plan for `year` submitted on time, late, or not yet, with the counts.",
)
async def deadline_report(
    year: int = YEAR,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.department_admin, Role.provincial_admin, Role.auditor)),
) -> DeadlineReportOut:
    return DeadlineReportOut.of(year, await deadline_service.deadline_report(uow, year, by))
