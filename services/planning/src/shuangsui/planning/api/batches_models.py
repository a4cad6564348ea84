"""Request and response bodies of batches (抽查批次) and joint invitations (联合检查邀请).

The request carries the draft in its own field names (DOMAIN §3.2); pydantic checks the types
and vocabularies, the domain every rule, so a broken rule comes back with its stable code
(`batch-refused`) rather than as a schema error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shuangsui.planning.domain.batch_documents import draft_document, draft_of
from shuangsui.planning.domain.batch_lifecycle import REASON_MAX, BatchStatus
from shuangsui.planning.domain.batch_overlap import Overlap
from shuangsui.planning.domain.batch_records import (
    DECLINE_REASON_MAX,
    Batch,
    Invitation,
    InvitationStatus,
)
from shuangsui.planning.domain.batch_values import (
    CLUE_REF_MAX,
    NAME_MAX,
    NOTE_MAX,
    TEAM_SIZE_MAX,
    BatchDraft,
    DrawMode,
    ExclusionReason,
    JointKind,
    Method,
    Origin,
    SelectionMode,
)

_ITEM = "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11"
_EXAMPLE: dict[str, Any] = {
    "name": "2026年第一批餐饮服务单位双随机抽查",
    "item_ids": [_ITEM],
    "scope": {
        "region_codes": ["330106"],
        "subject_types": [],
        "tag_filters": [],
        "industry_codes": [],
        "risk_classes": [],
    },
    "quantity": {"A": "3%", "B": "1/10", "C": "30%", "D": 20},
    "window_start": "2026-04-01",
    "window_end": "2026-06-30",
    "methods": ["on_site", "documentary"],
    "selection_mode": "bureau_wide",
    "station_group": [],
    "origin": "random",
    "draw_mode": "undirected",
    "team_size": 2,
    "entry_deadline_rule": {"kind": "window_end"},
    "exclusion_policy": [{"reason": "INSPECTED_RECENTLY", "months": 12}],
    "joint_kind": "none",
    "participant_org_ids": [],
    "risk_domain": "general",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeIn(_Body):
    region_codes: list[str] = Field(
        max_length=500,
        description="Regions of your jurisdiction the batch draws from (抽查区域, R8)",
    )
    subject_types: list[Literal["enterprise", "individual", "cooperative", "other"]] = Field(
        default_factory=list, max_length=4, description="Subject types; directed only (对象类型)"
    )
    tag_filters: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Tags `dimension:value`; within a dimension any, every dimension named must "
        "match; directed only (标签条件)",
    )
    industry_codes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="GB/T 4754 codes, each with every code below it; directed only (行业)",
    )
    risk_classes: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="Credit risk classes drawn; empty: all four; directed only (信用风险分类)",
    )


class EntryDeadlineIn(_Body):
    kind: Literal["window_end", "workdays_after_window_end", "workdays_after_task_start"] = Field(
        "window_end",
        description="window_end 执行期结束 · workdays_after_window_end 执行期结束后N个工作日 · "
        "workdays_after_task_start 任务启动后N个工作日 (录入期限, R26)",
    )
    workdays: int | None = Field(None, ge=0, le=1000, description="N for the workdays kinds")


class ExclusionIn(_Body):
    reason: ExclusionReason = Field(description="DRAW_SPEC B.7 reason code (排除原因)")
    months: int | None = Field(
        None, ge=0, le=1200, description="The period of INSPECTED_/REGISTERED_RECENTLY (月数)"
    )
    note: str | None = Field(
        None, max_length=NOTE_MAX, description="OTHER_WITH_NOTE's public note (说明)"
    )


class BatchIn(_Body):
    """A batch's draft (抽查批次草稿)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(max_length=NAME_MAX, description="Batch name · 批次名称")
    item_ids: list[UUID] = Field(
        max_length=100, description="Items in force in the plan's list (抽查事项, R1, R8)"
    )
    scope: ScopeIn = Field(description="抽查范围")
    quantity: dict[str, StrictInt | str] = Field(
        description="Per risk class drawn (A–D): a ratio as `5%` or `1/20`, or a count "
        "(抽查比例或数量, R11, R12)",
        examples=[{"A": "3%", "B": "1/10", "C": "30%", "D": 20}],
    )
    window_start: date = Field(description="Execution window start, in the plan year · 执行开始")
    window_end: date = Field(description="Execution window end · 执行结束")
    methods: list[Method] = Field(
        max_length=4,
        description="on_site 现场 · documentary 书面 · online 网络 · entrusted 委托专业机构 "
        "(检查方式, R23)",
    )
    selection_mode: SelectionMode = Field(
        description="bureau_wide 全局内随机 · hq_and_stations 局机关与所随机 · station_group "
        "若干所内随机 · single_station 单一所内随机 (选派模式, R16)"
    )
    station_group: list[str] = Field(
        default_factory=list, max_length=200, description="Stations of station_group mode (所组)"
    )
    origin: Origin = Field(
        Origin.random,
        description="random 双随机 · key_supervision 重点监管 · clue_targeted 线索核查 (R9)",
    )
    key_supervision_item_id: UUID | None = Field(
        None, description="The key-supervision item of a key_supervision batch (重点监管事项)"
    )
    clue_ref: str | None = Field(
        None, max_length=CLUE_REF_MAX, description="The clue record of a clue_targeted batch"
    )
    draw_mode: DrawMode = Field(
        DrawMode.undirected,
        description="undirected 不定向 · directed 定向, narrowed by the scope's conditions (R15)",
    )
    team_size: int = Field(2, ge=0, le=TEAM_SIZE_MAX, description="Officers per team (R18)")
    entry_deadline_rule: EntryDeadlineIn = Field(
        default_factory=EntryDeadlineIn, description="录入期限规则"
    )
    exclusion_policy: list[ExclusionIn] = Field(
        default_factory=list, max_length=10, description="排除规则 (DRAW_SPEC B.7)"
    )
    joint_kind: JointKind = Field(
        JointKind.none,
        description="none 单部门 · internal 内部综合 (R10) · cross_department 跨部门联合 (R20)",
    )
    participant_org_ids: list[UUID] = Field(
        default_factory=list, max_length=20, description="Orgs taking part beside you (参与单位)"
    )
    risk_domain: str = Field(
        "general", max_length=40, description="Classification the strata refer to (分类领域)"
    )

    def draft(self) -> BatchDraft:
        return draft_of(self.model_dump(mode="json"))


