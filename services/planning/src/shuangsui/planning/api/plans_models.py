"""Request and response bodies of the annual plans (年度抽查计划) and their deadlines."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.planning.domain.deadlines import Standing
from shuangsui.planning.domain.plans import (
    DESCRIPTION_MAX,
    FIRST_YEAR,
    LAST_YEAR,
    NECIPS_REF_MAX,
    REASON_MAX,
    TITLE_MAX,
    ContentChanges,
    PlanLevel,
    PlanStatus,
    PlanVersion,
)
from shuangsui.planning.domain.plans_diff import PlanDiff
from shuangsui.planning.service.plans_deadlines import Deadline, OrgStanding

_PLAN_ID = "5b0f7a52-3c1e-4d8a-9f0e-7d2c6b1a4e93"
_ORG_ID = "8d6e2f41-0a3b-4c5d-9e7f-1a2b3c4d5e6f"
_TITLE = "西湖区市场监管局2026年度双随机抽查工作计划"


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(
        None, max_length=DESCRIPTION_MAX, description="Notes on the plan · 计划说明"
    )
    period_start: date | None = Field(
        None, description="First day of the plan's period, in the plan year · 计划期间起"
    )
    period_end: date | None = Field(
        None, description="Last day of the plan's period, in the plan year · 计划期间止"
    )


class PlanIn(_Content):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"year": 2026, "title": _TITLE, "description": "按照省局统一部署编制"}]
        },
    )

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR, description="Plan year · 计划年度")
    title: str = Field(min_length=1, max_length=TITLE_MAX, description="Title · 计划名称")

    def changes(self) -> ContentChanges:
        return ContentChanges(self.title, self.description, self.period_start, self.period_end)


class PlanChangesIn(_Content):
    """The fields sent replace theirs; the others stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": _TITLE, "period_end": "2026-11-30"}]},
    )

    title: str | None = Field(
        None, min_length=1, max_length=TITLE_MAX, description="Title · 计划名称"
    )

    def changes(self) -> ContentChanges:
        return ContentChanges(self.title, self.description, self.period_start, self.period_end)


class AdjustIn(PlanChangesIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"adjustment_reason": "新增电梯使用单位专项抽查", "period_end": "2026-11-30"}
            ]
        },
    )

    adjustment_reason: str = Field(
        min_length=1, max_length=REASON_MAX, description="Why the plan changes (R7) · 调整原因"
    )


class PublishIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"necips_ref": "GS-3301-2026-0001"}]}
    )

    necips_ref: str | None = Field(
        None,
        max_length=NECIPS_REF_MAX,
        description="Reference of the publication on NECIPS, if known · 公示系统编号",
    )


class PlanOut(BaseModel):
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
                    "status": "filed",
                    "title": _TITLE,
                    "description": "",
                    "period_start": "2026-01-01",
                    "period_end": "2026-12-31",
                    "supersedes_version": None,
                    "adjustment_reason": None,
                    "submitted_at": "2026-03-30T02:00:00Z",
                    "deadline": "2026-03-31",
                    "late": False,
                    "filed_to_org_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                    "filed_at": "2026-04-02T01:30:00Z",
                    "published_at": None,
                    "published_late": False,
                    "necips_ref": None,
                    "closed_at": None,
                    "revision": 4,
                }
            ]
        }
    )

    plan_id: UUID = Field(description="Plan id, the same in every version · 计划标识")
    plan_code: str = Field(
        description="Public code: region(6) + year(4) + sequence(4), the same in every "
        "version · 计划编号"
    )
    org_id: UUID = Field(description="The department whose plan it is · 编制部门")
    level: PlanLevel = Field(description="national / provincial / city / county · 计划层级")
    region_code: str = Field(description="The department's region · 行政区划")
    year: int = Field(description="计划年度")
    version: int = Field(description="计划版本")
    status: PlanStatus = Field(
        description="draft 草稿 / submitted 已报送 / filed 已备案 / published 已公示 / "
        "superseded 已被替代 / closed 已终结 / discarded 已作废 · 状态"
    )
    title: str = Field(description="计划名称")
    description: str = Field(description="计划说明")
    period_start: date = Field(description="计划期间起")
    period_end: date = Field(description="计划期间止")
    supersedes_version: int | None = Field(description="The version it adjusts · 被调整版本")
    adjustment_reason: str | None = Field(description="调整原因")
    submitted_at: datetime | None = Field(description="报送时间")
    deadline: date | None = Field(description="The deadline at submission · 报送期限")
    late: bool = Field(description="Submitted after the deadline (R5) · 逾期报送")
    filed_to_org_id: UUID | None = Field(description="The superior filed with · 备案机关")
    filed_at: datetime | None = Field(description="备案时间")
    published_at: datetime | None = Field(description="公示时间")
    published_late: bool = Field(description="Published after the deadline (R6) · 逾期公示")
    necips_ref: str | None = Field(description="公示系统编号")
    closed_at: datetime | None = Field(description="终结时间")
    revision: int = Field(description="Changes with every change of the version; the ETag · 修订号")

    @classmethod
    def of(cls, plan: PlanVersion) -> PlanOut:
        return cls(
            plan_id=plan.plan_id,
            plan_code=plan.plan_code,
            org_id=plan.org_id,
            level=plan.level,
            region_code=plan.region_code,
            year=plan.year,
            version=plan.version,
            status=plan.status,
            title=plan.content.title,
            description=plan.content.description,
            period_start=plan.content.period_start,
            period_end=plan.content.period_end,
            supersedes_version=plan.supersedes_version,
            adjustment_reason=plan.adjustment_reason,
            submitted_at=plan.submitted_at,
            deadline=plan.deadline,
            late=plan.late,
            filed_to_org_id=plan.filed_to_org_id,
            filed_at=plan.filed_at,
            published_at=plan.published_at,
            published_late=plan.published_late,
            necips_ref=plan.necips_ref,
            closed_at=plan.closed_at,
            revision=plan.revision,
        )


