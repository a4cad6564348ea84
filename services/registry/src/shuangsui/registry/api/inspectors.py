"""HTTP: the inspector directory (执法检查人员名录库) — import, sync, read, status, conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require, require_scope
from shuangsui.kernel.concurrency import etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import StationCodeFilter, UnitCodeFilter
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.inspectors import InspectorFilter
from shuangsui.registry.api.inspectors_models import (
    ConflictIn,
    ConflictOut,
    ImportReportOut,
    InspectorOut,
    InspectorPatch,
    JusticeSyncIn,
    StatusIn,
    SyncReportOut,
)
from shuangsui.registry.api.params import BATCH_MODE, IF_MATCH
from shuangsui.registry.api.sheet_imports import import_sheet, sheet_request_body
from shuangsui.registry.domain.inspectors import Inspector, InspectorStatus, RowError
from shuangsui.registry.domain.inspectors_import import parse_record
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service import inspectors as use_cases
from shuangsui.registry.service.inspectors import InspectorChanges, jurisdiction_of

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
_PROBLEMS = {s: {"model": None, "description": d} for s, d in (
    (409, "Concurrent change / idempotent request in flight · 冲突"),
    (412, "If-Match is stale · 版本已变"), (413, "Body too large · 请求体过大"),
    (415, "Not CSV/XLSX · 内容类型不支持"), (428, "If-Match missing · 缺少 If-Match"),
)}  # fmt: skip


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: _PROBLEMS[c] for c in codes}


@router.post(
    "/inspectors:import",
    operation_id="registry_inspectors_import",
    response_model=ImportReportOut,
    summary="导入执法检查人员 · Import inspectors",
    description="A CSV (UTF-8 or GB18030) or XLSX sheet, one officer per row, keyed by "
    "`cert_no` (执法证号). Columns may use the English names or the Chinese headings "
    "(姓名, 单位编码, 行政区划代码, 执法证号, 执法证有效期至, …); list cells hold codes separated by "
    "`;` or a JSON array. The answer is the report of every bulk push (without `stale`: a "
    "sheet has no source time). `mode=atomic` (default) applies nothing if any row is invalid "
    "and answers 422 `/problems/batch-rejected` with the row errors; `mode=per_row` applies "
    "the valid rows and reports the others. At most 1,000 errors are listed "
    "(`errors_truncated`); the counts are always complete. Once the province has loaded any "
    "org, `unit_code` and `station_code` must be codes of its orgs (组织机构), else the row is "
    "rejected naming the field. Integrators need the scope `registry:inspectors:import`.",
    openapi_extra=sheet_request_body(_CSV_EXAMPLE),
    responses=_problems(409, 413, 415),
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
        use_cases.import_inspectors, ImportReportOut.of,
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
    responses=_problems(409),
)
async def sync_justice(
    body: JusticeSyncIn,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(SYNC_SCOPE, Role.provincial_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_inspectors_justice_sync")),
) -> JSONResponse:
    records, invalid = [], []
    for position, record in enumerate(body.records, start=1):
        parsed, errors = parse_record(record.cells(), position, use_cases.known_region)
        if not record.justice_db_ref.strip():
            errors.append(RowError(position, "justice_db_ref", "required"))
        if parsed is not None and not errors:
            records.append((position, parsed))
        invalid += errors

    async def run() -> SyncReportOut:
        report = await use_cases.sync_justice(uow, records, invalid, mode, by)
        return SyncReportOut.of_sync(report)

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
    only = jurisdiction_of(by).department_type if Role.partner_admin in by.roles else None
    where = InspectorFilter(
        region_prefix=RegionScope.of(by).prefix, unit_code=unit_code, station_code=station_code,
        status=status.value if status else None, qualification=qualification,
        specialty=specialty, department_type=only if only is not None else department_type,
    )  # fmt: skip
    rows = await use_cases.list_inspectors(uow, where, _after(page), page.limit + 1)
    items, cursor = page.page(rows, lambda i: {"id": str(i.inspector_id)})
    shown = [InspectorOut.of(i, use_cases.may_see_personal_data(by, i)) for i in items]
    return Page[InspectorOut](items=shown, next_cursor=cursor)


def _one(inspector: Inspector, by: Principal, response: Response) -> InspectorOut:
    response.headers["ETag"] = etag_of(inspector.version)
    return InspectorOut.of(inspector, use_cases.may_see_personal_data(by, inspector))


@router.get(
    "/inspectors/{inspector_id}",
    operation_id="registry_inspectors_get",
    response_model=InspectorOut,
    summary="查看执法检查人员 · Get an inspector",
    description="Answers with an `ETag`; send it as `If-Match` when changing the officer.",
)
async def get_inspector(
    inspector_id: UUID,
    response: Response,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> InspectorOut:
    found = await use_cases.get_inspector(uow, inspector_id, RegionScope.of(by))
    # A partner department's admin sees only its own department's officers (DOMAIN §7).
    partner_only = Role.partner_admin in by.roles and not by.has_any_role(*KEEPERS[:2])
    if partner_only and jurisdiction_of(by).refusal(found.record) is not None:
        raise p.Problem(p.NOT_FOUND, "no such inspector")
    return _one(found, by, response)


@router.patch(
    "/inspectors/{inspector_id}",
    operation_id="registry_inspectors_update",
    response_model=InspectorOut,
    summary="修改执法检查人员 · Update an inspector",
    description="Changes only the fields sent (status, position, station, certificate date, "
    "qualifications, specialties). Requires `If-Match`: 428 without it, 412 when stale. A "
    "`station_code` must be an org of the province once it has loaded any (422 otherwise).",
    responses=_problems(412, 428),
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
    return _one(updated, by, response)


@router.put(
    "/inspectors/{inspector_id}/status",
    operation_id="registry_inspector_status_set",
    response_model=InspectorOut,
    summary="设置执法检查人员状态 · Set an inspector's status",
    description="Only `active` officers are drawn (R17). Requires `If-Match`.",
    responses=_problems(412, 428),
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
    return _one(updated, by, response)


@router.post(
    "/inspectors/{inspector_id}/conflicts",
    operation_id="registry_inspector_conflicts_declare",
    status_code=201,
    response_model=ConflictOut,
    summary="登记回避事由 · Declare a conflict of interest",
    description="An admin records a conflict for the directory (`source=directory`); an officer "
    "declares one for themself (`source=inspector`, token `sub` = their `inspector_id`). While "
    "it is not withdrawn, sampling never assigns the officer to that subject (R19).",
    responses=_problems(409),
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
    responses=_problems(409),
)
async def withdraw_conflict(
    inspector_id: UUID,
    conflict_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
) -> ConflictOut:
    _, conflict = await use_cases.withdraw_conflict(uow, inspector_id, conflict_id, by)
    return ConflictOut.of(conflict)