class InvitationOut(BaseModel):
    org_id: UUID = Field(description="The invited partner org (受邀单位)")
    department_type: str = Field(description="Its department type (部门类型)")
    item_ids: list[UUID] = Field(description="The batch's items its department checks (负责事项)")
    status: InvitationStatus = Field(
        description="pending 待确认 · confirmed 已确认 · declined 已拒绝"
    )
    reason: str | None = Field(description="Why it declined (拒绝原因)")
    responded_by: str | None = Field(
        description="Who answered; shown to the lead and the partners only (答复人)"
    )
    responded_at: datetime | None = Field(description="When (答复时间)")

    @classmethod
    def of(cls, invitation: Invitation, answerers: bool) -> InvitationOut:
        out = cls.model_validate(invitation, from_attributes=True)
        return out if answerers else out.model_copy(update={"responded_by": None})


class OverlapOut(BaseModel):
    """R10 warning: two of your batches could visit one subject while both windows are open;
    consider one internal joint batch (内部综合)."""

    batch_id: UUID = Field(description="The other batch (重叠批次)")
    batch_code: str | None = Field(description="Its public code, once published (批次编号)")
    from_day: date = Field(description="First day both windows are open (重叠起)")
    to_day: date = Field(description="Last day both windows are open (重叠止)")
    region_codes: list[str] = Field(description="Where they meet (重叠区域)")

    @classmethod
    def of(cls, overlap: Overlap, batch_id: UUID) -> OverlapOut:
        other = overlap.second if overlap.first.batch_id == batch_id else overlap.first
        return cls(
            batch_id=other.batch_id, batch_code=other.batch_code, from_day=overlap.from_day,
            to_day=overlap.to_day, region_codes=list(overlap.region_codes),
        )  # fmt: skip


