"""HTTP: professional institutions and experts (委托专业机构) that assist entrusted checks (R23)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from shuangsui.contracts.regions import CurrentRegionCode
from shuangsui.contracts.uscc import Uscc
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.concurrency import etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.domain.inspectors import clean_tags
from shuangsui.registry.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionRecord,
    InstitutionStatus,
)
from shuangsui.registry.service.institutions import list_institutions, upsert_institution

router = APIRouter(prefix="/api/v1/registry", tags=["institutions · 委托专业机构"])

KEEPERS = (Role.provincial_admin, Role.department_admin)
READERS = (*KEEPERS, Role.partner_admin, Role.station_staff, Role.inspector, Role.reviewer,
           Role.auditor)  # fmt: skip


class InstitutionIn(BaseModel):
    institution_id: UUID | None = Field(
        None, description="Set to replace that entry; else matched by USCC or created · 机构编号"
    )
    uscc: Uscc | None = Field(None, description="Required except for experts · 统一社会信用代码")
    name: str = Field(min_length=1, max_length=100, description="名称 / 专家姓名")
    kind: InstitutionKind = Field(description="testing 检验检测 / inspection 检查 / "
                                  "certification 认证 / expert 专家")  # fmt: skip
    region_code: CurrentRegionCode = Field(description="Registering jurisdiction · 行政区划代码")
    qualifications: list[str] = Field(default=[], max_length=50, description="资质")
    valid_until: date | None = Field(None, description="Qualification valid until · 资质有效期至")
    status: InstitutionStatus = Field(InstitutionStatus.active, description="状态")

    model_config = {
        "json_schema_extra": {
            "examples": [{"uscc": "91350100M000100Y43", "name": "某检验检测有限公司",
                          "kind": "testing", "region_code": "330100",
                          "qualifications": ["CMA"], "valid_until": "2027-12-31"}]
        }
    }  # fmt: skip


class InstitutionOut(BaseModel):
    institution_id: UUID = Field(description="机构编号")
    uscc: str | None = Field(description="统一社会信用代码")
    name: str = Field(description="名称")
    kind: InstitutionKind = Field(description="类别")
    region_code: str = Field(description="行政区划代码")
    qualifications: list[str] = Field(description="资质")
    valid_until: date | None = Field(description="资质有效期至")
    status: InstitutionStatus = Field(description="状态")
    version: int = Field(description="版本")

    @classmethod
    def of(cls, i: Institution) -> InstitutionOut:
        r = i.record
        return cls(
            institution_id=i.institution_id, uscc=r.uscc, name=r.name, kind=r.kind,
            region_code=r.region_code, qualifications=list(r.qualifications),
            valid_until=r.valid_until, status=r.status, version=i.version,
        )  # fmt: skip


@router.put(
    "/institutions",
    operation_id="registry_institutions_upsert",
    response_model=InstitutionOut,
    summary="登记委托专业机构 · Upsert a professional institution or expert",
    description="Creates the entry (201) or replaces the one with this `institution_id`, or "
    "else this USCC (200).",
)
async def upsert(
    body: InstitutionIn,
    response: Response,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
) -> InstitutionOut:
    record = InstitutionRecord(
        name=body.name.strip(), kind=body.kind, region_code=body.region_code, uscc=body.uscc,
        qualifications=clean_tags(body.qualifications), valid_until=body.valid_until,
        status=body.status,
    )  # fmt: skip
    saved, created = await upsert_institution(uow, body.institution_id, record, by)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag_of(saved.version)
    return InstitutionOut.of(saved)


@router.get(
    "/institutions",
    operation_id="registry_institutions_list",
    response_model=Page[InstitutionOut],
    summary="查询委托专业机构 · List professional institutions and experts",
)
async def list_all(
    kind: InstitutionKind | None = Query(None, description="类别"),
    qualification: str | None = Query(None, max_length=60, description="资质"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> Page[InstitutionOut]:
    after = None
    if page.after is not None:
        try:
            after = UUID(str(page.after.get("id")))
        except ValueError:
            raise p.Problem(p.INVALID_CURSOR) from None
    rows = await list_institutions(
        uow, RegionScope.of(by), kind.value if kind else None, qualification, after,
        page.limit + 1,
    )  # fmt: skip
    items, cursor = page.page(rows, lambda i: {"id": str(i.institution_id)})
    return Page[InstitutionOut](items=[InstitutionOut.of(i) for i in items], next_cursor=cursor)
