"""HTTP: item lists (抽查事项清单) — versions, items, spreadsheet import/export, items in force."""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shuangsui.contracts.regions import InvalidRegionCode, RegionCode, province_region
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, optional_principal, require
from shuangsui.kernel.bulk import BulkReportOut
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.sheets import CSV, XLSX, write_csv, write_xlsx
from shuangsui.registry.api import items_guides
from shuangsui.registry.api.items_models import (
    ItemIn,
    ItemListIn,
    ItemListOut,
    ItemOut,
)
from shuangsui.registry.api.uploads import media_type_of, read_body, upload_problems
from shuangsui.registry.domain.item_fields import (
    DEPARTMENT_NAME_MAX,
)
from shuangsui.registry.domain.items import (
    ItemCategory,
    ListLevel,
    Method,
    SubjectType,
)
from shuangsui.registry.domain.items_sheet import EXPORT_HEADERS, export_row
from shuangsui.registry.service import items as service
from shuangsui.registry.service import items_read as reads

router = APIRouter(prefix="/api/v1/registry", tags=["item lists · 抽查事项清单"])
admins = require(Role.national_admin, Role.provincial_admin)
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _with_etag(body: ItemListOut | ItemOut, tag: int, status: int = 200) -> JSONResponse:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"ETag": etag_of(tag)}
    )


