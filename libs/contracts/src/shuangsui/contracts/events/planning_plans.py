"""Planning events about annual plans (年度抽查计划), DOMAIN.md §3.2.

One plan (`plan_id`, its public `plan_code`) has versions; every event names the version it
is about. Disclosure publishes a plan from `planning.plan.published.v1`; superiors and the
indicators learn of filings (备案) and lateness (R5) from `planning.plan.filed.v1`.

A published version lists its batches as a plan's reader needs them (what, where, how many,
when); what a draw needs is in each batch's own `planning.batch.published.v1`.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.events.planning_batches import StratumQuantity
from shuangsui.contracts.regions import RegionCode

__all__ = [
    "PlanAdjusted",
    "PlanBatchScope",
    "PlanBatchSummary",
    "PlanClosed",
    "PlanFieldChange",
    "PlanFiled",
    "PlanPublished",
]

PLAN_CODE_PATTERN = r"^[0-9]{14}$"
PlanLevel = Literal["national", "provincial", "city", "county"]
_PLAN_ID = "5b0f7a52-3c1e-4d8a-9f0e-7d2c6b1a4e93"
_ORG_ID = "8d6e2f41-0a3b-4c5d-9e7f-1a2b3c4d5e6f"
_PARENT_ID = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanBatchScope(_Part):
    region_codes: list[RegionCode] = Field(description="Regions drawn from (抽查区域).")
    subject_types: list[str] = Field(description="Subject types (检查对象类型).")
    tag_filters: list[str] = Field(description="Tag filters, e.g. `format:餐饮服务` (标签).")
    industry_codes: list[str] = Field(description="GB/T 4754 industry codes (行业).")
    risk_classes: list[Literal["A", "B", "C", "D"]] = Field(
        description="Credit risk classes drawn (信用风险分类)."
    )


class PlanBatchSummary(_Part):
    """One batch of a published plan version, as a plan's reader needs it (not a draw)."""

    batch_id: UUID = Field(description="批次标识")
    batch_code: str = Field(description="Public code, region + date + sequence (批次编号).")
    name: str = Field(description="批次名称")
    status: Literal["published", "drawing", "drawn", "in_progress", "completed"] = Field(
        description="The batch's state when the version was published (批次状态)."
    )
    joint_kind: Literal["none", "internal", "cross_department"] = Field(
        description="none 单部门 · internal 内部综合 · cross_department 跨部门联合 (联合类型)."
    )
    item_ids: list[UUID] = Field(description="Items checked (抽查事项).")
    scope: PlanBatchScope = Field(description="What is drawn from (抽查范围).")
    strata: list[StratumQuantity] = Field(
        description="Per credit risk class drawn, a B.4 ratio or a count (分类抽查比例或数量)."
    )
    window_start: dt.date = Field(description="First day of the window (实施开始).")
    window_end: dt.date = Field(description="Last day of the window (实施结束).")


class PlanFieldChange(_Part):
    field: Literal["title", "description", "period_start", "period_end"] = Field(
        description="The plan field that changed (变更字段)."
    )
    before: str | None = Field(description="Its value in the old version (原值).")
    after: str | None = Field(description="Its value in the new version (新值).")


class PlanFiled(EventPayload):
    """A department's plan version was filed with its superior (备案): the superior has been
    informed. Filing does not approve (Q1); `late` says whether the department submitted it
    after its province's deadline (R5, decided at submission, ADR 0015)."""

    event_type: ClassVar[str] = "planning.plan.filed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": _PLAN_ID,
                    "plan_code": "33010620260001",
                    "org_id": _ORG_ID,
                    "level": "county",
                    "region_code": "330106",
                    "year": 2026,
                    "version": 1,
                    "filed_to_org_id": _PARENT_ID,
                    "submitted_at": "2026-03-30T02:00:00Z",
                    "filed_at": "2026-04-02T01:30:00Z",
                    "deadline": "2026-03-31",
                    "late": False,
                }
            ]
        }
    )

    plan_id: UUID = Field(description="计划标识")
    plan_code: str = Field(pattern=PLAN_CODE_PATTERN, description="计划编号")
    org_id: UUID = Field(description="The department whose plan it is (编制部门).")
    level: PlanLevel = Field(description="计划层级")
    region_code: RegionCode = Field(description="The department's region (行政区划).")
    year: int = Field(description="计划年度")
    version: int = Field(ge=1, description="计划版本")
    filed_to_org_id: UUID | None = Field(
        description="The superior filed with (备案机关); null when the catalogue names no "
        "parent org, e.g. a provincial bureau filing with SAMR."
    )
    submitted_at: AwareDatetime = Field(description="When the department submitted (报送时间).")
    filed_at: AwareDatetime = Field(description="When the superior acknowledged (备案时间).")
    deadline: dt.date = Field(description="The deadline in force at submission (报送期限).")
    late: bool = Field(description="Submitted after the deadline (逾期报送).")