class FieldChangeOut(BaseModel):
    field: str = Field(description="The field · 字段")
    label: str = Field(description="Its Chinese name · 字段名称")
    before: str | None = Field(description="原值")
    after: str | None = Field(description="新值")


class BatchChangesOut(BaseModel):
    added: list[UUID] = Field(description="Batches added · 新增批次")
    cancelled: list[UUID] = Field(description="Batches cancelled · 取消批次")
    changed: list[UUID] = Field(description="Batches changed · 变更批次")


class PlanDiffOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": _PLAN_ID,
                    "from_version": 1,
                    "to_version": 2,
                    "adjustment_reason": "新增电梯使用单位专项抽查",
                    "fields": [
                        {
                            "field": "period_end",
                            "label": "计划期间止",
                            "before": "2026-12-31",
                            "after": "2026-11-30",
                        }
                    ],
                    "batches": {"added": [], "cancelled": [], "changed": []},
                }
            ]
        }
    )

    plan_id: UUID = Field(description="计划标识")
    from_version: int = Field(description="The version before · 原版本")
    to_version: int = Field(description="The version asked for · 新版本")
    adjustment_reason: str | None = Field(description="调整原因")
    fields: list[FieldChangeOut] = Field(description="Plan fields changed · 计划内容变更")
    batches: BatchChangesOut = Field(description="Batch changes (R7) · 批次变更")

    @classmethod
    def of(cls, diff: PlanDiff) -> PlanDiffOut:
        return cls(
            plan_id=diff.plan_id,
            from_version=diff.from_version,
            to_version=diff.to_version,
            adjustment_reason=diff.reason,
            fields=[FieldChangeOut(**vars(c)) for c in diff.fields],
            batches=BatchChangesOut(
                added=list(diff.batches.added),
                cancelled=list(diff.batches.cancelled),
                changed=list(diff.batches.changed),
            ),
        )


class DeadlineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"deadline": "2026-04-15"}]}
    )

    deadline: date = Field(description="Last day to submit, in the plan year · 报送截止日期")


class DeadlineOut(BaseModel):
    province: str = Field(description="省份")
    year: int = Field(description="计划年度")
    deadline: date = Field(description="报送截止日期")
    configured: bool = Field(
        description="Set by the province; false: the default, 31 March (R5) · 省级配置"
    )

    @classmethod
    def of(cls, d: Deadline) -> DeadlineOut:
        return cls(province=d.province, year=d.year, deadline=d.deadline, configured=d.configured)


class OrgStandingOut(BaseModel):
    org_id: UUID = Field(description="机构标识")
    code: str = Field(description="单位编码")
    name: str = Field(description="机构名称")
    level: str = Field(description="层级")
    region_code: str = Field(description="行政区划")
    deadline: date = Field(description="报送截止日期")
    standing: Standing = Field(
        description="on_time 按时报送 / late 逾期报送 / not_submitted 未报送 · 报送情况"
    )
    plan_id: UUID | None = Field(description="计划标识")
    plan_code: str | None = Field(description="计划编号")
    submitted_at: datetime | None = Field(description="报送时间")

    @classmethod
    def of(cls, s: OrgStanding) -> OrgStandingOut:
        return cls(
            org_id=s.org_id,
            code=s.code,
            name=s.name,
            level=s.level,
            region_code=s.region_code,
            deadline=s.deadline,
            standing=s.standing,
            plan_id=s.plan.plan_id if s.plan else None,
            plan_code=s.plan.plan_code if s.plan else None,
            submitted_at=s.plan.submitted_at if s.plan else None,
        )


class DeadlineReportOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "counts": {"on_time": 80, "late": 6, "not_submitted": 4},
                    "orgs": [
                        {
                            "org_id": _ORG_ID,
                            "code": "330106000",
                            "name": "杭州市西湖区市场监督管理局",
                            "level": "county",
                            "region_code": "330106",
                            "deadline": "2026-03-31",
                            "standing": "late",
                            "plan_id": _PLAN_ID,
                            "plan_code": "33010620260001",
                            "submitted_at": "2026-04-02T01:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    year: int = Field(description="计划年度")
    counts: dict[Standing, int] = Field(description="Orgs per standing · 统计")
    orgs: list[OrgStandingOut] = Field(description="Every org in your scope · 各单位报送情况")

    @classmethod
    def of(cls, year: int, standings: list[OrgStanding]) -> DeadlineReportOut:
        counts = {s: 0 for s in Standing}
        for s in standings:
            counts[s.standing] += 1
        return cls(year=year, counts=counts, orgs=[OrgStandingOut.of(s) for s in standings])
