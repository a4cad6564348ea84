"""Overlap groups (名单比对, R22) as the API shows them."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.sampling.domain.overlaps import Department, DrawnSubject, Item, Overlap, Window

_ORG = "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b"
_ITEM: dict[str, str] = {"item_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11", "code": "SPAQ-001",
         "name": "餐饮服务食品安全检查"}  # fmt: skip
_EXAMPLE: dict[str, Any] = {
    "uscc": "91330106MA2B3C4D5E", "name": "杭州西湖某某餐饮有限公司", "region_code": "330106",
    "overlap": {"start": "2026-05-01", "end": "2026-06-30"},
    "window": {"start": "2026-04-01", "end": "2026-07-31"}, "due_on": "2026-06-30",
    "items": [_ITEM, {"item_id": "5d2e1f0a-9b8c-4d7e-a6f5-4e3d2c1b0a98", "code": "TSSB-003",
                      "name": "特种设备使用单位检查"}],
    "batches": [
        {"batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17", "batch_code": "330106202603150001",
         "draw_id": "330106202603150001-01",
         "department": {"org_id": _ORG, "org_code": "330106", "department_type":
                        "market_supervision"},
         "partners": [], "window": {"start": "2026-04-01", "end": "2026-06-30"},
         "items": [_ITEM]},
        {"batch_id": "8b4d0f23-6c75-4e2a-8d3b-1f9a7c5e3b28", "batch_code": "330106202604200002",
         "draw_id": "330106202604200002-01",
         "department": {"org_id": _ORG, "org_code": "330106", "department_type":
                        "market_supervision"},
         "partners": [], "window": {"start": "2026-05-01", "end": "2026-07-31"},
         "items": [{"item_id": "5d2e1f0a-9b8c-4d7e-a6f5-4e3d2c1b0a98", "code": "TSSB-003",
                    "name": "特种设备使用单位检查"}]},
    ],
}  # fmt: skip


class WindowOut(BaseModel):
    start: date = Field(description="First day, included (开始日期)", examples=["2026-04-01"])
    end: date = Field(description="Last day, included (结束日期)", examples=["2026-06-30"])

    @classmethod
    def of(cls, window: Window) -> WindowOut:
        return cls(start=window.start, end=window.end)


class DepartmentOut(BaseModel):
    org_id: UUID = Field(description="机构标识", examples=[_ORG])
    org_code: str = Field(description="Public unit code (单位编码)", examples=["330106"])
    department_type: str = Field(description="部门类型", examples=["market_supervision"])

    @classmethod
    def of(cls, department: Department) -> DepartmentOut:
        return cls(
            org_id=department.org_id,
            org_code=department.org_code,
            department_type=department.department_type,
        )


class ItemOut(BaseModel):
    item_id: UUID = Field(description="事项标识", examples=[_ITEM["item_id"]])
    code: str = Field(description="事项编码", examples=[_ITEM["code"]])
    name: str = Field(description="抽查事项名称", examples=[_ITEM["name"]])

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(item_id=item.item_id, code=item.code, name=item.name)


class OverlapBatchOut(BaseModel):
    """A batch of the group, as its completed draw took the subject."""

    batch_id: UUID = Field(description="批次标识")
    batch_code: str = Field(description="批次编号", examples=["330106202603150001"])
    draw_id: str = Field(
        description="The public code of the draw that selected the subject (抽取编号, B.6)",
        examples=["330106202603150001-01"],
    )
    department: DepartmentOut = Field(description="The lead department (牵头单位)")
    partners: list[DepartmentOut] = Field(
        description="A joint batch's other departments (参与单位, R20); empty otherwise"
    )
    window: WindowOut = Field(description="The batch's execution window (执行期)")
    items: list[ItemOut] = Field(description="The batch's items (抽查事项)")

    @classmethod
    def of(cls, drawn: DrawnSubject) -> OverlapBatchOut:
        lead, *partners = drawn.departments
        return cls(
            batch_id=drawn.batch_id,
            batch_code=drawn.batch_code,
            draw_id=drawn.draw_code,
            department=DepartmentOut.of(lead),
            partners=[DepartmentOut.of(d) for d in partners],
            window=WindowOut.of(drawn.window),
            items=[ItemOut.of(i) for i in drawn.items],
        )


class OverlapOut(BaseModel):
    """One subject drawn by two or more batches whose windows chain into one period: a
    candidate to inspect once (合并检查候选, R22)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    uscc: str = Field(description="统一社会信用代码")
    name: str | None = Field(
        description="The subject's name when its draw completed; null if the read model did not "
        "hold it (名称)"
    )
    region_code: str = Field(description="The subject's region (行政区划代码)")
    overlap: WindowOut = Field(
        description="From the first to the last day on which at least two of the batches are "
        "in execution (重叠期间)"
    )
    window: WindowOut = Field(description="The whole period the batches span (总期间)")
    due_on: date = Field(
        description="The earliest of the batches' window ends: a merged task's due date (R22) "
        "(最早到期日)"
    )
    items: list[ItemOut] = Field(
        description="The union of the batches' items, each once: what a merged task checks "
        "(R22) (合并事项)"
    )
    batches: list[OverlapBatchOut] = Field(
        description="The batches, by window start then batch code (批次)", min_length=2
    )

    @classmethod
    def of(cls, group: Overlap) -> OverlapOut:
        return cls(
            uscc=group.uscc,
            name=group.name,
            region_code=group.region_code,
            overlap=WindowOut.of(group.overlap),
            window=WindowOut.of(group.window),
            due_on=group.due_on,
            items=[ItemOut.of(i) for i in group.items],
            batches=[OverlapBatchOut.of(b) for b in group.batches],
        )