@router.post(
    "/item-lists",
    operation_id="registry_item_lists_create",
    status_code=201,
    response_model=ItemListOut,
    summary="新建抽查事项清单版本 · Create a draft item-list version",
    description="Creates the next draft version of the national list (national admins) or of "
    "the caller's province (provincial admins). It starts as a copy of the latest published "
    "version (an adjustment, 动态调整); a provincial version also adopts, unchanged, the items "
    "of the national version in force on `effective_from` (R1). One draft per list at a time.",
    responses=problem_responses(descriptions={409: "A draft already exists · 已有草稿"}),
)
async def create_list(
    body: ItemListIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> JSONResponse:
    province = None
    if body.level is ListLevel.provincial:
        try:
            province = body.province or province_region(by.region_code)
        except InvalidRegionCode:
            raise p.Problem(p.FORBIDDEN, "the token's region is no province") from None
    lst, _ = await service.create_version(uow, body.level, province, body.effective_from, by)
    return _with_etag(ItemListOut.of(lst), lst.revision, status=201)


@router.get(
    "/item-lists",
    operation_id="registry_item_lists_list",
    response_model=Page[ItemListOut],
    summary="抽查事项清单版本列表 · List item-list versions",
    description="Published versions are public (seed §(七) 向社会公开); admins also see the "
    "drafts of the lists they write.",
)
async def list_lists(
    level: ListLevel | None = Query(None, description="national / provincial"),
    province: str | None = Query(None, pattern=r"^[0-9]{2}0000$", description="e.g. 330000"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Page[ItemListOut]:
    rows, cursor = await reads.list_versions(uow, by, level, province, page)
    return Page(items=[ItemListOut.of(v) for v in rows], next_cursor=cursor)


@router.get(
    "/item-lists/{list_id}",
    operation_id="registry_item_lists_get",
    response_model=ItemListOut,
    summary="查看抽查事项清单版本 · Get an item-list version",
    description="Answers with an `ETag` to send as `If-Match` when publishing a draft.",
)
async def get_list(
    list_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> JSONResponse:
    lst = await reads.get_list(uow, list_id, by)
    return _with_etag(ItemListOut.of(lst), lst.revision)


@router.post(
    "/item-lists/{list_id}:publish",
    operation_id="registry_item_lists_publish",
    response_model=ItemListOut,
    summary="发布抽查事项清单 · Publish an item list",
    description="Publishes a draft version; it becomes public and immutable, and is in force "
    "from `effective_from` until the next version's. Records `registry.item_list.published.v1` "
    "and, per item, `registry.item.upserted.v1` and `.v2` (with the joint fields). Requires "
    "`If-Match` with the list's ETag.",
    responses=problem_responses(
        service.ITEM_LIST_PUBLISHED,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
        descriptions={409: "Already published · 已发布"},
    ),
)
async def publish_list(
    list_id: UUID,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> JSONResponse:
    lst = await service.publish_list(uow, list_id, if_match, by)
    return _with_etag(ItemListOut.of(lst), lst.revision)


JOINT_QUERY = Query(
    None, description="true: joint cross-department items only; false: the others · 跨部门联合"
)
LEAD_DEPARTMENT_QUERY = Query(
    None, min_length=1, max_length=DEPARTMENT_NAME_MAX, description="Lead department · 发起部门"
)


def _department(name: str | None) -> str | None:
    # Items store the name stripped, as offices' cells are read.
    return None if name is None else name.strip() or None


@router.get(
    "/item-lists/{list_id}/items",
    operation_id="registry_item_list_items_list",
    response_model=Page[ItemOut],
    summary="清单版本中的抽查事项 · Items of a list version",
    description="Every item of one version, withdrawn ones included, in code order. "
    "`joint=true` keeps the joint cross-department items (those with 配合部门), `joint=false` "
    "the others; `lead_department` keeps the items a department leads (发起部门).",
)
async def list_version_items(
    list_id: UUID,
    category: ItemCategory | None = Query(None, description="general 一般 / key 重点"),
    method: Method | None = Query(None, description="检查方式"),
    subject_type: SubjectType | None = Query(None, description="检查对象"),
    joint: bool | None = JOINT_QUERY,
    lead_department: str | None = LEAD_DEPARTMENT_QUERY,
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Page[ItemOut]:
    filters = reads.ItemFilters(
        category=category,
        method=method,
        subject_type=subject_type,
        joint=joint,
        lead_department=_department(lead_department),
    )
    lst, items, cursor = await reads.items_of_version(uow, list_id, by, filters, page)
    return Page(items=[ItemOut.of(lst.list_id, i) for i in items], next_cursor=cursor)


@router.post(
    "/item-lists/{list_id}/items",
    operation_id="registry_item_list_items_create",
    status_code=201,
    response_model=ItemOut,
    summary="新增抽查事项 · Add an item to a draft",
    responses=problem_responses(
        service.ITEM_LIST_CONFLICT,
        service.ITEM_LIST_PUBLISHED,
        descriptions={409: "Code taken, or version published · 编码重复或已发布"},
    ),
)
async def add_item(
    list_id: UUID,
    body: ItemIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> JSONResponse:
    item = await service.add_item(uow, list_id, body.content_of(), by)
    return _with_etag(ItemOut.of(list_id, item), item.version, status=201)


@router.put(
    "/item-lists/{list_id}/items/{item_id}",
    operation_id="registry_item_list_items_update",
    response_model=ItemOut,
    summary="修改抽查事项 · Update an item in a draft",
    description="Replaces the item's content. Requires `If-Match` with the item's ETag. "
    "National items inside a provincial list are read-only (R1).",
    responses=problem_responses(
        service.ITEM_LIST_CONFLICT,
        service.ITEM_LIST_PUBLISHED,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
    ),
)
async def update_item(
    list_id: UUID,
    item_id: UUID,
    body: ItemIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> JSONResponse:
    item = await service.update_item(uow, list_id, item_id, body.content_of(), if_match, by)
    return _with_etag(ItemOut.of(list_id, item), item.version)


_SHEET_BODY = {
    "required": True,
    "description": "The office spreadsheet: header row, then one item per row · 事项清单表格",
    "content": {
        CSV: {
            "schema": {"type": "string"},
            "example": "事项编码,抽查类别,抽查事项,事项类别,检查对象,检查方式,检查主体,检查依据,"
            "监管事项目录编码\r\nSC-001,食品安全,食品生产者生产行为的检查,重点,企业,"
            "现场检查、书面检查,市场监管部门,《食品安全法》第一百一十条,11330000000001\r\n",
        },
        XLSX: {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/item-lists/{list_id}/items:import",
    operation_id="registry_item_list_items_import",
    response_model=BulkReportOut,
    summary="导入抽查事项（表格） · Import items from a spreadsheet",
    description="Upserts rows into a draft by 事项编码, from CSV (UTF-8 or GB18030) or XLSX with "
    "the columns offices use (INTEGRATION_FORMATS.md §3); optional columns add 发起部门, 配合部门 "
    "(department names separated by 、; a row with 配合部门 needs 发起部门), 抽查层级 "
    "(国家级 / 省级 / 市级 / 县级), 检查内容, 最低抽查比例, 权责清单编码, 检查实施清单编码, "
    "适用标签, 所需执法资格 (one qualification code as the inspector directory writes it, e.g. "
    "food_safety) and 状态. A column the file lacks keeps what the list's items hold. "
    "`mode=atomic` "
    "(default): one bad row rejects the file with 422 `/problems/batch-rejected` and nothing is "
    "applied; `mode=per_row`: good rows are applied and the report lists the rejected ones. The "
    "answer is the report of every bulk write: `line` is the row as the spreadsheet numbers it "
    "(header = 1), `key` its 事项编码, and each reason starts with the column heading. A file "
    "without a required column, or without data rows, is 422 `/problems/validation-error`. "
    "Send `Idempotency-Key` to make a retry harmless.",
    openapi_extra={"requestBody": _SHEET_BODY},
    responses=upload_problems(service.ITEM_LIST_CONFLICT, service.ITEM_LIST_PUBLISHED),
)
async def import_items(
    list_id: UUID,
    request: Request,
    mode: Literal["atomic", "per_row"] = Query("atomic", description="atomic 整批 / per_row 逐行"),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_item_list_items_import")),
) -> JSONResponse:
    media_type = media_type_of(request, (CSV, XLSX))
    body, digest = await read_body(request, MAX_IMPORT_BYTES)
    fingerprint = {
        "list_id": str(list_id),
        "mode": mode,
        "sha256": digest,
    }

    async def run() -> BulkReportOut:
        report = await service.import_items(uow, list_id, media_type, body, mode, by)
        return BulkReportOut.of(report)

    return await idempotency.run(uow, by, fingerprint, run)


@router.get(
    "/item-lists/{list_id}/export",
    operation_id="registry_item_lists_export",
    summary="导出抽查事项清单 · Export a list version as a spreadsheet",
    description="The office columns (INTEGRATION_FORMATS.md §3) plus 来源 (总局 / 本省). The "
    "file imports back unchanged. CSV is UTF-8 with a BOM so Excel shows the Chinese headers.",
    response_class=Response,
    responses={200: {"content": {CSV: {}, XLSX: {}}, "description": "The file"}},
)
async def export_list(
    list_id: UUID,
    format: Literal["csv", "xlsx"] = Query("csv", description="csv / xlsx"),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Response:
    lst, items = await reads.export_version(uow, list_id, by)
    rows = [export_row(i) for i in items]
    name = f"抽查事项清单-{lst.family}-v{lst.version}.{format}"
    if format == "csv":
        content, media = write_csv(EXPORT_HEADERS, rows), CSV
    else:
        content, media = write_xlsx(f"{lst.family}-v{lst.version}", EXPORT_HEADERS, rows), XLSX
    disposition = f"attachment; filename=\"item-list.{format}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})


@router.get(
    "/items",
    operation_id="registry_items_list",
    response_model=Page[ItemOut],
    summary="现行抽查事项 · Items in force",
    description="The active items of the list in force for `region` on `on` (default today): "
    "the province's own list once it has one in force, else the national list. Without "
    "`region`, the national list. Public, no token needed.",
)
async def items_in_force(
    region: RegionCode | None = Query(None, description="GB/T 2260, e.g. 330106 · 行政区划"),
    on: date | None = Query(None, description="Date, default today (Asia/Shanghai) · 日期"),
    category: ItemCategory | None = Query(None, description="general 一般 / key 重点"),
    method: Method | None = Query(None, description="检查方式"),
    subject_type: SubjectType | None = Query(None, description="检查对象"),
    joint: bool | None = JOINT_QUERY,
    lead_department: str | None = LEAD_DEPARTMENT_QUERY,
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
) -> Page[ItemOut]:
    filters = reads.ItemFilters(
        category=category,
        method=method,
        subject_type=subject_type,
        joint=joint,
        lead_department=_department(lead_department),
    )
    lst, items, cursor = await reads.items_in_force(uow, region, on or _today(), filters, page)
    list_id = lst.list_id if lst else None
    return Page(items=[ItemOut.of(list_id, i) for i in items if list_id], next_cursor=cursor)


def _today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # A list takes effect on a Chinese calendar day, whatever the server's clock zone.
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


router.include_router(items_guides.router)
