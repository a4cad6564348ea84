"""HTTP: the org directory (组织机构) — upsert, import, read, list, and the tree below an org."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shuangsui.contracts.codes import UnitCode
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, current_principal, require, require_scope
from shuangsui.kernel.bulk import BulkReportOut
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import RegionFilter, UnitCodePath
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.orgs import OrgFilter
from shuangsui.registry.api.org_models import (
    OrgIn,
    OrgOut,
    OrgTreeOut,
    UnknownUnitOut,
)
from shuangsui.registry.api.params import BATCH_MODE
from shuangsui.registry.api.sheet_imports import import_sheet, sheet_request_body
from shuangsui.registry.api.uploads import upload_problems
from shuangsui.registry.domain.orgs import Org, OrgLevel, OrgStatus, read_record
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service import orgs as use_cases

router = APIRouter(prefix="/api/v1/registry", tags=["orgs · 组织机构"])

PUSH_SCOPE = "registry:orgs:push"
MAX_IMPORT_BYTES = 8 * 1024 * 1024  # a province's orgs are a few thousand rows, well under 1 MB
WRITERS = require_scope(PUSH_SCOPE, Role.provincial_admin)  # national_admin always passes

_CSV_EXAMPLE = (
    "code,name,level,region_code,parent_code,department_type,is_hq\n"
    "330106-AMR,杭州市西湖区市场监督管理局,county,330106,330100-AMR,market_supervision,true\n"
    "330106-01,西湖区市场监督管理局第一市场监管所,station,330106,330106-AMR,market_supervision,false\n"
)


def _one(org: Org, response: Response) -> OrgOut:
    response.headers["ETag"] = etag_of(org.version)
    return OrgOut.of(org)


@router.put(
    "/orgs/{code}",
    operation_id="registry_orgs_upsert",
    response_model=OrgOut,
    summary="登记组织机构 · Create or replace an org",
    description="Creates the org (201) or replaces its state (200). Replacing needs `If-Match` "
    "with the ETag last read: 428 without it, 412 when stale; sending the stored state again "
    "changes nothing and needs none. Rules: the region lies within yours and suits the level "
    "(a city org has a city code …); a parent exists, is of a higher level and its region "
    "contains the org's; a station's parent is a county bureau and a station is never `is_hq`; "
    "no org becomes its own ancestor; an org that would leave a sub-org misplaced is refused. "
    "Each change is announced as `registry.org.upserted.v1`. Integrators need the scope "
    "`registry:orgs:push`.",
    responses={
        201: {"model": OrgOut, "description": "Created · 已创建"},
        **problem_responses(
            p.FORBIDDEN, p.PRECONDITION_FAILED, p.PRECONDITION_REQUIRED, p.VALIDATION
        ),
    },
)
async def upsert(
    body: OrgIn,
    response: Response,
    code: UnitCodePath,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(WRITERS),
) -> OrgOut:
    record, errors = read_record(body.cells(code), 1)
    if record is None:
        field_errors = [p.FieldError(e.field, e.reason) for e in errors]
        raise p.Problem(p.VALIDATION, "the org is not valid", errors=field_errors)
    org, created = await use_cases.upsert_org(uow, record, if_match, by)
    response.status_code = 201 if created else 200
    return _one(org, response)


@router.post(
    "/orgs:import",
    operation_id="registry_orgs_import",
    response_model=BulkReportOut,
    summary="导入组织机构 · Import orgs",
    description="A CSV (UTF-8 or GB18030) or XLSX sheet, one org per row, keyed by `code`. "
    "Columns may use the English names or the Chinese headings (机构编码, 机构名称, 层级, "
    "行政区划代码, 上级机构编码, 部门类型, 局机关, 状态); `level` also accepts 国家级 / 省级 / "
    "市级 / 县级 / 所. A parent may appear before or after its children in the file. "
    "`mode=atomic` (default) applies nothing if any row is invalid and answers 422 "
    "`/problems/batch-rejected` with the row errors (line, key, field, reason); `mode=per_row` "
    "applies the valid rows and reports the others. The answer is the report of every bulk "
    "write (`stale` is always 0; `key` is the row's `code`); at most 1,000 errors are listed "
    "(`errors_truncated`). Send "
    "`Idempotency-Key` to make a retry harmless. Integrators need the scope "
    "`registry:orgs:push`.",
    openapi_extra=sheet_request_body(_CSV_EXAMPLE),
    responses=upload_problems(),
)
async def import_orgs(
    request: Request,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(WRITERS),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_orgs_import")),
) -> JSONResponse:
    return await import_sheet(
        request, mode, MAX_IMPORT_BYTES, uow, by, idempotency,
        use_cases.import_orgs, BulkReportOut.of,
    )  # fmt: skip


@router.get(
    "/orgs",
    operation_id="registry_orgs_list",
    response_model=Page[OrgOut],
    summary="查询组织机构 · List orgs",
    description="Orgs within the caller's region, in code order; the filters narrow it.",
)
async def list_orgs(
    region_code: RegionFilter = None,
    level: OrgLevel | None = Query(
        None, description="national 国家级 / provincial 省级 / city 市级 / county 县级 / station 所"
    ),
    parent_code: UnitCode | None = Query(None, description="Parent · 上级机构编码"),
    department_type: str | None = Query(None, max_length=40, description="部门类型"),
    status: OrgStatus | None = Query(None, description="active / closed · 状态"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(current_principal),
) -> Page[OrgOut]:
    where = OrgFilter(
        region_prefix=RegionScope.of(by).prefix, within=use_cases.within_prefix(region_code),
        level=level.value if level else None, parent_code=parent_code,
        department_type=department_type, status=status.value if status else None,
    )  # fmt: skip
    rows = await use_cases.list_orgs(uow, where, _after_code(page), page.limit + 1)
    items, cursor = page.page(rows, lambda o: {"code": o.record.code})
    return Page[OrgOut](items=[OrgOut.of(o) for o in items], next_cursor=cursor)


def _after_code(page: PageRequest) -> str | None:
    after = page.after.get("code") if page.after is not None else None
    if page.after is not None and not isinstance(after, str):
        raise p.Problem(p.INVALID_CURSOR)
    return after


@router.get(
    "/orgs:unknown-units",
    operation_id="registry_unknown_units_list",
    response_model=Page[UnknownUnitOut],
    summary="未登记的单位编码 · Unit codes missing from the org directory",
    description="Unit codes that subjects (`unit_code`) and inspectors (`unit_code`, "
    "`station_code`) within the caller's region name, but that are no org of their own "
    "province, in code order, with how many subjects and inspectors name each: what an office "
    "corrects, by loading the org or fixing the rows. A province with no org loaded yet lists "
    "every code in use. For provincial and department admins.",
)
async def unknown_units(
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.provincial_admin, Role.department_admin)),
) -> Page[UnknownUnitOut]:
    rows = await use_cases.unknown_units(uow, RegionScope.of(by), _after_code(page), page.limit + 1)
    items, cursor = page.page(rows, lambda u: {"code": u.code})
    return Page[UnknownUnitOut](items=[UnknownUnitOut.of(u) for u in items], next_cursor=cursor)


@router.get(
    "/orgs/{code}",
    operation_id="registry_orgs_get",
    response_model=OrgOut,
    summary="查看组织机构 · Get an org",
    description="Answers with an `ETag`; send it as `If-Match` when replacing the org.",
    responses=problem_responses(descriptions={404: "No such org in your region · 未找到"}),
)
async def get_org(
    response: Response,
    code: UnitCodePath,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(current_principal),
) -> OrgOut:
    return _one(await use_cases.get_org(uow, code, RegionScope.of(by)), response)


@router.get(
    "/orgs/{code}/tree",
    operation_id="registry_org_tree_get",
    response_model=OrgTreeOut,
    summary="组织机构树 · An org and everything below it",
    description="The org with its sub-orgs nested under `children`, all the way down: a county "
    "bureau with its head office flag and its stations (市场监管所), which sampling's selection "
    "modes draw from (bureau_wide 全局内随机, hq_and_stations 局机关与所随机, station_group "
    "若干所内随机, single_station 单一所内随机). Closed orgs, and what is below them, are left "
    "out unless `include_closed=true`.",
    responses=problem_responses(descriptions={404: "No such org in your region · 未找到"}),
)
async def org_tree(
    code: UnitCodePath,
    include_closed: bool = Query(False, description="Include closed orgs · 含已撤销机构"),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(current_principal),
) -> OrgTreeOut:
    orgs = await use_cases.org_tree(uow, code, RegionScope.of(by), include_closed)
    return OrgTreeOut.build(orgs)