class PlanPublished(EventPayload):
    """A plan version was published (公示, R6); it is public from now on."""

    event_type: ClassVar[str] = "planning.plan.published.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": _PLAN_ID,
                    "plan_code": "33010620260001",
                    "org_id": _ORG_ID,
                    "level": "county",
                    "region_code": "330106",
                    "year": 2026,
                    "version": 1,
                    "title": "西湖区市场监管局2026年度双随机抽查工作计划",
                    "period_start": "2026-01-01",
                    "period_end": "2026-12-31",
                    "published_at": "2026-04-03T08:00:00Z",
                    "late": False,
                    "necips_ref": None,
                    "supersedes_version": None,
                    "batches": [
                        {
                            "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
                            "batch_code": "330106202604030001",
                            "name": "2026年第一批餐饮服务单位双随机抽查",
                            "status": "published",
                            "joint_kind": "none",
                            "item_ids": ["0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11"],
                            "scope": {
                                "region_codes": ["330106"],
                                "subject_types": [],
                                "tag_filters": [],
                                "industry_codes": [],
                                "risk_classes": [],
                            },
                            "strata": [
                                {"stratum": "A", "ratio": "3/100", "count": None},
                                {"stratum": "B", "ratio": "1/10", "count": None},
                                {"stratum": "C", "ratio": "3/10", "count": None},
                                {"stratum": "D", "ratio": None, "count": 20},
                            ],
                            "window_start": "2026-04-01",
                            "window_end": "2026-06-30",
                        }
                    ],
                }
            ]
        }
    )

    plan_id: UUID = Field(description="计划标识")
    plan_code: str = Field(pattern=PLAN_CODE_PATTERN, description="计划编号")
    org_id: UUID = Field(description="编制部门")
    level: PlanLevel = Field(description="计划层级")
    region_code: RegionCode = Field(description="行政区划")
    year: int = Field(description="计划年度")
    version: int = Field(ge=1, description="计划版本")
    title: str = Field(description="计划名称")
    period_start: dt.date = Field(description="计划期间起")
    period_end: dt.date = Field(description="计划期间止")
    published_at: AwareDatetime = Field(description="发布时间")
    late: bool = Field(description="Published after the deadline (逾期公示, R6).")
    necips_ref: str | None = Field(
        description="Reference of the publication on NECIPS, if known (公示系统编号)."
    )
    supersedes_version: int | None = Field(
        description="The version this one replaces; null for the first (被替代版本)."
    )
    batches: list[PlanBatchSummary] = Field(description="The version's batches (抽查批次).")


class PlanAdjusted(EventPayload):
    """A new version of a plan was published in place of the previous one (R7): what changed
    and why. Recorded beside that version's `planning.plan.published.v1`."""

    event_type: ClassVar[str] = "planning.plan.adjusted.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": _PLAN_ID,
                    "plan_code": "33010620260001",
                    "org_id": _ORG_ID,
                    "year": 2026,
                    "old_version": 1,
                    "new_version": 2,
                    "reason": "新增电梯使用单位专项抽查",
                    "changed_fields": [
                        {"field": "period_end", "before": "2026-12-31", "after": "2026-11-30"}
                    ],
                    "added_batch_ids": [],
                    "cancelled_batch_ids": [],
                    "changed_batch_ids": [],
                    "adjusted_at": "2026-06-10T03:00:00Z",
                }
            ]
        }
    )

    plan_id: UUID = Field(description="计划标识")
    plan_code: str = Field(pattern=PLAN_CODE_PATTERN, description="计划编号")
    org_id: UUID = Field(description="编制部门")
    year: int = Field(description="计划年度")
    old_version: int = Field(ge=1, description="The version superseded (原版本).")
    new_version: int = Field(ge=2, description="The version now published (新版本).")
    reason: str = Field(description="调整原因")
    changed_fields: list[PlanFieldChange] = Field(description="Plan fields changed (变更内容).")
    added_batch_ids: list[UUID] = Field(description="Batches added (新增批次).")
    cancelled_batch_ids: list[UUID] = Field(description="Batches cancelled (取消批次).")
    changed_batch_ids: list[UUID] = Field(description="Batches changed (变更批次).")
    adjusted_at: AwareDatetime = Field(description="When the new version was published.")


class PlanClosed(EventPayload):
    """A published plan was closed after its year (年度计划终结)."""

    event_type: ClassVar[str] = "planning.plan.closed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": _PLAN_ID,
                    "plan_code": "33010620260001",
                    "org_id": _ORG_ID,
                    "year": 2026,
                    "version": 2,
                    "closed_at": "2027-01-05T02:00:00Z",
                }
            ]
        }
    )

    plan_id: UUID = Field(description="计划标识")
    plan_code: str = Field(pattern=PLAN_CODE_PATTERN, description="计划编号")
    org_id: UUID = Field(description="编制部门")
    year: int = Field(description="计划年度")
    version: int = Field(ge=1, description="The version that was in force (终结版本).")
    closed_at: AwareDatetime = Field(description="终结时间")
