"""HTTP: the inspector directory (执法检查人员名录库) — import, sync, read, status, conflicts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require, require_scope
from shuangsui.kernel.bulk import BulkReportOut
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import StationCodeFilter, UnitCodeFilter
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.inspectors import InspectorFilter
from shuangsui.registry.api.inspectors_models import (
    ConflictIn,
    ConflictOut,
    InspectorOut,
    InspectorPatch,
    JusticeSyncIn,
    StatusIn,
    SyncReportOut,
)
from shuangsui.registry.api.params import BATCH_MODE
from shuangsui.registry.api.sheet_imports import import_sheet, sheet_request_body
from shuangsui.registry.api.uploads import upload_problems
from shuangsui.registry.domain.inspectors import InspectorStatus
from shuangsui.registry.domain.inspectors_visibility import Shown
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service import inspectors as use_cases
from shuangsui.registry.service.inspectors import InspectorChanges

router = APIRouter(prefix="/api/v1/registry", tags=["inspectors · 执法检查人员名录库"])

MAX_IMPORT_BYTES = 16 * 1024 * 1024  # an XLSX of 20 000 officers is ~2 MB; far above is a mistake
KEEPERS = (Role.provincial_admin, Role.department_admin, Role.partner_admin)
READERS = (*KEEPERS, Role.station_staff, Role.inspector, Role.reviewer, Role.auditor)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # dates are Chinese calendar dates
IMPORT_SCOPE = "registry:inspectors:import"
SYNC_SCOPE = "registry:inspectors:sync"

_CSV_EXAMPLE = (
    "name,unit_code,region_code,station_code,position,cert_no,cert_valid_until,"
    "qualifications,specialties,status\n"
    "王芳,330106001,330106,330106-01,科员,33010012345,2027-06-30,food_safety;pricing,food,active\n"
)
_UPDATE_PROBLEMS = problem_responses(
    p.NOT_FOUND, use_cases.CONCURRENT_CHANGE, p.PRECONDITION_FAILED, p.PRECONDITION_REQUIRED
)


@router.post(
    "/inspectors:import",
    operation_id="registry_inspectors_import",
    response_model=BulkReportOut,
    summary="导入执法检查人员 · Import inspectors",
    description="A CSV (UTF-8 or GB18030) or XLSX sheet, one officer per row, keyed by "
    "`cert_no` (执法证号). Columns may use the English names or the Chinese headings "
    "(姓名, 单位编码, 行政区划代码, 执法证号, 执法证有效期至, …); list cells hold codes separated by "
    "`;` or a JSON array. The answer is the report of every bulk write (`stale` is always 0: "
    "a sheet has no source time; `key` is the row's `cert_no`). `mode=atomic` (default) applies nothing if any row is invalid "
    "and answers 422 `/problems/batch-rejected` with the row errors; `mode=per_row` applies "
    "the valid rows and reports the others. At most 1,000 errors are listed "
    "(`errors_truncated`); the counts are always complete. Once the province has loaded any "
    "org, `unit_code` and `station_code` must be codes of its orgs (组织机构), else the row is "
    "rejected naming the field. Integrators need the scope `registry:inspectors:import`.",
    openapi_extra=sheet_request_body(_CSV_EXAMPLE),
    responses=upload_problems(use_cases.CONCURRENT_CHANGE),
)
async def import_inspectors(
    request: Request,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(IMPORT_SCOPE, *KEEPERS)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_inspectors_import")),
) -> JSONResponse:
    return await import_sheet(
        request, mode, MAX_IMPORT_BYTES, uow, by, idempotency,
        use_cases.import_inspectors, BulkReportOut.of,
    )  # fmt: skip


@router.post(
    "/inspectors:sync-justice",
    operation_id="registry_inspectors_justice_sync",
    response_model=SyncReportOut,
    summary="同步司法行政执法人员库 · Sync with the justice enforcement-staff database",
    description="Merges officers from the justice administration's database. Unknown officers "
    "are added; for known ones (matched by `justice_db_ref`, else `cert_no`) only empty fields "
    "are filled and missing qualifications added. A value that differs from the directory is "
    "NOT overwritten: it is listed in `conflicts` for the office to resolve. A record naming a "
    "unit or station that is no org of the province (once it has loaded any) is rejected and "
    "not applied. Integrators need the scope `registry:inspectors:sync`.",
    responses=problem_responses(
        p.IDEMPOTENCY_IN_PROGRESS, use_cases.CONCURRENT_CHANGE, p.VALIDATION, p.BATCH_REJECTED
    ),
)
async def sync_justice(
    body: JusticeSyncIn,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(SYNC_SCOPE, Role.provincial_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_inspectors_justice_sync")),
) -> JSONResponse:
    async def run() -> SyncReportOut:
        sent = [record.cells() for record in body.records]
        return SyncReportOut.of_sync(await use_cases.sync_justice(uow, sent, mode, by))

    return await idempotency.run(uow, by, body, run)


def _after(page: PageRequest) -> UUID | None:
    if page.after is None:
        return None
    try:
        return UUID(str(page.after.get("id")))
    except ValueError:
        raise p.Problem(p.INVALID_CURSOR) from None


@router.get(
    "/inspectors",
    operation_id="registry_inspectors_list",
    response_model=Page[InspectorOut],
    summary="查询执法检查人员 · List inspectors",
    description="Officers within the caller's region, in id order. Personal fields (`cert_no`, "
    "`justice_db_ref`, `conflicts`) are null for roles that do not keep the directory.",
)
async def list_inspectors(
    unit_code: UnitCodeFilter = None,
    station_code: StationCodeFilter = None,
    status: InspectorStatus | None = Query(None, description="状态"),
    qualification: str | None = Query(None, max_length=60, description="执法资格"),
    specialty: str | None = Query(None, max_length=60, description="专业领域"),
    department_type: str | None = Query(None, max_length=40, description="部门类型"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> Page[InspectorOut]:
    where = InspectorFilter(
        region_prefix=RegionScope.of(by).prefix, unit_code=unit_code, station_code=station_code,
        status=status.value if status else None, qualification=qualification,
        specialty=specialty, department_type=department_type,
    )  # fmt: skip
    rows = await use_cases.list_inspectors(uow, where, _after(page), page.limit + 1, by)
    items, cursor = page.page(rows, lambda s: {"id": str(s.inspector.inspector_id)})
    return Page[InspectorOut](items=[InspectorOut.of(s) for s in items], next_cursor=cursor)


def _one(shown: Shown, response: Response) -> InspectorOut:
    response.headers["ETag"] = etag_of(shown.inspector.version)
    return InspectorOut.of(shown)


@router.get(
    "/inspectors/{inspector_id}",
    operation_id="registry_inspectors_get",
    response_model=InspectorOut,
    summary="查看执法检查人员 · Get an inspector",
    description="Answers with an `ETag`; send it as `If-Match` when changing the officer.",
    responses=problem_responses(p.NOT_FOUND),
)
async def get_inspector(
    inspector_id: UUID,
    response: Response,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> InspectorOut:
    return _one(await use_cases.get_inspector(uow, inspector_id, by), response)


@router.patch(
    "/inspectors/{inspector_id}",
    operation_id="registry_inspectors_update",
    response_model=InspectorOut,
    summary="修改执法检查人员 · Update an inspector",
    description="Changes only the fields sent (status, position, station, certificate date, "
    "qualifications, specialties). Requires `If-Match`: 428 without it, 412 when stale. A "
    "`station_code` must be an org of the province once it has loaded any (422 otherwise).",
    responses=_UPDATE_PROBLEMS,
)
async def update_inspector(
    inspector_id: UUID,
    body: InspectorPatch,
    response: Response,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
) -> InspectorOut:
    sent = body.model_dump(exclude_unset=True)
    for codes in ("qualifications", "specialties"):
        if sent.get(codes) is not None:
            sent[codes] = tuple(sent[codes])
    changes = InspectorChanges(**sent)
    updated = await use_cases.update_inspector(uow, inspector_id, changes, if_match, by)
    return _one(updated, response)


@router.put(
    "/inspectors/{inspector_id}/status",
    operation_id="registry_inspector_status_set",
    response_model=InspectorOut,
    summary="设置执法检查人员状态 · Set an inspector's status",
    description="Only `active` officers are drawn (R17). Requires `If-Match`.",
    responses=_UPDATE_PROBLEMS,
)
async def set_status(
    inspector_id: UUID,
    body: StatusIn,
    response: Response,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
) -> InspectorOut:
    changes = InspectorChanges(status=body.status)
    updated = await use_cases.update_inspector(uow, inspector_id, changes, if_match, by)
    return _one(updated, response)


@router.post(
    "/inspectors/{inspector_id}/conflicts",
    operation_id="registry_inspector_conflicts_declare",
    status_code=201,
    response_model=ConflictOut,
    summary="登记回避事由 · Declare a conflict of interest",
    description="An admin records a conflict for the directory (`source=directory`); an officer "
    "declares one for themself (`source=inspector`, token `sub` = their `inspector_id`). While "
    "it is not withdrawn, sampling never assigns the officer to that subject (R19).",
    responses=problem_responses(
        p.NOT_FOUND, p.IDEMPOTENCY_IN_PROGRESS, use_cases.CONFLICT_ALREADY_DECLARED
    ),
)
async def declare_conflict(
    inspector_id: UUID,
    body: ConflictIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS, Role.inspector)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_inspector_conflicts_declare")),
) -> JSONResponse:
    async def run() -> ConflictOut:
        _, conflict = await use_cases.declare_conflict(
            uow,
            inspector_id,
            body.subject_uscc,
            body.since or datetime.now(SHANGHAI).date(),
            body.reason,
            by,
        )
        return ConflictOut.of(conflict)

    fingerprint = {"inspector_id": str(inspector_id), **body.model_dump(mode="json")}
    return await idempotency.run(uow, by, fingerprint, run, status_code=201)


@router.post(
    "/inspectors/{inspector_id}/conflicts/{conflict_id}:withdraw",
    operation_id="registry_inspector_conflicts_withdraw",
    response_model=ConflictOut,
    summary="撤回回避事由 · Withdraw a conflict of interest",
    description="Admins only: an officer cannot lift their own recusal.",
    responses=problem_responses(p.NOT_FOUND, use_cases.CONFLICT_ALREADY_WITHDRAWN),
)
async def withdraw_conflict(
    inspector_id: UUID,
    conflict_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
) -> ConflictOut:
    _, conflict = await use_cases.withdraw_conflict(uow, inspector_id, conflict_id, by)
    return ConflictOut.of(conflict)
