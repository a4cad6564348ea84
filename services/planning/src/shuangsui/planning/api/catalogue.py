"""HTTP: the items a batch may name (现行抽查事项), read from planning's catalogue read model."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, current_principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.planning.adapters.catalogue import ItemQuery
from shuangsui.planning.domain.catalogue import ItemInForce, PlanLevel
from shuangsui.planning.service import catalogue as reads

router = APIRouter(prefix="/api/v1/planning/catalogue", tags=["catalogue · 抽查事项清单"])


class CatalogueItemOut(BaseModel):
    item_id: UUID = Field(description="Stable across list versions · 事项标识")
    list_id: UUID = Field(description="The list version in force it is read from · 清单版本标识")
    list_level: Literal["national", "provincial"] = Field(
        description="national 总局清单 / provincial 省级清单 · 清单层级"
    )
    list_version: int = Field(description="Version number of that list · 清单版本号")
    origin: Literal["national", "provincial"] = Field(
        description="national 总局事项 (adopted unchanged) / provincial 省级增列事项 · 事项来源"
    )
    code: str = Field(description="Item code · 事项编码", examples=["TZSB-003"])
    name: str = Field(description="Item name · 抽查事项名称", examples=["电梯使用单位检查"])
    business_line: str = Field(description="Business line · 抽查类别", examples=["特种设备"])
    item_category: Literal["general", "key"] = Field(
        description="general 一般检查事项 / key 重点检查事项 · 事项类别"
    )
    allowed_methods: list[str] = Field(
        description="on_site 现场 / documentary 书面 / online 网络 / entrusted 委托专业机构 · "
        "检查方式"
    )
    subject_types: list[str] = Field(description="Subject types it applies to · 检查对象")
    subject_tags: list[str] = Field(
        description="Tags a subject must carry, any within a dimension · 适用标签"
    )
    required_qualification: str | None = Field(
        description="Qualification a drawn inspector must hold, or null · 所需执法资格"
    )
    min_ratio: str | None = Field(
        description="Least share to draw as a reduced fraction (3% = `3/100`), or null · "
        "最低抽查比例",
        examples=["1/20"],
    )
    lead_department: str | None = Field(description="Leading department, or null · 发起部门")
    partner_departments: list[str] = Field(description="Partner departments · 配合部门")
    joint: bool = Field(description="A cross-department joint item · 跨部门联合抽查")
    inspection_level: str | None = Field(
        description="national 国家级 / provincial 省级 / city 市级 / county 县级, or null · 抽查层级"
    )
    version: int = Field(description="The item's content version · 事项版本")

    @classmethod
    def of(cls, item: ItemInForce) -> CatalogueItemOut:
        fields = {name: getattr(item, name) for name in cls.model_fields}
        fields["min_ratio"] = str(item.min_ratio) if item.min_ratio is not None else None
        return cls.model_validate(fields)


@router.get(
    "/items",
    operation_id="planning_catalogue_items_list",
    response_model=Page[CatalogueItemOut],
    summary="可用抽查事项 · Items in force for planning",
    description="The active items of the list in force on `on` (default today, Asia/Shanghai) "
    "for the caller's province, in code order: the province's own list (its items and the "
    "national items it adopts) once a version is in force, else the national list; "
    "`level=national` reads the national list. A national caller reads the national list. "
    "Read from planning's copy of the registry's published lists, as batches are validated.",
    responses=problem_responses(p.UNAUTHENTICATED, p.FORBIDDEN, p.INVALID_CURSOR, p.VALIDATION),
)
async def list_items(
    on: date | None = Query(None, description="Date, default today (Asia/Shanghai) · 日期"),
    level: Literal["national", "provincial"] = Query(
        "provincial", description="provincial 省级清单 (default) / national 总局清单 · 清单层级"
    ),
    item_category: Literal["general", "key"] | None = Query(
        None, description="general 一般 / key 重点 · 事项类别"
    ),
    business_line: str | None = Query(
        None, min_length=1, max_length=40, description="e.g. 特种设备 · 抽查类别"
    ),
    q: str | None = Query(
        None, min_length=1, max_length=60, description="Part of the code or the name · 编码或名称"
    ),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(current_principal),
) -> Page[CatalogueItemOut]:
    RegionScope.of(by)  # a token whose region is no division is refused, not read unscoped
    province = None if by.is_national else f"{by.province}0000"
    plan_level: PlanLevel = "national" if by.is_national or level == "national" else "provincial"
    query = ItemQuery(
        item_category=item_category, business_line=business_line, search=q,
        after_code=page.position("code", str), limit=page.limit + 1,
    )  # fmt: skip
    day = on or shanghai_date(datetime.now(UTC))
    _, rows = await reads.browse_items(uow, province, plan_level, day, query)
    items, cursor = page.page(rows, lambda i: {"code": i.code})
    return Page[CatalogueItemOut](items=[CatalogueItemOut.of(i) for i in items], next_cursor=cursor)
