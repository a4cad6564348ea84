"""Planning events about batches (抽查批次), DOMAIN.md §3.2.

`planning.batch.published.v1` carries everything a draw needs, in the draw's own terms (DRAW_SPEC
Appendix B): sampling builds the IDS-1 inputs from it without calling planning back, and
inspection takes windows, methods and the entry-deadline rule from it. A published batch never
changes; a plan adjustment cancels it (`planning.batch.cancelled.v1`) and publishes a new one.
"""

from __future__ import annotations

import datetime as dt
import re
from math import gcd
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shuangsui.contracts.codes import IndustryCode, Tag, UnitCode
from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.events.registry_items import SubjectCriteria
from shuangsui.contracts.regions import RegionCode

__all__ = [
    "BatchCancelled",
    "BatchItem",
    "BatchParticipant",
    "BatchPublished",
    "BatchScope",
    "EntryDeadline",
    "ExclusionRulePayload",
    "RatioPolicyRef",
    "StratumQuantity",
]

RiskClass = Literal["A", "B", "C", "D"]
Method = Literal["on_site", "documentary", "online", "entrusted"]
BATCH_CODE_PATTERN = r"^[0-9]{6}[0-9]{8}[0-9]{4}$"
RATIO_PATTERN = r"^(0|[1-9][0-9]*)/([1-9][0-9]*)$"
_RATIO = re.compile(RATIO_PATTERN)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BatchItem(_Part):
    """An item of the batch as it stood in the list version in force when the batch was
    published (抽查事项)."""

    item_id: UUID = Field(description="The item (事项标识).")
    list_id: UUID = Field(
        description="The published list version it was taken from (清单版本标识)."
    )
    item_version: int = Field(ge=1, description="The item's content version (事项版本).")
    code: str = Field(description="Item code (事项编码).")
    name: str = Field(description="Item name (抽查事项名称).")
    item_category: Literal["general", "key"] = Field(
        description="general 一般检查事项 or key 重点检查事项 (事项类别)."
    )
    subject_criteria: SubjectCriteria = Field(
        description="Which subjects the item applies to: the population is the subjects in scope "
        "that match at least one item's criteria (检查对象, R15)."
    )
    required_qualification: str | None = Field(
        description="Qualification a drawn inspector must hold, or null (所需执法资格, R17)."
    )
    min_ratio: str | None = Field(
        pattern=RATIO_PATTERN,
        description="The item's least share, as the reduced fraction of DRAW_SPEC B.4, or null "
        "(最低抽查比例).",
    )
    department_type: str | None = Field(
        description="The department that carries the check out, in the orgs' vocabulary; null "
        "when it is the list owner's, the lead's (检查主体)."
    )


class BatchScope(_Part):
    """Where and whom the batch draws from (抽查范围). Empty lists add no condition."""

    region_codes: list[RegionCode] = Field(
        min_length=1, description="Regions of the lead's jurisdiction (行政区划)."
    )
    subject_types: list[Literal["enterprise", "individual", "cooperative", "other"]] = Field(
        description="Subject types (检查对象类型); a directed condition."
    )
    tag_filters: list[Tag] = Field(
        description="Tags; within a dimension any, every dimension named must match (标签条件); "
        "a directed condition."
    )
    industry_codes: list[IndustryCode] = Field(
        description="GB/T 4754 codes, each selecting every code below it (行业); a directed "
        "condition."
    )
    risk_classes: list[RiskClass] = Field(
        description="Credit risk classes drawn (信用风险分类); empty: all four. A directed "
        "condition."
    )