class BatchOut(BatchIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17", "batch_code": "330106202603150001",
        "plan_id": "1f4e2d3c-6b7a-4c8d-9e0f-a1b2c3d4e5f6", "added_in_version": 1,
        "org_id": "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b", "status": "published", "revision": 2,
        **_EXAMPLE, "invitations": [], "published_at": "2026-03-15T02:00:00Z",
        "published_in_version": 1, "cancelled_in_version": None, "cancel_reason": None,
        "cancelled_from": None, "cancelled_at": None, "overlaps": [],
    }]})  # fmt: skip

    batch_id: UUID = Field(description="批次标识")
    batch_code: str | None = Field(
        description="Public code region(6)+date(8)+sequence(4), given at publication (批次编号)"
    )
    plan_id: UUID = Field(description="The annual plan (年度计划)")
    added_in_version: int = Field(description="The plan version that added it (所属计划版本)")
    org_id: UUID = Field(description="The lead org (牵头单位)")
    status: BatchStatus = Field(
        description="draft 草稿 · published 已发布 · drawing 抽取中 · drawn 已抽取 · in_progress "
        "检查中 · completed 已完成 · cancelled 已撤销 (DOMAIN §5.2)"
    )
    revision: int = Field(description="Send as `If-Match` with the next change (修订号)")
    invitations: list[InvitationOut] = Field(
        description="Partners of a cross-department batch and their answers (联合检查邀请)"
    )
    published_at: datetime | None = Field(description="发布时间")
    published_in_version: int | None = Field(description="The plan version that published it")
    cancelled_in_version: int | None = Field(
        description="The adjustment that cancels it; effective when that version is published "
        "(撤销所在版本, R7)"
    )
    cancel_reason: str | None = Field(description="撤销原因")
    cancelled_from: BatchStatus | None = Field(description="The status it was cancelled from")
    cancelled_at: datetime | None = Field(description="撤销时间")
    overlaps: list[OverlapOut] = Field(
        description="Your other batches that could visit the same subjects in an overlapping "
        "window (R10: combine them); computed when the batch is written or read alone"
    )

    @classmethod
    def of(
        cls, batch: Batch, overlaps: list[Overlap] | None = None, *, answerers: bool = False
    ) -> BatchOut:
        """`answerers`: whether the caller may see who answered each invitation (the lead and
        the partners; never the public)."""
        return cls.model_validate(
            {
                **draft_document(batch.draft),
                "batch_id": batch.batch_id,
                "batch_code": batch.batch_code,
                "plan_id": batch.plan_id,
                "added_in_version": batch.added_in_version,
                "org_id": batch.org_id,
                "status": batch.status,
                "revision": batch.revision,
                "invitations": [InvitationOut.of(i, answerers) for i in batch.invitations],
                "published_at": batch.published_at,
                "published_in_version": batch.published_in_version,
                "cancelled_in_version": batch.cancelled_in_version,
                "cancel_reason": batch.cancel_reason,
                "cancelled_from": batch.cancelled_from,
                "cancelled_at": batch.cancelled_at,
                "overlaps": [OverlapOut.of(o, batch.batch_id) for o in overlaps or []],
            }
        )  # fmt: skip


class CancelIn(_Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "计划调整：并入第二批联合抽查"}]}
    )

    reason: str = Field(max_length=REASON_MAX, description="Why it is cancelled (撤销原因, R7)")


class InvitationAnswerIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"accept": True, "item_ids": [_ITEM]},
                                        {"accept": False, "reason": "本季度无检查力量"}]},
    )  # fmt: skip

    accept: bool = Field(description="true confirms, false declines (确认或拒绝)")
    item_ids: list[UUID] = Field(
        default_factory=list,
        max_length=100,
        description="With a confirmation: exactly the batch's items your department checks "
        "(确认事项)",
    )
    reason: str | None = Field(
        None, max_length=DECLINE_REASON_MAX, description="With a refusal: why (拒绝原因)"
    )