class StratumQuantity(_Part):
    """One IDS-1 stratum (§4.1): a risk class with exactly one of a ratio or a count."""

    stratum: RiskClass = Field(description="The credit risk class (分层).")
    ratio: str | None = Field(
        pattern=RATIO_PATTERN,
        description="Share to draw as the reduced fraction of DRAW_SPEC B.4 (3% = `3/100`) "
        "(抽查比例).",
    )
    count: int | None = Field(
        ge=0, le=2**53 - 1, description="Fixed number to draw; null with a ratio (抽查数量)."
    )

    @field_validator("ratio")
    @classmethod
    def _reduced(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _RATIO.fullmatch(value)
        assert match is not None  # the pattern has already held
        a, b = int(match[1]), int(match[2])
        if a > b or gcd(a, b) != 1:
            raise ValueError("a ratio is a reduced fraction a/b with a ≤ b (DRAW_SPEC B.4)")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> StratumQuantity:
        if (self.ratio is None) == (self.count is None):
            raise ValueError("a stratum has exactly one of ratio and count")
        return self


class EntryDeadline(_Part):
    """When results are due (录入期限, R26): `window_end` (the default, Q10), or `workdays`
    working days after the window end or after the task's initiation (启动)."""

    kind: Literal["window_end", "workdays_after_window_end", "workdays_after_task_start"] = Field(
        description="window_end 执行期结束 · workdays_after_window_end 执行期结束后N个工作日 · "
        "workdays_after_task_start 任务启动后N个工作日."
    )
    workdays: int | None = Field(
        ge=1, description="N for the workdays kinds; null for window_end (工作日数)."
    )

    @model_validator(mode="after")
    def _workdays_with_kind(self) -> EntryDeadline:
        if (self.kind == "window_end") != (self.workdays is None):
            raise ValueError("workdays is given exactly for the workdays kinds")
        return self


class ExclusionRulePayload(_Part):
    """A reason subjects are excluded before the manifest is built (排除规则, DRAW_SPEC B.7)."""

    reason: Literal[
        "INSPECTED_RECENTLY",
        "REGISTERED_RECENTLY",
        "UNDER_INVESTIGATION",
        "DEREGISTERED",
        "KEY_SUPERVISION_SEPARATE",
        "OTHER_WITH_NOTE",
    ] = Field(description="The B.7 code (排除原因).")
    months: int | None = Field(
        ge=1, description="The period of INSPECTED_RECENTLY / REGISTERED_RECENTLY (月数)."
    )
    note: str | None = Field(
        min_length=1,
        max_length=100,
        description="OTHER_WITH_NOTE's public note; committed as `OTHER_WITH_NOTE:<note>` (说明).",
    )


class BatchParticipant(_Part):
    """An org taking part in a joint batch (参与单位)."""

    org_id: UUID = Field(description="The org (机构标识).")
    org_code: UnitCode = Field(
        description="Its public unit code, as its inspectors name their bureau (单位编码)."
    )
    department_type: str = Field(description="Its department type (部门类型).")
    lead_expertise: str | None = Field(
        pattern=r"^[^,]+$",
        description="The qualification its teams' lead must hold, from the items its department "
        "checks (B.5, B.11: each department makes its own team phase); null when none is "
        "required (组长资格).",
    )


class RatioPolicyRef(_Part):
    """The risk-ratio policy an item's quantities were checked against (风险比例策略, R11)."""

    item_id: UUID = Field(description="The item (事项标识).")
    policy_id: UUID | None = Field(description="The policy; null for the platform default.")
    source: Literal[
        "org_item", "province_item", "org", "province", "national", "platform_default"
    ] = Field(
        description="Which policy applied, most specific first: org_item 本单位事项 · "
        "province_item 本省事项 · org 本单位 · province 本省 · national 全国 · platform_default "
        "平台默认 (策略来源)."
    )


_PUBLISHED_EXAMPLE: dict[str, Any] = {
    "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
    "batch_code": "330106202603150001",
    "name": "2026年第一批餐饮服务单位双随机抽查",
    "plan_id": "1f4e2d3c-6b7a-4c8d-9e0f-a1b2c3d4e5f6",
    "plan_code": "33010620260001",
    "plan_version": 1,
    "org_id": "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b",
    "org_code": "330106",
    "org_level": "county",
    "org_region_code": "330106",
    "department_type": "market_supervision",
    "joint_kind": "cross_department",
    "participants": [
        {
            "org_id": "3c9e5a71-2b4d-4f6a-9b0c-1d2e3f4a5b6c",
            "org_code": "330106-WJ",
            "department_type": "health",
            "lead_expertise": None,
        }
    ],
    "origin": "random",
    "key_supervision_item_id": None,
    "clue_ref": None,
    "draw_mode": "directed",
    "items": [
        {
            "item_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
            "list_id": "5c1d0c2a-7e1b-4f57-8d9e-2b6a1f4c9e30",
            "item_version": 2,
            "code": "SPAQ-001",
            "name": "餐饮服务食品安全检查",
            "item_category": "key",
            "subject_criteria": {
                "subject_types": ["enterprise", "individual"],
                "subject_tags": ["format:餐饮服务"],
            },
            "required_qualification": "food_safety",
            "min_ratio": "3/100",
            "department_type": None,
        }
    ],
    "scope": {
        "region_codes": ["330106"],
        "subject_types": ["enterprise"],
        "tag_filters": [],
        "industry_codes": [],
        "risk_classes": [],
    },
    "risk_domain": "general",
    "strata": [
        {"stratum": "A", "ratio": "3/100", "count": None},
        {"stratum": "B", "ratio": "1/10", "count": None},
        {"stratum": "C", "ratio": "3/10", "count": None},
        {"stratum": "D", "ratio": None, "count": 20},
    ],
    "unclassified_drawn_as": "B",
    "risk_ratio_policies": [
        {
            "item_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
            "policy_id": "4d0f6b82-3c5e-4a7b-8c1d-2e3f4a5b6c7d",
            "source": "province_item",
        }
    ],
    "window_start": "2026-04-01",
    "window_end": "2026-06-30",
    "methods": ["on_site", "documentary"],
    "selection_mode": "station_group",
    "station_group": ["330106-01", "330106-02"],
    "team_size": 2,
    "lead_expertise": "food_safety",
    "entry_deadline_rule": {"kind": "window_end", "workdays": None},
    "exclusion_policy": [
        {"reason": "INSPECTED_RECENTLY", "months": 12, "note": None},
        {"reason": "OTHER_WITH_NOTE", "months": None, "note": "停业装修"},
    ],
    "published_at": "2026-03-15T02:00:00Z",
}


class BatchPublished(EventPayload):
    """A batch was published with its plan version (批次发布): from now on it can be drawn (R14).

    Everything the draw takes is here: the strata with their ratios or counts (B.4), the lead
    rule (B.5: `lead_expertise`; the task date is `window_end`), the team size and selection mode
    (B.9, R16, R18), the exclusion policy (B.7). A joint batch names its participants: one phase-A
    draw for all, then each department's own phase B (B.11).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_PUBLISHED_EXAMPLE]})

    event_type: ClassVar[str] = "planning.batch.published.v1"

    batch_id: UUID = Field(description="The batch (批次标识).")
    batch_code: str = Field(
        pattern=BATCH_CODE_PATTERN,
        description="Public code: region(6) + date(8, Asia/Shanghai) + sequence(4); draw codes "
        "derive from it (批次编号, B.6).",
    )
    name: str = Field(min_length=1, max_length=200, description="批次名称")
    plan_id: UUID = Field(description="The annual plan (年度计划标识).")
    plan_code: str = Field(description="The plan's public code (计划编号).")
    plan_version: int = Field(ge=1, description="The plan version that published it (计划版本).")
    org_id: UUID = Field(description="The lead org (牵头单位).")
    org_code: UnitCode = Field(description="The lead org's public unit code (单位编码).")
    org_level: Literal["national", "provincial", "city", "county", "station"] = Field(
        description="The lead org's level; a multi-county bureau_wide batch is drawn per county "
        "pool (B.10) (层级)."
    )
    org_region_code: RegionCode = Field(description="The lead org's region (行政区划代码).")
    department_type: str = Field(description="The lead org's department type (部门类型).")
    joint_kind: Literal["none", "internal", "cross_department"] = Field(
        description="none 单部门 · internal 内部综合 (R10) · cross_department 跨部门联合 (R20) "
        "(联合类型)."
    )
    participants: list[BatchParticipant] = Field(
        description="Orgs taking part beside the lead, with their departments (参与单位)."
    )
    origin: Literal["random", "key_supervision", "clue_targeted"] = Field(
        description="random 双随机 · key_supervision 重点监管 · clue_targeted 线索核查 (R9) (来源)."
    )
    key_supervision_item_id: UUID | None = Field(
        description="The key-supervision item of a key_supervision batch (重点监管事项)."
    )
    clue_ref: str | None = Field(description="The clue record of a clue_targeted batch (线索).")
    draw_mode: Literal["undirected", "directed"] = Field(
        description="undirected 不定向: the items' subjects in the regions; directed 定向: narrowed "
        "by the scope's conditions (R15) (抽取方式)."
    )
    items: list[BatchItem] = Field(min_length=1, description="The items checked (抽查事项).")
    scope: BatchScope = Field(description="抽查范围")
    risk_domain: str = Field(
        pattern=r"^[a-z][a-z_]{0,39}$",
        description="The classification the strata refer to: general or a field such as food "
        "(分类领域, B.2).",
    )
    strata: list[StratumQuantity] = Field(
        min_length=1,
        description="Per risk class, in byte order: the commitment's strata as they are to be "
        "committed (分层抽取, R11, R12).",
    )
    unclassified_drawn_as: RiskClass = Field(
        description="The class subjects without one are drawn in (未分类对象按此类抽取, Q4)."
    )
    risk_ratio_policies: list[RatioPolicyRef] = Field(
        min_length=1,
        description="Per item, the policy its quantities were checked against (风险比例策略).",
    )
    window_start: dt.date = Field(description="Execution window start (执行开始日期).")
    window_end: dt.date = Field(
        description="Execution window end; the draw's task_date (B.5) (执行结束日期)."
    )
    methods: list[Method] = Field(
        min_length=1,
        description="on_site 现场 · documentary 书面 · online 网络 · entrusted 委托专业机构 "
        "(检查方式).",
    )
    selection_mode: Literal["bureau_wide", "hq_and_stations", "station_group", "single_station"] = (
        Field(
            description="bureau_wide 全局内随机 · hq_and_stations 局机关与所随机 · station_group "
            "若干所内随机 · single_station 单一所内随机 (R16, B.9) (选派模式)."
        )
    )
    station_group: list[UnitCode] = Field(
        description="The stations of the station_group mode; empty otherwise (所组)."
    )
    team_size: int = Field(ge=2, le=1000, description="Officers per team (R18) (检查组人数).")
    lead_expertise: str | None = Field(
        pattern=r"^[^,]+$",
        description="The qualification the lead department's team leads must hold, from the items "
        "it checks (B.5); null when none is required (组长资格).",
    )
    entry_deadline_rule: EntryDeadline = Field(description="录入期限规则")
    exclusion_policy: list[ExclusionRulePayload] = Field(
        description="Reasons subjects are excluded before the draw; empty: none (Q6) (排除规则)."
    )
    published_at: AwareDatetime = Field(description="发布时间")

    @model_validator(mode="after")
    def _draw_expressible(self) -> BatchPublished:
        names = [s.stratum for s in self.strata]
        if names != sorted(set(names)):
            raise ValueError("strata are named once each, in byte order (IDS-1 §4.1)")
        if self.window_start > self.window_end:
            raise ValueError("the window ends before it starts")
        if [p.item_id for p in self.risk_ratio_policies] != [i.item_id for i in self.items]:
            raise ValueError("risk_ratio_policies names each item once, in the items' order")
        if (self.selection_mode == "station_group") != bool(self.station_group):
            raise ValueError("station_group is given exactly for the station_group mode")
        return self


class BatchCancelled(EventPayload):
    """A batch was cancelled by a plan adjustment (批次撤销, R7): it is kept in history, its open
    tasks are cancelled, and a draw that did not start is never made."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
                    "batch_code": "330106202603150001",
                    "plan_id": "1f4e2d3c-6b7a-4c8d-9e0f-a1b2c3d4e5f6",
                    "reason": "计划调整：并入第二批联合抽查",
                    "cancelled_from": "drawn",
                    "cancelled_at": "2026-05-06T08:30:00Z",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "planning.batch.cancelled.v1"

    batch_id: UUID = Field(description="批次标识")
    batch_code: str = Field(pattern=BATCH_CODE_PATTERN, description="批次编号")
    plan_id: UUID = Field(description="年度计划标识")
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why it was cancelled, as the department stated it (撤销原因).",
    )
    cancelled_from: Literal["published", "drawn", "in_progress"] = Field(
        description="The status it left: published (not drawn yet), drawn or in_progress (tasks "
        "exist) (撤销前状态)."
    )
    cancelled_at: AwareDatetime = Field(description="撤销时间")
